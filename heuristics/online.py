"""Online policies under prediction uncertainty (docs/model.md §4; Chen, Ye, Zhou 2025).

All policies are one mechanism, :class:`BeliefPolicy`, with different believed lengths
``o~_i`` and priorities:

- H-SF: ``o~_i = o_i`` handed in by the caller (hindsight oracle); priority ``(o_i, a_i, i)``;
  identical to :func:`heuristics.baselines.mcsf`.
- A_max: ``o~_i = u_i``; priority ``(u_i, random tie)``. Never cancels when ``o_i <= u_i``.
- A_min: ``o~_i = l_i`` (several disjoint intervals: the lower end of the request's own
  interval), raised as tokens are generated; priority ``(o~_i, random tie)``.
- MC-SF / FCFS with point predictions: ``o~_i = ceil(point_i (1 + margin))``; priority
  ``(o~_i, a_i, i)`` resp. ``(a_i, i)``.

Every round ``t`` (after the simulator removed finished requests, which frees their memory
unless ``reuse_freed=False``):

(ii) refine: a running request with ``t - p_i >= o~_i`` (it generated ``g_i = t - p_i``
     tokens and has not finished, so ``o_i > g_i``) is *overdue*. Convention ``"V1"``
     (default): ``o~_i = g_i + 1``, the least length consistent with what was observed,
     believed to complete next round, charged as growing: ``s_i + g_i + 1`` at round ``t + 1``.
     ``"W"``: ``o~_i = g_i``; the future check charges it its current memory ``s_i + g_i`` at the
     next round ``t + 1`` and nothing after. With lengths scaled up (the fluid regime of the
     CR(u) theorem, ``results/theory.md``) both readings, and both in-round orders, reach the same
     A_min / H-SF; they differ only when lengths are a few rounds, where W's flat charge
     under-counts the next round's memory by one token per overdue request.
(iii) admit: waiting requests in priority order while the future check of
     :class:`heuristics.engine.FutureProfile` (shared with the offline engine) passes at
     every believed completion round of the non-overdue requests, the prefix rule. With overdue requests present, round
     ``t + 1`` is checked too: non-overdue and newly admitted requests at their true memory
     there (a candidate ``s + 1``), overdue ones as (ii) says. (Charging a candidate ``s`` at
     round ``t`` instead, the talk's time convention, lets A_min over-admit when ``s`` is
     small: at commit 6fc4ad5 it measured 1.46 > 1.25 at ``u = 2``, ``s = 1``; this reading
     measures 1.22-1.25 there, see ``results/bench_online.md`` and ``results/theory.md``.)
(iv) resolve overflow: while the true next-round memory ``sum (s_i + g_i + 1)`` exceeds ``M``,
     cancel running requests in ascending ``(o~_i, tie)``; a cancelled request keeps what it
     learned: ``o~_i = max(o~_i, g_i + 1)`` under W (for an overdue request exactly
     ``g_i + 1``, docs/model.md §4.3; a request cut before reaching its estimate learned nothing
     new and keeps ``o~_i``), ``max(o~_i, g_i)`` under V1 (with ``o~_i = g_i + 1`` when
     overdue). A request admitted in this same round and cancelled at once is simply not
     admitted. Ties: W uses one seeded random priority per request for admission and
     cancellation; V1 draws a fresh random tie whenever a request re-enters the queue and
     a fresh random order among equal ``o~`` at every overflow.

Beliefs are capped at ``M - s_i``: the model guarantees ``s_i + o_i <= M``, so that much is
public knowledge.
"""

from __future__ import annotations

import heapq
import math
from typing import Optional, Sequence, Union

import numpy as np

from kvsched.instance import Instance
from kvsched.result import Result
from kvsched.simulator import Decision, Policy, PolicyView, run_online

from .engine import FutureProfile

CONVENTIONS = ("W", "V1")
#: the default refinement convention: V1 (``o~_i = g_i + 1``, a valid lower bound on ``o_i``; see the module doc)
DEFAULT_CONVENTION = "V1"


def tie_priorities(instance: Instance, tie_break: Union[str, Sequence[int]], seed: int = 0) -> np.ndarray:
    """Tie-break ranks (smaller first): ``"random"`` (seeded permutation), ``"index"``,
    ``"arrival"`` (rank of ``(a_i, i)``) or an explicit sequence of ranks (an injected order)."""
    n = instance.n
    if isinstance(tie_break, str):
        if tie_break == "random":
            return np.random.default_rng(seed).permutation(n)
        if tie_break == "index":
            return np.arange(n)
        if tie_break == "arrival":
            rank = np.empty(n, dtype=np.int64)
            rank[np.lexsort((np.arange(n), instance.a))] = np.arange(n)
            return rank
        raise ValueError(f"unknown tie_break {tie_break!r}")
    ranks = np.asarray(tie_break, dtype=np.int64)
    if ranks.shape != (n,):
        raise ValueError(f"tie_break order has {ranks.size} entries for {n} requests")
    return ranks


class BeliefPolicy(Policy):
    """Admission on believed lengths with refinement and overflow cancellation (module doc)."""

    def __init__(self, name: str, beliefs: Sequence[int], ties: Sequence[int], order: str = "belief",
                 convention: str = DEFAULT_CONVENTION, reuse_freed: bool = True, seed: int = 0):
        if convention not in CONVENTIONS:
            raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
        if order not in ("belief", "arrival"):
            raise ValueError(f"order must be 'belief' or 'arrival', got {order!r}")
        self.name = name
        self._initial = np.asarray(beliefs, dtype=np.int64)
        self._ties0 = np.asarray(ties, dtype=np.int64)
        self.order = order
        self.convention = convention
        self.reuse_freed = reuse_freed
        self.seed = seed

    # ------------------------------------------------------------------ state
    def reset(self, view: PolicyView) -> None:
        cap = view.M - np.asarray(view.s)
        self.est = np.clip(self._initial, 1, cap).tolist()  # o~_i
        self.tie = self._ties0.tolist()
        self.est_np = np.asarray(self.est, dtype=np.int64)
        self.tie_np = self._ties0.copy()
        self.s_np = np.asarray(view.s, dtype=np.int64)
        self.s = view.s.tolist()
        self.a = view.arrivals.tolist()
        self.M = view.M
        self.rng = np.random.default_rng(self.seed)
        self.profile = FutureProfile(view.M)  # non-overdue running (and reserved) requests
        self.start: dict = {}  # running -> start round
        self.overdue: set = set()
        self.base_sum = 0  # sum over running of s_i - p_i
        self.R = 0
        self.queue: list = []  # heap of (key, tie, i)

    def _push(self, i: int) -> None:
        key = self.est[i] if self.order == "belief" else self.a[i]
        heapq.heappush(self.queue, (key, self.tie[i], i))

    def on_arrival(self, ids: list, view: PolicyView) -> None:
        for i in ids:
            self._push(i)

    def _stop(self, i: int) -> int:
        """Remove a running request from the running accounting; returns its start."""
        p = self.start.pop(i)
        self.base_sum -= self.s[i] - p
        self.R -= 1
        if i in self.overdue:
            self.overdue.discard(i)
        return p

    def on_finish(self, ids: list, view: PolicyView) -> None:
        for i in ids:
            self._stop(i)
            if self.reuse_freed:
                self.profile.remove(i)

    def current_estimate(self, i: int, t: int) -> int:
        """``o~_i`` of request ``i`` at round ``t`` (after refinement)."""
        if i in self.overdue:
            g = t - self.start[i]
            return g if self.convention == "W" else g + 1
        return self.est[i]

    # ------------------------------------------------------------------ one round
    def on_round(self, view: PolicyView) -> Optional[Decision]:
        t = view.t
        # (ii) refine: believed completion reached without a finish -> overdue
        for i in self.profile.pop_completed(t):
            if i in self.start:  # not a reserved entry of a finished request
                self.overdue.add(i)
        # (iii) admit; at round t + 1 W charges overdue requests s + g (no growth), V1 s + g + 1
        admitted = self._admit(t, relief=len(self.overdue) if self.convention == "W" else 0,
                               check_always=False)
        # (iv) resolve overflow of the true next-round memory
        cancelled = []
        if self.base_sum + self.R * (t + 1) > self.M:
            victims = self._resolve_overflow(t, set(admitted))
            admitted = [i for i in admitted if i not in victims]
            cancelled = [i for i in victims if victims[i]]
        return self._decision(t, admitted, cancelled)

    def _admit(self, t: int, relief: int, check_always: bool) -> list:
        """Admit from the head of the queue while the future check on believed lengths
        passes and (when overdue requests run, or ``check_always``) the next round's memory,
        less ``relief``, fits; prefix rule. Returns the admitted ids."""
        admitted = []
        s, est, M, profile = self.s, self.est, self.M, self.profile
        while self.queue:
            i = self.queue[0][2]
            if (check_always or self.overdue) and self.base_sum + self.R * (t + 1) + s[i] + 1 - relief > M:
                break
            if not profile.fits(t, s[i], est[i]):
                break
            heapq.heappop(self.queue)
            profile.add(i, t + est[i], s[i] - t)
            self.start[i] = t
            self.base_sum += s[i] - t
            self.R += 1
            admitted.append(i)
        return admitted

    def _decision(self, t: int, admitted: list, cancelled: list) -> Optional[Decision]:
        """The round's decision. When to be called again absent finishes and arrivals: every
        round while requests wait (unless nothing is held or reserved: then only an arrival can
        change anything) or run overdue; otherwise at the next believed completion, where
        refinement starts."""
        if self.queue:
            wake = t + 1 if self.R or len(self.profile) else None
        else:
            wake = t + 1 if self.overdue else self.profile.next_completion()
        if not admitted and not cancelled:
            return Decision(wake=wake) if wake is not None else None
        return Decision(admit=admitted, cancel=cancelled, wake=wake)

    def _resolve_overflow(self, t: int, admitted: set) -> dict:
        """Cancel in ascending ``(o~, tie)`` until the next round fits; returns
        victim -> True if it really ran (False: admitted this round, so just not admitted)."""
        ids = np.fromiter(self.start.keys(), dtype=np.int64, count=self.R)
        p = np.fromiter(self.start.values(), dtype=np.int64, count=self.R)
        g = t - p
        est = self.est_np[ids]
        est = np.where(g >= est, g if self.convention == "W" else g + 1, est)  # overdue: refined
        if self.convention == "W":
            tie = self.tie_np[ids]
        else:
            tie = self.rng.permutation(ids.size)
        order = np.lexsort((tie, est))
        freed = np.cumsum((self.s_np[ids] + (t + 1) - p)[order])
        excess = self.base_sum + self.R * (t + 1) - self.M
        k = int(np.searchsorted(freed, excess)) + 1  # cancel the first k in that order
        victims = {}
        for i in ids[order[:k]].tolist():
            g = t - self.start[i]
            victims[i] = ran = i not in admitted  # one admitted this round never ran: unchanged
            if ran and self.convention == "W":
                self.est[i] = self.est_np[i] = max(self.current_estimate(i, t), g + 1)
            elif ran:
                self.est[i] = self.est_np[i] = max(self.current_estimate(i, t), g)
                self.tie[i] = self.tie_np[i] = int(self.rng.integers(0, 1 << 62))
            self._stop(i)
            self.profile.remove(i)
            self._push(i)
        return victims


# ---------------------------------------------------------------------- constructors
def _lowers(instance: Instance) -> np.ndarray:
    """``l_i``; 1 where the instance gives none (all that is known: ``o_i >= 1``)."""
    return np.array([1 if x is None else x for x in instance.lowers], dtype=np.int64)


def _uppers(instance: Instance) -> np.ndarray:
    """``u_i``; ``M - s_i`` where the instance gives none (the model's own bound)."""
    return np.array([instance.M - s if x is None else x for x, s in zip(instance.uppers, instance.prompts)],
                    dtype=np.int64)


def hsf(instance: Instance, lengths: Optional[Sequence[int]] = None) -> BeliefPolicy:
    """H-SF, the hindsight benchmark: MC-SF with the true lengths. ``lengths`` is the oracle
    (default ``instance.outputs``); the caller hands it in, the view never does."""
    lengths = instance.outputs if lengths is None else lengths
    return BeliefPolicy("hsf", lengths, tie_priorities(instance, "arrival"))


def amax(instance: Instance, seed: int = 0, tie_break: Union[str, Sequence[int]] = "random",
         reuse_freed: bool = True, convention: str = DEFAULT_CONVENTION) -> BeliefPolicy:
    """A_max: believes ``u_i``; ascending ``u_i``, seeded random tie-break (or an injected
    order). ``reuse_freed=False`` keeps the memory of an early finisher reserved until its
    believed completion ``p_i + u_i`` (the reading that reaches the lower bound at
    ``alpha = 1/4``; see ``results/bench_online.md``)."""
    return BeliefPolicy("amax", _uppers(instance), tie_priorities(instance, tie_break, seed),
                        convention=convention, reuse_freed=reuse_freed, seed=seed)


def amin(instance: Instance, seed: int = 0, tie_break: Union[str, Sequence[int]] = "random",
         convention: str = DEFAULT_CONVENTION) -> BeliefPolicy:
    """A_min: starts from ``l_i`` (the lower end of the request's own interval, so the same
    code serves one interval and several disjoint ones), raises it as tokens are generated,
    cancels the smallest estimates on overflow."""
    return BeliefPolicy("amin", _lowers(instance), tie_priorities(instance, tie_break, seed),
                        convention=convention, seed=seed)


def point_predictions(instance: Instance) -> np.ndarray:
    """The point a point-prediction policy uses: ``u_i`` (equal to ``l_i`` for a point
    prediction; the conservative end of a wider interval), ``M - s_i`` where absent."""
    return _uppers(instance)


def _margin(points: np.ndarray, margin: float) -> np.ndarray:
    return np.array([max(1, math.ceil(x * (1 + margin) - 1e-9)) for x in points.tolist()], dtype=np.int64)


def mcsf_predicted(instance: Instance, margin: float = 0.0, convention: str = DEFAULT_CONVENTION) -> BeliefPolicy:
    """MC-SF on point predictions raised by a protection ``margin`` (``ceil(x (1 + margin))``);
    priority ``(o~_i, a_i, i)``; an under-estimate is refined and may be cancelled."""
    return BeliefPolicy("mcsf", _margin(point_predictions(instance), margin), tie_priorities(instance, "arrival"),
                        convention=convention)


def fcfs_predicted(instance: Instance, margin: float = 0.0, convention: str = DEFAULT_CONVENTION) -> BeliefPolicy:
    """FCFS admission ``(a_i, i)`` with the memory check on point predictions plus ``margin``."""
    return BeliefPolicy("fcfs", _margin(point_predictions(instance), margin), tie_priorities(instance, "arrival"),
                        order="arrival", convention=convention)


POLICIES = {"hsf": hsf, "amax": amax, "amin": amin, "mcsf": mcsf_predicted, "fcfs": fcfs_predicted}


def run_policy(name: str, instance: Instance, bound: Optional[float] = None, **params) -> Result:
    """Build policy ``name`` with ``params``, simulate it, validate with the true lengths."""
    if name not in POLICIES:
        raise KeyError(f"unknown online policy {name!r}; known: {sorted(POLICIES)}")
    policy = POLICIES[name](instance, **params)
    return run_online(instance, policy, bound=bound, params=params, seed=params.get("seed"))
