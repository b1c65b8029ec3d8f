"""The Rayleigh quotient behind A_min's competitive ratio (Chen, Ye, Zhou 2025; docs/model.md §7.3).

``CR(u) = max over x > 0 of x^T A_u x / x^T B_u x`` with, for i, j = 1..u,
``a_ij = min(i,j)^2 / (i j) * ((i+j)^2 / 2 - min(i,j)^2)`` and ``b_ij = min(i,j)^2``
(the fluid limit M -> infinity, one common interval [1, u], so alpha = 1/u). ``x_i`` is
the share of requests whose true length is i; the maximiser is reported normalised to
sum 1.

``B_u`` is positive definite: with the tail sums ``X_k = x_k + ... + x_u``,
``x^T B_u x = sum_k (2k - 1) X_k^2`` (``min(i,j)^2 = sum_{k <= min(i,j)} (2k - 1)``), a sum
of squares with positive weights of an invertible transform of x. Both matrices have
positive entries, and for ``j <= i``: ``a_ij = i j / 2 + j^2 - j^3 / (2 i)``, so ``A x`` and
``B x`` cost O(u) with prefix sums (:func:`a_times`, :func:`b_times`).

Two independent computations:

* :func:`eigen_max`: the top generalised eigenpair of (A_u, B_u) by dense
  ``scipy.linalg.eigh`` (O(u^3); a few seconds at u = 3000). Its eigenvalue is the maximum
  over all x != 0, so it is CR(u) exactly when its eigenvector is strictly positive (up to
  sign); otherwise it is only an upper bound on the orthant maximum.
* :func:`orthant_max`: direct maximisation over the closed orthant x >= 0 (same supremum
  as x > 0 by continuity) with L-BFGS-B on the quotient, in the diagonally scaled
  variables ``z_i = i x_i`` (unit diagonal of B), O(u) per evaluation; it never looks at
  the eigenvector. Its KKT residual is reported (support: ``(A x)_i = R (B x)_i``; off the
  support: ``(A x)_i <= R (B x)_i``). A local method: it certifies a KKT point, not a
  global maximum, which is why the eigenvector test decides whenever it can.

:func:`rayleigh` runs both and reports which one gave ``cr``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np
import scipy.linalg
import scipy.optimize


def _check_u(u: int) -> int:
    if isinstance(u, bool) or int(u) != u or u < 1:
        raise ValueError(f"u must be an integer >= 1, got {u!r}")
    return int(u)


def a_entry(i: int, j: int) -> Fraction:
    """``a_ij`` as an exact rational (i, j >= 1)."""
    m = min(i, j)
    return Fraction(m * m, i * j) * (Fraction((i + j) ** 2, 2) - m * m)


def a_matrix(u: int) -> np.ndarray:
    """Dense ``A_u`` (float64)."""
    u = _check_u(u)
    idx = np.arange(1, u + 1, dtype=float)
    i, j = np.meshgrid(idx, idx, indexing="ij")
    m = np.minimum(i, j)
    return m * m / (i * j) * ((i + j) ** 2 / 2 - m * m)


def b_matrix(u: int) -> np.ndarray:
    """Dense ``B_u`` (float64): ``b_ij = min(i, j)^2``."""
    u = _check_u(u)
    idx = np.arange(1, u + 1, dtype=float)
    return np.minimum.outer(idx, idx) ** 2


def _suffix_after(v: np.ndarray) -> np.ndarray:
    """``out[i] = sum_{j > i} v[j]``."""
    out = np.zeros_like(v)
    out[:-1] = np.cumsum(v[::-1])[::-1][1:]
    return out


def b_times(x: np.ndarray) -> np.ndarray:
    """``B_u x`` in O(u): ``(B x)_i = sum_{j <= i} j^2 x_j + i^2 sum_{j > i} x_j``."""
    x = np.asarray(x, dtype=float)
    i = np.arange(1, len(x) + 1, dtype=float)
    return np.cumsum(i * i * x) + i * i * _suffix_after(x)


def a_times(x: np.ndarray) -> np.ndarray:
    """``A_u x`` in O(u), from ``a_ij = i j / 2 + j^2 - j^3 / (2 i)`` for ``j <= i``."""
    x = np.asarray(x, dtype=float)
    i = np.arange(1, len(x) + 1, dtype=float)
    lower = (i / 2) * np.cumsum(i * x) + np.cumsum(i * i * x) - np.cumsum(i ** 3 * x) / (2 * i)
    upper = (i / 2) * _suffix_after(i * x) + i * i * _suffix_after(x) - (i ** 3 / 2) * _suffix_after(x / i)
    return lower + upper


def quotient(x: Sequence[float]) -> float:
    """``x^T A_u x / x^T B_u x`` with ``u = len(x)`` (x >= 0, not all zero)."""
    x = np.asarray(x, dtype=float)
    return float(x @ a_times(x) / (x @ b_times(x)))


def quotient_exact(x: Sequence) -> Fraction:
    """The quotient in exact rational arithmetic (for small u and rational x)."""
    x = [Fraction(v) for v in x]
    u = len(x)
    num = sum(x[i] * x[j] * a_entry(i + 1, j + 1) for i in range(u) for j in range(u))
    den = sum(x[i] * x[j] * min(i + 1, j + 1) ** 2 for i in range(u) for j in range(u))
    return num / den


def kkt_residual(x: np.ndarray, a_mv=None, b_mv=None) -> float:
    """Largest relative violation of the orthant KKT conditions at ``x >= 0``:
    ``|(A x)_i - R (B x)_i| / |R (B x)_i|`` on the support, its positive part off it
    (where ``(B x)_i = 0`` the largest ``|R (B x)_j|`` normalises instead).
    ``a_mv`` / ``b_mv``: the products (default :func:`a_times`, :func:`b_times`)."""
    x = np.asarray(x, dtype=float)
    ax, bx = (a_mv or a_times)(x), (b_mv or b_times)(x)
    r = float(x @ ax / (x @ bx))
    scale = np.abs(r) * np.where(bx != 0, np.abs(bx), np.abs(bx).max())
    g = (ax - r * bx) / scale
    viol = np.where(x > 0, np.abs(g), np.maximum(g, 0.0))
    return float(viol.max())


@dataclass(frozen=True)
class EigenResult:
    value: float          #: top generalised eigenvalue of (A_u, B_u)
    vector: np.ndarray    #: its eigenvector, sign fixed so the sum is positive, normalised to sum 1
    positive: bool        #: every entry strictly positive: then ``value`` = CR(u)


@dataclass(frozen=True)
class OrthantResult:
    value: float          #: quotient at the maximiser found
    vector: np.ndarray    #: maximiser over x >= 0, normalised to sum 1
    iterations: int
    kkt: float            #: :func:`kkt_residual` at the maximiser
    support: int          #: number of strictly positive entries


def eigen_max(u: int) -> EigenResult:
    """Top generalised eigenpair by dense ``scipy.linalg.eigh(A_u, B_u)`` (B_u is positive
    definite, so the Cholesky-based solver applies; it raises if B_u were not)."""
    u = _check_u(u)
    w, v = scipy.linalg.eigh(a_matrix(u), b_matrix(u), subset_by_index=[u - 1, u - 1])
    vec = v[:, 0]
    if vec.sum() < 0:
        vec = -vec
    positive = bool(np.all(vec > 0))
    return EigenResult(float(w[0]), vec / vec.sum(), positive)


def maximise_on_orthant(a_mv, b_mv, x0: np.ndarray, scale: np.ndarray, max_iter: int = 100_000):
    """L-BFGS-B on ``-x'Ax / x'Bx`` over ``x = scale * z``, ``z >= 0`` (B positive definite
    on the orthant). ``a_mv`` / ``b_mv`` compute ``A x`` / ``B x``. Returns ``(x, iterations)``
    with x normalised to sum 1."""

    def neg_quotient(z):
        x = z * scale
        ax, bx = a_mv(x), b_mv(x)
        den = x @ bx
        r = x @ ax / den
        return -r, -2.0 * (ax - r * bx) * scale / den

    z0 = np.asarray(x0, dtype=float) / scale
    z0 = z0 / np.sqrt(z0 @ b_mv(z0 * scale))
    res = scipy.optimize.minimize(
        neg_quotient, z0, jac=True, method="L-BFGS-B", bounds=[(0.0, None)] * len(z0),
        options={"maxiter": max_iter, "maxfun": 2 * max_iter, "ftol": 1e-16, "gtol": 1e-14, "maxcor": 30},
    )
    x = np.maximum(res.x, 0.0) * scale
    return x / x.sum(), int(res.nit)


def orthant_max(u: int, x0: Sequence[float] | None = None, max_iter: int = 100_000) -> OrthantResult:
    """Maximise the quotient over ``x >= 0`` by L-BFGS-B in the scaled variables
    ``z_i = i x_i``, started from ``x_i ~ 1/i`` unless ``x0`` is given."""
    u = _check_u(u)
    scale = 1.0 / np.arange(1, u + 1, dtype=float)
    x, nit = maximise_on_orthant(a_times, b_times, scale if x0 is None else x0, scale, max_iter)
    return OrthantResult(quotient(x), x, nit, kkt_residual(x), int(np.count_nonzero(x > 0)))


@dataclass(frozen=True)
class RayleighRow:
    u: int
    cr: float
    method: str           #: "eigen" (positive top eigenvector) or "orthant"
    maximiser: np.ndarray
    cr_eig: float | None
    cr_orthant: float
    eig_positive: bool | None
    orthant_kkt: float
    orthant_iterations: int

    def to_dict(self, maximiser: bool = True) -> dict:
        d = {"u": self.u, "cr": self.cr, "method": self.method}
        if maximiser:
            d["maximiser"] = [float(v) for v in self.maximiser]
        d.update(cr_eig=self.cr_eig, cr_orthant=self.cr_orthant, eig_positive=self.eig_positive,
                 orthant_kkt=self.orthant_kkt, orthant_iterations=self.orthant_iterations,
                 ln_u=float(np.log(self.u)))
        return d


def rayleigh(u: int, eigen: bool = True) -> RayleighRow:
    """CR(u) by both methods. ``cr`` is the eigenvalue when the top eigenvector is strictly
    positive (method "eigen"); otherwise the orthant maximum (method "orthant"), which is
    then the answer (the eigenvalue only bounds it from above). ``eigen=False`` skips the
    O(u^3) eigen solve (for u beyond a few thousand)."""
    u = _check_u(u)
    orth = orthant_max(u)
    eig = eigen_max(u) if eigen else None
    if eig is not None and eig.positive:
        cr, method, vec = eig.value, "eigen", eig.vector
    else:
        cr, method, vec = orth.value, "orthant", orth.vector
    return RayleighRow(u, cr, method, vec, None if eig is None else eig.value, orth.value,
                       None if eig is None else eig.positive, orth.kkt, orth.iterations)
