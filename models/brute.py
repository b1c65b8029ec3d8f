"""Exhaustive oracle for tiny instances (n <= 7): chronological branch and bound in pure
Python, sharing no code with the CP-SAT or MILP models.

Search. Rounds are decided in time order: at round t the search chooses the set of waiting
requests that start at t (every subset whose memory fits, the empty set included), then
moves to t + 1. Every start vector is reached by exactly one path, so nothing is assumed
about the form of optimal schedules (starting earlier changes the memory of many rounds, so
left-shifted / active schedules are NOT a valid dominance and are not used).

Memory. ``profile[r]`` is the memory the started requests hold in round r; request j
started at p fits iff ``profile[p + k] + s_j + k <= M`` for ``k = 1..o_j``.

Pruning (all exact):
- cost: the TEL of the started requests plus, for every waiting request j, the least
  latency it can still get, ``e_j + o_j - a_j``, where ``e_j >= max(t, a_j)`` is the
  earliest round at which j fits into the current profile on its own (more requests only
  add memory). Nodes whose bound is not below the incumbent are cut, so only strictly
  better schedules are searched for; this also confines every start to the window
  ``p_j - a_j <= UB - sum o``.
- order statistics: the k-th smallest completion of the waiting requests is at least the
  k-th smallest ``e_j + o_j`` and at least the first round by which the free memory after t
  holds the k smallest volumes.
- symmetry: requests with equal ``(s, o, a)`` start in index order (``p_i <= p_j``).
"""

from __future__ import annotations

import sys
import time

from kvsched.bounds import lower_bound
from kvsched.instance import Instance
from kvsched.result import Result, Termination, objective_of, safety_wall_time
from kvsched.schedule import Schedule

MAX_N = 7


#: deterministic mode: search nodes allowed per second of the nominal time limit
NODES_PER_SECOND = 200_000


class _WorkUp(Exception):
    pass


class _TimeUp(Exception):
    pass


class _Search:
    """State of one branch-and-bound run."""

    def __init__(self, instance: Instance, ub: int, ub_starts: list, deadline: float | None,
                 max_nodes: int | None = None):
        self.M = instance.M
        self.s, self.o, self.a = list(instance.prompts), list(instance.outputs), list(instance.arrivals)
        n = instance.n
        self.n = n
        # the predecessor of j among the requests identical to it (equal s, o, a), or -1
        self.pred = [-1] * n
        last = {}
        for j in range(n):
            key = (self.s[j], self.o[j], self.a[j])
            self.pred[j] = last.get(key, -1)
            last[key] = j
        self.volume = [s * o + o * (o + 1) // 2 for s, o in zip(self.s, self.o)]
        self.best = ub
        self.best_starts = list(ub_starts)
        # no schedule better than ub completes after round max(a) + ub
        self.profile = [0] * (max(self.a) + ub + max(self.o) + 2)
        self.starts = [None] * n
        self.deadline = deadline
        self.max_nodes = max_nodes
        self.nodes = 0

    # ------------------------------------------------------------------ memory profile
    def fits(self, j: int, p: int) -> bool:
        cap = self.M - self.s[j]
        prof = self.profile
        for k in range(1, self.o[j] + 1):
            if prof[p + k] + k > cap:
                return False
        return True

    def place(self, j: int, p: int, sign: int) -> None:
        s, prof = self.s[j], self.profile
        for k in range(1, self.o[j] + 1):
            prof[p + k] += sign * (s + k)

    def earliest_fit(self, j: int, t: int, limit: int) -> int:
        """Least ``p >= t`` at which j fits alone, or ``limit`` if none is below it."""
        p = t
        while p < limit and not self.fits(j, p):
            p += 1
        return p

    # ------------------------------------------------------------------ search
    def run(self) -> None:
        # one round costs up to n + 2 frames and there are up to max(a) + UB rounds
        old_limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old_limit, (self.n + 3) * len(self.profile) + 100))
        try:
            self.round(0, list(range(self.n)), 0)
        finally:
            sys.setrecursionlimit(old_limit)

    def lower(self, t: int, waiting: list, cost: int) -> int:
        """Cost bound at round t (before choosing who starts at t)."""
        bound = cost
        for j in waiting:
            bound += max(t, self.a[j]) - self.a[j] + self.o[j]
            if bound >= self.best:
                return bound
        earliest = []
        for j in waiting:  # refine with the earliest fit of each waiting request
            t_j = max(t, self.a[j])
            limit = t_j + self.best - bound  # beyond it the node is cut anyway
            e_j = self.earliest_fit(j, t_j, limit)
            bound += e_j - t_j
            if bound >= self.best:
                return bound
            earliest.append(e_j + self.o[j])
        return max(bound, self.order_bound(t, waiting, cost, earliest))

    def order_bound(self, t: int, waiting: list, cost: int, completions: list) -> int:
        """Bound the k-th smallest completion of the waiting requests by the k-th smallest
        ``e_j + o_j`` and by the first round C whose free memory in rounds ``t+1..C`` holds
        the k smallest volumes ``v_j = s_j o_j + o_j (o_j + 1) / 2`` (they all start at or
        after t and complete by C)."""
        completions.sort()
        prof, M, last = self.profile, self.M, len(self.profile) - 1
        r, free = t, 0
        total, volume = cost - sum(self.a[j] for j in waiting), 0
        for k, v in enumerate(sorted(self.volume[j] for j in waiting)):
            volume += v
            while free < volume:
                r += 1
                free += M - (prof[r] if r <= last else 0)
            total += max(r, completions[k])
        return total

    def round(self, t: int, waiting: list, cost: int) -> None:
        """Choose the requests that start at round t, then continue at t + 1."""
        self.nodes += 1
        if self.deadline is not None and self.nodes % 256 == 0 and time.perf_counter() > self.deadline:
            raise _TimeUp
        if self.max_nodes is not None and self.nodes > self.max_nodes:
            raise _WorkUp
        if not waiting:
            if cost < self.best:
                self.best, self.best_starts = cost, list(self.starts)
            return
        if self.lower(t, waiting, cost) >= self.best:
            return
        first_arrival = min(self.a[j] for j in waiting)
        if first_arrival > t:  # nobody can start before first_arrival
            self.round(first_arrival, waiting, cost)
            return
        ready = [j for j in waiting if self.a[j] <= t]
        self.subsets(t, ready, 0, waiting, cost)

    def subsets(self, t: int, ready: list, idx: int, waiting: list, cost: int) -> None:
        """Decide ready[idx:] (start at t or not), then recurse to round t + 1."""
        if idx == len(ready):
            self.round(t + 1, [j for j in waiting if self.starts[j] is None], cost)
            return
        j = ready[idx]
        pred = self.pred[j]
        if (pred < 0 or self.starts[pred] is not None) and self.fits(j, t):
            self.place(j, t, +1)
            self.starts[j] = t
            self.subsets(t, ready, idx + 1, waiting, cost + t + self.o[j] - self.a[j])
            self.starts[j] = None
            self.place(j, t, -1)
        self.subsets(t, ready, idx + 1, waiting, cost)


def solve_brute(instance: Instance, time_limit: float | None = None, ub_schedule: Schedule | None = None,
                deterministic: bool = False, **opts) -> Result:
    """Exact optimum by exhaustive search (n <= 7). ``ub_schedule`` (default: the best
    heuristic) is the incumbent to beat. ``opts`` (e.g. threads, seed) are recorded only:
    the search is single-threaded. ``deterministic``: stop after :data:`NODES_PER_SECOND`
    nodes per second of ``time_limit`` instead of on the clock (then a safety stop)."""
    if instance.n > MAX_N:
        raise ValueError(f"brute force handles n <= {MAX_N} requests, got n = {instance.n}")
    t0 = time.perf_counter()
    if ub_schedule is None:
        from kvsched.heuristics import warm_start

        ub_schedule = warm_start(instance)[0]
    ub_schedule = Schedule.from_starts(instance, ub_schedule.starts)  # drop cancelled runs
    ub = objective_of(instance, ub_schedule)
    max_nodes = None
    if deterministic and time_limit is not None:
        max_nodes, time_limit = int(NODES_PER_SECOND * time_limit), safety_wall_time(time_limit)
    deadline = None if time_limit is None else t0 + time_limit
    search = _Search(instance, ub, ub_schedule.starts, deadline, max_nodes)
    try:
        search.run()
        termination, bound, label = Termination.CONVERGED, float(search.best), "exhausted"
    except _WorkUp:
        termination, bound, label = Termination.WORK_LIMIT, float(lower_bound(instance)), "node limit"
    except _TimeUp:
        termination, bound, label = Termination.TIME_LIMIT, float(lower_bound(instance)), "time-limit"
    result = Result(
        solver="brute", termination=termination, bound=bound,
        schedule=Schedule.from_starts(instance, search.best_starts),
        wall_time=time.perf_counter() - t0, solver_version="kvsched brute 1", threads=1, seed=None,
        params={"time_limit": time_limit, "deterministic": deterministic, **opts}, message=f"{search.nodes} nodes",
        solver_status=label, deterministic=deterministic,
    )
    return result
