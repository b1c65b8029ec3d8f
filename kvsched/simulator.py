"""Round-by-round online simulation with cancellation (docs/model.md §1.5, §1.6, §4.1).

Timeline of round ``t`` (the same as the offline admission engine):

1. requests whose true completion round is ``t`` finish (they held their peak memory in
   round ``t``) and the policy is told (:meth:`Policy.on_finish`);
2. requests with ``a_i <= t`` that were not yet released become waiting
   (:meth:`Policy.on_arrival`);
3. the policy decides (:meth:`Policy.on_round`): requests to ``cancel`` (running ones; their
   run is cut at ``t``, they held memory in round ``t`` and lose it and all progress from
   ``t + 1`` on) and requests to ``admit`` (waiting ones; started at ``p = t``, processed from
   round ``t + 1``);
4. the simulator checks the TRUE memory of the coming rounds, ``sum (s_i + r - p_i)`` over
   running requests; more than ``M`` is an error of the policy
   (:class:`MemoryOverflowError`), never clipped.

Information boundary. A policy only gets a :class:`PolicyView`: ``M``, ``s_i``, ``a_i``,
``[l_i, u_i]``, the current round, who is running since when and the tokens generated so far
in the current run, plus the finish notifications. The true lengths live only in the
simulator's local variables; reading ``view.o`` (or any other name for them) raises
:class:`InformationBoundaryError`.

Arrival helpers map continuous arrival times to rounds by one stated rule:
``round = floor((time - first time) / seconds_per_round)``.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from .generators import poisson_arrivals  # noqa: F401  (the one generator, also used from here)
from .instance import Instance
from .result import Result, finish
from .schedule import Schedule


class InformationBoundaryError(AttributeError):
    """A policy tried to read the true output lengths."""


class PolicyError(RuntimeError):
    """A policy made an impossible decision (admit a running request, stall forever, ...)."""


class MemoryOverflowError(PolicyError):
    """The true memory of a round exceeds ``M``: the policy's fault, never clipped."""

    def __init__(self, round_: int, memory: int, M: int):
        super().__init__(f"round {round_} would hold {memory} > M = {M} tokens (true lengths)")
        self.round, self.memory, self.M = round_, memory, M


@dataclass
class Decision:
    """What a policy does at round ``t``. ``wake``: the next round at which it wants to be
    called if no request finishes or arrives before. ``None``: the next round while requests
    run; when nothing runs and nothing was admitted, ``None`` means "wait for an arrival"
    (and, with none left, the simulator reports a stall)."""

    admit: Sequence[int] = ()
    cancel: Sequence[int] = ()
    wake: Optional[int] = None


_HIDDEN = frozenset({"o", "outputs", "output", "lengths", "true_lengths", "instance", "_instance"})


class PolicyView:
    """What a policy may see. Arrays are read-only; there is no route to ``o_i``."""

    __slots__ = ("M", "n", "s", "arrivals", "lowers", "uppers", "t", "_start")

    def __init__(self, instance: Instance):
        self.M = instance.M
        self.n = instance.n
        self.s = instance.s
        self.arrivals = instance.a
        self.lowers = _interval_side(instance.lowers)
        self.uppers = _interval_side(instance.uppers)
        self.t = 0
        self._start = {}  # running request -> start round of its current run

    def __getattr__(self, name):
        if name in _HIDDEN:
            raise InformationBoundaryError(
                f"a policy cannot read '{name}': true output lengths are hidden (docs/model.md §1.6)")
        raise AttributeError(name)

    @property
    def running(self) -> dict:
        """Running request -> start round of its current run (a copy)."""
        return dict(self._start)

    def start(self, i: int) -> int:
        return self._start[i]

    def generated(self, i: int) -> int:
        """Tokens generated so far by request ``i`` in its current run (0 when not running)."""
        p = self._start.get(i)
        return 0 if p is None else self.t - p


def _interval_side(values) -> np.ndarray:
    """Interval ends as an int array; ``-1`` where the instance gives none."""
    arr = np.asarray([-1 if v is None else v for v in values], dtype=np.int64)
    arr.setflags(write=False)
    return arr


class Policy:
    """Interface of an online policy. Subclasses override the hooks they need."""

    name = "policy"

    def reset(self, view: PolicyView) -> None:
        """Called once before round 0."""

    def on_arrival(self, ids: list, view: PolicyView) -> None:
        """``ids`` became waiting this round."""

    def on_finish(self, ids: list, view: PolicyView) -> None:
        """``ids`` completed in this round (their last run reached ``o_i``)."""

    def on_round(self, view: PolicyView) -> Optional[Decision]:
        raise NotImplementedError


def simulate(instance: Instance, policy: Policy, max_rounds: Optional[int] = None) -> Schedule:
    """Run ``policy`` on ``instance``; return every run (cancelled ones cut at their last
    round held). Raises :class:`MemoryOverflowError` / :class:`PolicyError` on a policy fault."""
    n, M = instance.n, instance.M
    s = instance.prompts
    o = instance.outputs  # stays here: never handed to the policy
    order = sorted(range(n), key=instance.arrivals.__getitem__)
    arr = [instance.arrivals[i] for i in order]
    view = PolicyView(instance)
    start = view._start
    runs = [[] for _ in range(n)]
    state = [0] * n  # 0 not arrived, 1 waiting, 2 running, 3 done
    epoch = [0] * n  # run counter: invalidates heap entries of cancelled runs
    heap: list = []  # (true completion round, i, epoch)
    base_sum = 0  # sum over running of s_i - p_i; memory(r) = base_sum + R * r
    R = 0
    nxt = 0
    done = 0
    waiting = 0
    t = 0
    policy.reset(view)
    while done < n:
        if max_rounds is not None and t > max_rounds:
            raise PolicyError(f"simulation exceeded max_rounds = {max_rounds}")
        view.t = t
        finished = []
        while heap and heap[0][0] <= t:
            c, i, e = heapq.heappop(heap)
            if e != epoch[i] or state[i] != 2:
                continue
            p = start.pop(i)
            runs[i].append((p, c))
            state[i] = 3
            base_sum -= s[i] - p
            R -= 1
            finished.append(i)
        if finished:
            done += len(finished)
            policy.on_finish(finished, view)
            if done == n:
                break
        arrived = []
        while nxt < n and arr[nxt] <= t:
            i = order[nxt]
            state[i] = 1
            arrived.append(i)
            nxt += 1
        if arrived:
            waiting += len(arrived)
            policy.on_arrival(arrived, view)
        dec = policy.on_round(view)
        wake = None
        admitted = False
        if dec is not None:
            for i in dec.cancel:
                if state[i] != 2:
                    raise PolicyError(f"round {t}: cancel of request {i}, which is not running")
                p = start.pop(i)
                runs[i].append((p, t))
                state[i] = 1
                epoch[i] += 1
                base_sum -= s[i] - p
                R -= 1
                waiting += 1
            for i in dec.admit:
                if state[i] != 1:
                    raise PolicyError(f"round {t}: admit of request {i}, which is not waiting")
                start[i] = t
                state[i] = 2
                heapq.heappush(heap, (t + o[i], i, epoch[i]))
                base_sum += s[i] - t
                R += 1
                waiting -= 1
                admitted = True
            if dec.wake is not None:
                wake = max(t + 1, dec.wake)
        # next round: the policy's wish, capped by the next finish or arrival (a stale heap
        # entry of a cancelled run only makes us stop earlier)
        events = ([heap[0][0]] if heap else []) + ([arr[nxt]] if nxt < n else [])
        if R == 0 and not admitted and wake is None:
            # nothing runs, the policy starts nothing and asks for no round: only an arrival
            # can change that
            if nxt >= n:
                raise PolicyError(f"round {t}: nothing runs, nothing will arrive, and the policy "
                                  f"admits none of the {waiting} waiting requests")
            t_next = max(t + 1, arr[nxt])
        else:
            t_next = min([t + 1 if wake is None else wake] + events)
        # memory only grows between events: the last round before t_next is covered by
        # checking t_next itself (a request completing there holds its peak there)
        if R and base_sum + R * t_next > M:
            first = (M - base_sum) // R + 1  # first round whose memory exceeds M
            raise MemoryOverflowError(first, base_sum + R * first, M)
        t = t_next
    return Schedule(tuple(tuple(r) for r in runs))


# ------------------------------------------------------------------ arrival helpers
def timestamps_to_rounds(timestamps: Sequence[float], seconds_per_round: float) -> np.ndarray:
    """Map trace timestamps to rounds: ``floor((time - first time) / seconds_per_round)``."""
    ts = np.asarray(timestamps, dtype=float)
    return np.floor((ts - ts.min()) / seconds_per_round).astype(np.int64)


def with_arrivals(instance: Instance, arrivals: Sequence[int]) -> Instance:
    """A copy of ``instance`` with new arrival rounds."""
    return Instance(instance.M, instance.prompts, instance.outputs, tuple(int(x) for x in arrivals),
                    instance.lowers, instance.uppers, instance.name)


def run_online(instance: Instance, policy: Policy, bound: Optional[float] = None,
               params: Optional[dict] = None, seed: Optional[int] = None) -> Result:
    """Simulate, then validate the runs with the true lengths (:func:`kvsched.result.finish`)."""
    t0 = time.perf_counter()
    schedule = simulate(instance, policy)
    wall = time.perf_counter() - t0
    res = Result(solver=policy.name, schedule=schedule, bound=bound,
                 wall_time=wall, seed=seed, params=dict(params or {}))
    return finish(res, instance)


def summary(result: Result) -> dict:
    """TEL, average latency, cancellations and wasted tokens of a finished result."""
    rep = result.report
    return {"objective": rep.objective, "avg_latency": rep.avg_latency, "cancellations": rep.cancelled_runs,
            "wasted_tokens": rep.wasted_tokens, "makespan": rep.makespan, "peak_memory": rep.peak_memory}
