"""A_min's conventions in the fluid limit (docs/model.md §4.3): which reading reproduces CR(u)?

Instance (:func:`fluid_instance`): lengths 1..u in the proportions of the maximiser x of the
Rayleigh quotient x'A_u x / x'B_u x, read as request counts per length (``n_k = round(n1 x_k /
x_1)``, ``n1`` requests of length 1), every request with prompt ``s`` (small) and the common
interval ``[1, u]``, all at round 0, ``M = m_factor (s + u)`` (large). The ratio measured is
A_min's TEL over H-SF's (H-SF, MC-SF with the true lengths, is optimal to within O(1/M) on
these instances up to the s/M terms, as in the paper's analysis).

Conventions measured (:data:`kvsched.heuristics.online.CONVENTIONS`, where they are implemented):

- ``convention``: "W" (overdue: refine to g, charged flat s + g at t + 1; cancelled
  o~ = g + 1; one seeded random priority per request) or "V1" (refine to g + 1, charged
  growing; fresh random ties at every overflow and re-queue). The order inside a round is the
  same for both: completions, refinement, admission, overflow resolution, processing.
- ``order``: the order inside a round. ``"admit-first"`` (:mod:`heuristics.online`, docs/model.md §4.3):
  completions, refinement, admission (W: overdue charged flat at t + 1), overflow resolution
  (which may cancel a request admitted this round, i.e. not admit it), processing.
  ``"resolve-first"`` (:class:`ResolveFirstAmin`): completions, refinement, overflow
  resolution of the running set, then admission with the exact next-round memory check
  ``sum (s_i + g_i + 1) + s + 1 <= M`` on top of the belief check (so admission itself never
  overflows); a request cancelled this round waits at least until the next one.
- ``ties``: the tie rule among equal estimates o~, ``"random"`` (seeded, averaged over
  ``seeds``), ``"index"`` (request order, i.e. the listing by ascending length),
  ``"shorts-first"`` and ``"longs-first"`` (an injected order by the true length: the
  favourable and the adversarial rule, which a policy cannot know but an adversary chooses).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from kvsched.heuristics.online import CONVENTIONS, BeliefPolicy, amin, run_policy, tie_priorities
from kvsched.instance import Instance
from kvsched.result import Result
from kvsched.simulator import Decision, PolicyView, run_online
from kvsched.theory.rayleigh import rayleigh

ORDERS = ("admit-first", "resolve-first")
TIES = ("random", "index", "shorts-first", "longs-first")


class ResolveFirstAmin(BeliefPolicy):
    """A_min with overflow resolution before admission (order ``"resolve-first"``)."""

    def on_round(self, view: PolicyView) -> Optional[Decision]:
        t = view.t
        for i in self.profile.pop_completed(t):  # refine: believed completion passed -> overdue
            if i in self.start:
                self.overdue.add(i)
        cancelled = []
        if self.base_sum + self.R * (t + 1) > self.M:
            victims = self._resolve_overflow(t, set())
            cancelled = [i for i in victims if victims[i]]
        held = set(cancelled)
        if held:  # cancelled this round: not readmitted before the next round
            self.queue = [e for e in self.queue if e[2] not in held]
            heapq.heapify(self.queue)
        admitted = self._admit(t, relief=0, check_always=True)  # exact next-round memory
        for i in held:
            self._push(i)
        return self._decision(t, admitted, cancelled)


def run_amin(inst: Instance, seed: int = 0, tie_break="random", convention: str = "W",
             order: str = "admit-first") -> Result:
    """A_min on ``inst`` with the given conventions, simulated and validated."""
    if order == "admit-first":
        policy = amin(inst, seed=seed, tie_break=tie_break, convention=convention)
    elif order == "resolve-first":
        lowers = [1 if x is None else x for x in inst.lowers]
        policy = ResolveFirstAmin("amin", lowers, tie_priorities(inst, tie_break, seed), convention=convention,
                                  seed=seed)
    else:
        raise ValueError(f"unknown order {order!r}; known: {ORDERS}")
    return run_online(inst, policy, params={"convention": convention, "order": order}, seed=seed)


def counts(x: Sequence[float], n1: int) -> list:
    """Requests per length 1..u: ``round(n1 x_k / x_1)``, at least 1."""
    x = np.asarray(x, dtype=float)
    return [max(1, int(round(n1 * v / x[0]))) for v in x]


def fluid_instance(u: int, n1: int = 1000, s: int = 1, m_factor: int = 100, L: int = 1) -> Instance:
    """The fluid-limit instance of the module docstring, listed by ascending length; with
    ``L > 1`` every length is scaled by ``L`` (lengths ``L, 2L, ..., uL``, interval
    ``[L, uL]``, so still alpha = 1/u) and ``M = m_factor (s + uL)``."""
    if L < 1:
        raise ValueError(f"L must be >= 1, got {L}")
    o = [k * L for k, c in enumerate(counts(rayleigh(u).maximiser, n1), 1) for _ in range(c)]
    n = len(o)
    return Instance(m_factor * (s + u * L), (s,) * n, tuple(o), (0,) * n, (L,) * n, (u * L,) * n,
                    name=f"amin-fluid-u{u}-L{L}-n1{n1}-s{s}-m{m_factor}")


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
    order: str
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
            ties=TIES, seeds: Sequence[int] = (0, 1, 2), orders=("admit-first",)) -> list:
    """A_min / H-SF on :func:`fluid_instance` for every order, convention and tie rule."""
    inst = fluid_instance(u, n1, s, m_factor)
    cr = rayleigh(u).cr
    hsf = run_policy("hsf", inst).objective
    out = []
    for order in orders:
        for conv in conventions:
            for tie in ties:
                use = tuple(seeds) if tie == "random" or conv == "V1" else (0,)
                ratios, cancels = [], []
                for seed in use:
                    res = run_amin(inst, seed=seed, tie_break=tie_order(inst, tie), convention=conv, order=order)
                    ratios.append(res.objective / hsf)
                    cancels.append(res.report.cancelled_runs)
                out.append(Measurement(u, cr, conv, order, tie, float(np.mean(ratios)), float(np.max(ratios)),
                                       len(use), inst.n, inst.M, float(np.mean(cancels))))
    return out
