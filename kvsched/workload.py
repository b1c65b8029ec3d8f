"""An LMSYS-like conversation workload (Chen, Ye, Zhou's 2,000-conversation sample).

Published statistics of that sample (Chen, Ye, Zhou 2025): inputs 1-468, mean 41, median 11,
variance 4,961; outputs 1-883, mean 85, median 43, variance 9,702 (tokens).

Model: each length follows a generalised gamma law (``scipy.stats.gengamma``, shape ``a``,
power ``c``, ``scale``), discretised by rounding up (value ``k`` gets the mass of
``(k - 1, k]``) and truncated to ``[1, max]``. Its three parameters solve the three
equations mean / variance / median exactly: they were found once by :func:`fit_gengamma`
(Nelder-Mead on the squared relative errors, computed on the exact pmf, no sampling; the
median taken from the linearly interpolated CDF) and are stored in :data:`GENGAMMA`.
Tried and rejected: a single lognormal (two parameters: misses the output mean by 8 %) and a
two-lognormal mixture (matches, but its output fit is bimodal with the median in a gap, so a
2,000-sample median came out at 18.5 instead of 43).
Inputs and outputs are independent unless ``rho`` is given (Gaussian copula); the published
statistics say nothing about their dependence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
from scipy import optimize, stats

from .instance import Instance


@dataclass(frozen=True)
class Target:
    lo: int
    hi: int
    mean: float
    median: float
    var: float


#: the published statistics of the 2,000-conversation sample
TARGETS = {
    "input": Target(1, 468, 41, 11, 4961),
    "output": Target(1, 883, 85, 43, 9702),
}

#: (a, c, scale) of the generalised gamma, from fit_gengamma (see module doc)
GENGAMMA = {
    "input": (0.6220151465893664, 0.627379888813403, 61.95314251072021),
    "output": (0.08000283241826525, 4.350476656077899, 350.3959942238137),
}


def gengamma_pmf(params: Sequence[float], hi: int) -> np.ndarray:
    """pmf on ``1..hi`` of the rounded-up, truncated generalised gamma."""
    a, c, scale = params
    cdf = stats.gengamma.cdf(np.arange(0, hi + 1, dtype=float), a, c, scale=scale)
    p = np.diff(cdf)
    return p / p.sum()


def pmf_stats(p: np.ndarray) -> dict:
    """Mean, median, variance of a pmf on ``1..len(p)``; ``median_interp`` is the linearly
    interpolated CDF's 0.5-quantile (the smooth quantity the fit uses)."""
    k = np.arange(1, p.size + 1)
    mean = float((k * p).sum())
    var = float(((k - mean) ** 2 * p).sum())
    c = np.cumsum(p)
    j = int(np.searchsorted(c, 0.5))
    return {"mean": mean, "median": int(k[j]), "var": var,
            "median_interp": float(k[j] + 0.5 - (c[j] - 0.5) / p[j])}


def fit_gengamma(target: Target) -> tuple:
    """Least squares on the relative errors of mean, variance and interpolated median, in
    log-parameters, from three fixed starts; returns (a, c, scale)."""

    def loss(x):
        p = gengamma_pmf(np.exp(x), target.hi)
        if not np.all(np.isfinite(p)):
            return 1e9
        st = pmf_stats(p)
        return (((st["mean"] - target.mean) / target.mean) ** 2 + ((st["var"] - target.var) / target.var) ** 2
                + ((st["median_interp"] - target.median) / target.median) ** 2)

    x0 = np.array([0.0, -1.0, 2.0])
    with np.errstate(all="ignore"):
        best = min((optimize.minimize(loss, x0 + d, method="Nelder-Mead",
                                      options={"maxiter": 20000, "xatol": 1e-10, "fatol": 1e-18})
                    for d in (0.0, 0.5, -0.5)), key=lambda r: r.fun)
    return tuple(float(v) for v in np.exp(best.x))


def sample_lengths(kind: str, n: int, rng: np.random.Generator, z: Optional[np.ndarray] = None) -> np.ndarray:
    """``n`` lengths of ``kind`` ("input" or "output"); ``z``: standard normals to map through
    the quantile function (for a copula), drawn here when absent."""
    tgt = TARGETS[kind]
    cdf = np.cumsum(gengamma_pmf(GENGAMMA[kind], tgt.hi))
    u = stats.norm.cdf(z) if z is not None else rng.random(n)
    return np.minimum(np.searchsorted(cdf, u, side="right") + 1, tgt.hi).astype(np.int64)


def lmsys_like(n: int, M: Optional[int] = None, seed: int = 0, rho: float = 0.0,
               arrivals: Optional[Sequence[int]] = None, name: str = "") -> Instance:
    """``n`` LMSYS-like requests (all at 0 unless ``arrivals``). ``M`` defaults to
    ``468 + 883``, the least memory that admits every possible request."""
    rng = np.random.default_rng(seed)
    if rho:
        z = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=n)
        s, o = sample_lengths("input", n, rng, z[:, 0]), sample_lengths("output", n, rng, z[:, 1])
    else:
        s, o = sample_lengths("input", n, rng), sample_lengths("output", n, rng)
    M = TARGETS["input"].hi + TARGETS["output"].hi if M is None else M
    a = tuple(int(x) for x in arrivals) if arrivals is not None else ()
    return Instance(M, tuple(s.tolist()), tuple(o.tolist()), a, name=name or f"lmsys-like-n{n}-seed{seed}")


def closeness(instance: Optional[Instance] = None) -> list:
    """Rows (quantity, stat, target, model pmf, sample) comparing the published statistics
    with the fitted model and, if given, a sample's prompts / outputs (variance ddof = 1)."""
    rows = []
    for kind, values in (("input", None if instance is None else instance.s),
                         ("output", None if instance is None else instance.o)):
        tgt, st = TARGETS[kind], pmf_stats(gengamma_pmf(GENGAMMA[kind], TARGETS[kind].hi))
        model = {"min": 1, "max": tgt.hi, "mean": st["mean"], "median": st["median"], "var": st["var"]}
        sample = None if values is None else {
            "min": int(values.min()), "max": int(values.max()), "mean": float(values.mean()),
            "median": float(np.median(values)), "var": float(values.var(ddof=1))}
        for key in ("min", "max", "mean", "median", "var"):
            rows.append((kind, key, getattr(tgt, {"min": "lo", "max": "hi"}.get(key, key)), model[key],
                         None if sample is None else sample[key]))
    return rows


def closeness_table(instance: Optional[Instance] = None) -> str:
    """:func:`closeness` as a markdown table."""
    def fmt(v):
        return "-" if v is None else f"{v:,.2f}" if isinstance(v, float) else f"{v:,}"

    lines = ["| length | stat | target | model (exact pmf) | sample |", "|---|---|---|---|---|"]
    for kind, key, tgt, model, sample in closeness(instance):
        lines.append(f"| {kind} | {key} | {fmt(tgt)} | {fmt(model)} | {fmt(sample)} |")
    return "\n".join(lines)
