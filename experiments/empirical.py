"""Empirical competitive ratios (docs/model.md §7.3): every heuristic against a certified optimum
on small instances, and the online policies against H-SF on large ones.

Denominators. A ratio row always says what it was divided by (``denominator``):

- ``"proven-optimum"``: :func:`kvsched.models.certify.certify` proved OPT (incumbent == ceil(bound));
  ``ratio`` = ALG / OPT exactly.
- ``"bound-only"``: no optimum was proven. ``ratio`` is left empty; ALG / OPT lies in
  ``[ratio_lower, ratio_upper]`` = ``[ALG / best known, ALG / ceil(bound)]``.
- ``"H-SF"``: large instances, ``ratio`` = ALG / H-SF (MC-SF with the true lengths, the
  hindsight benchmark of Chen et al.), which is itself only an upper bound on OPT.

Algorithms (:data:`ALGORITHMS`): the offline heuristics of :data:`heuristics.HEURISTICS`
(true lengths, all four Sorted-F selectors) and the online policies of
:mod:`heuristics.online` simulated with the instance's intervals (none given: ``[1, M - s_i]``,
nothing known), A_min under both conventions. Policy seeds are fixed (0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

from kvsched import heuristics
from kvsched.heuristics.online import run_policy
from kvsched.instance import Instance
from kvsched.models.certify import certify
from kvsched.result import Result, ceil_bound

PROVEN = "proven-optimum"
BOUND_ONLY = "bound-only"
HSF = "H-SF"


@dataclass(frozen=True)
class Algo:
    """One algorithm as the ratio tables name it: ``kind`` "offline" (:func:`heuristics.run`)
    or "online" (:func:`heuristics.online.run_policy`), registry ``name`` and ``params``."""

    label: str
    kind: str
    name: str
    params: Mapping = field(default_factory=dict)

    def run(self, inst: Instance) -> Result:
        """The validated result of this algorithm on ``inst``."""
        if self.kind == "offline":
            return heuristics.run(self.name, inst, **dict(self.params))
        if self.kind == "online":
            return run_policy(self.name, inst, **dict(self.params))
        raise ValueError(f"unknown kind {self.kind!r}")


OFFLINE = (
    Algo("fcfs", "offline", "fcfs"),
    Algo("mcsf", "offline", "mcsf"),
    Algo("sorted-f/dp", "offline", "sorted-f", {"selector": "dp"}),
    Algo("sorted-f/scaled-dp", "offline", "sorted-f", {"selector": "scaled-dp"}),
    Algo("sorted-f/swap", "offline", "sorted-f", {"selector": "swap"}),
    Algo("sorted-f/quantile", "offline", "sorted-f", {"selector": "quantile"}),
    Algo("largest-batch", "offline", "largest-batch"),
)
ONLINE = (
    Algo("amax", "online", "amax", {"seed": 0}),
    Algo("amin/W", "online", "amin", {"seed": 0, "convention": "W"}),
    Algo("amin/V1", "online", "amin", {"seed": 0, "convention": "V1"}),
)
ALGORITHMS = OFFLINE + ONLINE
BY_LABEL = {a.label: a for a in ALGORITHMS}


def algorithm(label: str) -> Algo:
    """The :class:`Algo` called ``label`` (e.g. ``"sorted-f/dp"``, ``"amin/W"``)."""
    if label not in BY_LABEL:
        raise KeyError(f"unknown algorithm {label!r}; known: {', '.join(BY_LABEL)}")
    return BY_LABEL[label]


def opt_ratio(alg: int, cert: Result) -> dict:
    """ALG against a certificate: the exact ratio only when the optimum is proven."""
    proven = cert.optimal
    return {
        "alg": int(alg),
        "opt": int(cert.objective) if proven else None,
        "best_known": int(cert.objective),
        "bound": float(cert.bound),
        "denominator": PROVEN if proven else BOUND_ONLY,
        "ratio": alg / cert.objective if proven else None,
        "ratio_lower": alg / cert.objective,
        "ratio_upper": alg / max(1, ceil_bound(cert.bound)),
    }


def certify_small(inst: Instance, time_limit: float = 20.0, threads: int = 1, deterministic: bool = False) -> Result:
    """:func:`certify` with in-process solver limits (no hard-limit child: small instances)."""
    return certify(inst, time_limit=time_limit, threads=threads, seed=0, hard_limit=False, deterministic=deterministic)


def ratio_rows(inst: Instance, cert: Optional[Result] = None, algos: Sequence[Algo] = ALGORITHMS,
               time_limit: float = 20.0) -> list:
    """One row per algorithm: label, ALG and its ratio to the certified optimum of ``inst``."""
    cert = cert or certify_small(inst, time_limit)
    return [{"algorithm": a.label, **opt_ratio(a.run(inst).objective, cert)} for a in algos]


def hsf_ratio(alg: int, hsf: int) -> dict:
    """ALG against H-SF's TEL (denominator "H-SF", no proven optimum involved)."""
    return {"alg": int(alg), "opt": None, "best_known": int(hsf), "bound": None, "denominator": HSF,
            "ratio": alg / hsf, "ratio_lower": None, "ratio_upper": None}


def hsf_rows(inst: Instance, algos: Sequence[Algo] = ONLINE) -> list:
    """One row per online policy: its TEL over H-SF's on ``inst``."""
    h = run_policy("hsf", inst).objective
    return [{"algorithm": a.label, **hsf_ratio(a.run(inst).objective, h)} for a in algos]
