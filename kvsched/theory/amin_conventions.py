"""A_min's conventions in the fluid limit (issue 5 item 6): which reading reproduces CR(u)?

Instance (:func:`fluid_instance`): lengths 1..u in the proportions of the maximiser x of the
Rayleigh quotient x'A_u x / x'B_u x, read as request counts per length (``n_k = round(n1 x_k /
x_1)``, ``n1`` requests of length 1), every request with prompt ``s`` (small) and the common
interval ``[1, u]``, all at round 0, ``M = m_factor (s + u)`` (large). The ratio measured is
A_min's TEL over H-SF's (H-SF, MC-SF with the true lengths, is optimal to within O(1/M) on
these instances up to the s/M terms, as in the paper's analysis).

Conventions measured (:data:`CONVENTIONS`; the options exist in :mod:`heuristics.online`):

- ``convention``: "W" (overdue: refine to g, charged flat s + g at t + 1; cancelled
  o~ = g + 1; one seeded random priority per request) or "V1" (refine to g + 1, charged
  growing; fresh random ties at every overflow and re-queue). The order inside a round is the
  same for both: completions, refinement, admission, overflow resolution, processing.
- ``ties``: the tie rule among equal estimates o~, ``"random"`` (seeded, averaged over
  ``seeds``), ``"index"`` (request order, i.e. the listing by ascending length),
  ``"shorts-first"`` and ``"longs-first"`` (an injected order by the true length: the
  favourable and the adversarial rule, which a policy cannot know but an adversary chooses).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from heuristics.online import run_policy
from kvsched.instance import Instance

from .rayleigh import rayleigh

CONVENTIONS = ("W", "V1")
TIES = ("random", "index", "shorts-first", "longs-first")


def counts(x: Sequence[float], n1: int) -> list:
    """Requests per length 1..u: ``round(n1 x_k / x_1)``, at least 1."""
    x = np.asarray(x, dtype=float)
    return [max(1, int(round(n1 * v / x[0]))) for v in x]


def fluid_instance(u: int, n1: int = 1000, s: int = 1, m_factor: int = 100) -> Instance:
    """The fluid-limit instance of the module docstring, listed by ascending length."""
    o = [k for k, c in enumerate(counts(rayleigh(u).maximiser, n1), 1) for _ in range(c)]
    n = len(o)
    return Instance(m_factor * (s + u), (s,) * n, tuple(o), (0,) * n, (1,) * n, (u,) * n,
                    name=f"amin-fluid-u{u}-n1{n1}-s{s}-m{m_factor}")


def tie_order(inst: Instance, ties: str):
    """The ``tie_break`` argument of :func:`heuristics.online.amin` for a tie rule."""
    if ties in ("random", "index"):
        return ties
    sign = 1 if ties == "shorts-first" else -1
    if ties not in ("shorts-first", "longs-first"):
        raise ValueError(f"unknown tie rule {ties!r}; known: {TIES}")
    order = np.lexsort((np.arange(inst.n), sign * inst.o))
    rank = np.empty(inst.n, dtype=np.int64)
    rank[order] = np.arange(inst.n)
    return rank


@dataclass(frozen=True)
class Measurement:
    u: int
    cr: float
    convention: str
    ties: str
    ratio: float          #: mean over seeds of A_min TEL / H-SF TEL
    ratio_max: float      #: worst seed
    seeds: int
    n: int
    M: int
    cancellations: float  #: mean cancelled runs

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def measure(u: int, n1: int = 1000, s: int = 1, m_factor: int = 100, conventions=CONVENTIONS,
            ties=TIES, seeds: Sequence[int] = (0, 1, 2)) -> list:
    """A_min / H-SF on :func:`fluid_instance` for every convention and tie rule."""
    inst = fluid_instance(u, n1, s, m_factor)
    cr = rayleigh(u).cr
    hsf = run_policy("hsf", inst).objective
    out = []
    for conv in conventions:
        for tie in ties:
            use = tuple(seeds) if tie == "random" or conv == "V1" else (0,)
            ratios, cancels = [], []
            for seed in use:
                res = run_policy("amin", inst, seed=seed, convention=conv, tie_break=tie_order(inst, tie))
                ratios.append(res.objective / hsf)
                cancels.append(res.report.cancelled_runs)
            out.append(Measurement(u, cr, conv, tie, float(np.mean(ratios)), float(np.max(ratios)), len(use),
                                   inst.n, inst.M, float(np.mean(cancels))))
    return out
