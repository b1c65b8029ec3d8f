"""Closed-form competitive-ratio bounds (docs/model.md §7.3), as functions of their parameter.

* A_max (Chen et al.), one common interval [l, u], ``alpha = l / u``:
  ``alpha^-1 (1 + alpha^-1/2) / 2 <= CR(A_max) <= alpha^-1 (1 + alpha^-1) / 2 (+ O(1/M))``,
  where ``alpha^-1/2`` is ``alpha^(-1/2)`` (the talk's typesetting). At alpha = 1/4:
  lower 4 (1 + 2) / 2 = 6, upper 4 (1 + 4) / 2 = 10; at alpha = 1 both are 1.
* A_min: CR(A_min) = CR(u) of :mod:`kvsched.theory.rayleigh` with ``alpha = 1 / u``
  (interval [1, u]); :func:`amin_curve` evaluates it on integer u.
* SF / FCFS with heterogeneous prompts: the talk's ``(2/13) sqrt(M)`` lower bound.
* Sorted-F: the talk's constant 48 (all arrivals at 0, s_i, o_i small relative to M).
"""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np

SORTED_F_UPPER = 48.0  #: the talk's chain 1 * 4 * 2 * 1 * 6 (ALG <= ... <= 48 OPT)


def _alpha(alpha) -> np.ndarray:
    a = np.asarray(alpha, dtype=float)
    if np.any(~(a > 0)) or np.any(a > 1):
        raise ValueError(f"alpha must lie in (0, 1], got {alpha!r}")
    return a


def amax_lower(alpha):
    """``alpha^-1 (1 + alpha^-1/2) / 2``: attained by the :func:`~kvsched.theory.families.amax_family`."""
    a = _alpha(alpha)
    return (1 + a ** -0.5) / (2 * a)


def amax_upper(alpha):
    """``alpha^-1 (1 + alpha^-1) / 2`` (without the O(1/M) term)."""
    a = _alpha(alpha)
    return (1 + 1 / a) / (2 * a)


def sf_lower(M):
    """The talk's claimed ``(2/13) sqrt(M)`` lower bound on CR(SF) and CR(FCFS)."""
    m = np.asarray(M, dtype=float)
    if np.any(m < 1):
        raise ValueError(f"M must be >= 1, got {M!r}")
    return 2.0 / 13.0 * np.sqrt(m)


def amin_curve(us: Iterable[int]) -> list:
    """``[(u, alpha = 1/u, CR(u), method)]`` for the given u (both methods run)."""
    from .rayleigh import rayleigh

    rows = []
    for u in us:
        r = rayleigh(int(u))
        rows.append((r.u, 1.0 / r.u, r.cr, r.method))
    return rows


def fit_log(us, values) -> tuple:
    """Least-squares ``values ~ a + b ln u``; returns ``(a, b, rms residual, max |residual|)``."""
    x = np.log(np.asarray(us, dtype=float))
    y = np.asarray(values, dtype=float)
    design = np.column_stack([np.ones_like(x), x])
    (a, b), *_ = np.linalg.lstsq(design, y, rcond=None)
    res = y - (a + b * x)
    return float(a), float(b), float(math.sqrt(np.mean(res ** 2))), float(np.abs(res).max())
