"""Sorted-F (Wang, Ye, Zhou 2025; SPEC section 2): order by the quality metric, then place.

Ordering. Repeatedly a selector (:mod:`heuristics.selectors`) picks, among the unordered
requests, a batch X minimising ``(F(X), -|X|)`` with ``F(X) = sum o_i / |X|^2`` (X must fit
alone when all its members start together); X is appended in ascending o (ties: index).
Arrivals are ignored by the ordering. With ``pool=K`` the selector only sees the K most
promising unordered requests, by ascending ``o_i (s_i + o_i)`` (ties: index): a batch of
k equal requests fills ``k (s + o) ~ M`` and has ``F = o / k ~ o (s + o) / M``.

Placement. Requests are placed in that order, each at its earliest feasible round ``p``
with ``p >= a_i`` and ``p >=`` the previous request's start (``backfill=True``: only
``p >= a_i``). :class:`RoundProfile` holds the memory of every round of the placed set;
``p`` is feasible iff ``mem[t] + s_i + (t - p) <= M`` for every ``t`` in ``p+1 .. p+o_i``:
the whole window is checked, so a placed request's own peak inside the window is never
missed (SPEC's worked infeasible example).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from kvsched.instance import Instance
from kvsched.schedule import Schedule

from .selectors import make_selector


class RoundProfile:
    """``mem[t]``: memory held in round t by the placed requests (grown on demand)."""

    def __init__(self, M: int, max_o: int, size: int = 1024):
        self.M = M
        self.mem = np.zeros(max(size, 2 * max_o + 2), dtype=np.int64)
        self.ramp = np.arange(0, max_o + 1, dtype=np.int64)  # ramp[d] = d

    def _ensure(self, end: int) -> None:
        if end > len(self.mem):
            grown = np.zeros(max(end, 2 * len(self.mem)), dtype=np.int64)
            grown[: len(self.mem)] = self.mem
            self.mem = grown

    def earliest(self, s: int, o: int, lo: int) -> int:
        """Earliest ``p >= lo`` at which the request fits in every round of its window.

        If round ``t`` of the window at ``p`` overflows, no start in ``(p, q)`` with
        ``q = min(t, mem[t] + t + s - M)`` fits either (t stays in the window and still
        overflows), so the search jumps to the largest such q over the overflowing rounds.
        """
        M, ramp = self.M, self.ramp[1: o + 1]
        p = lo
        while True:
            self._ensure(p + o + 1)
            w = self.mem[p + 1: p + o + 1]
            over = w + (s + ramp) > M
            if not over.any():
                return p
            d = np.flatnonzero(over) + 1  # window offsets t - p of the overflowing rounds
            t = p + d
            p = int(np.minimum(t, w[d - 1] + t + s - M).max())

    def add(self, p: int, s: int, o: int) -> None:
        self._ensure(p + o + 1)
        self.mem[p + 1: p + o + 1] += s + self.ramp[1: o + 1]


def place(instance: Instance, order, backfill: bool = False) -> Schedule:
    """Starts for requests placed in ``order`` (see the module docstring)."""
    s, o, a = instance.prompts, instance.outputs, instance.arrivals
    prof = RoundProfile(instance.M, max(o), size=2 * sum(o) // max(1, len(o)) + 1024)
    starts = [0] * instance.n
    prev = 0
    for i in order:
        i = int(i)
        lo = a[i] if backfill else max(a[i], prev)
        p = prof.earliest(s[i], o[i], lo)
        prof.add(p, s[i], o[i])
        starts[i] = prev = p
    return Schedule.from_starts(instance, starts)


def promise_order(s: np.ndarray, o: np.ndarray) -> np.ndarray:
    """All requests by ascending ``o (s + o)``, ties by index (the pool order)."""
    return np.lexsort((np.arange(len(s)), o * (s + o)))


def batch_order(s, o, M: int, select: Callable, pool: int | None = None, **kw) -> list:
    """The Sorted-F batches, in order, each an array of request indices by ascending o.
    ``select`` is called as ``select(s_pool, o_pool, M, ids=pool_request_indices, **kw)``.
    With ``pool`` the candidates are a window of the promise order, refilled after every
    step (``O(pool)`` per step); without, all unordered requests in index order."""
    s, o = np.asarray(s, dtype=np.int64), np.asarray(o, dtype=np.int64)
    queue = promise_order(s, o) if pool else np.arange(len(s))
    cand, nxt = (queue[:pool], pool) if pool else (queue, len(queue))
    batches = []
    while len(cand):
        chosen = np.asarray(select(s[cand], o[cand], M, ids=cand, **kw), dtype=np.int64)
        if not len(chosen):
            raise RuntimeError("selector returned an empty batch")
        X = cand[chosen]
        batches.append(X[np.lexsort((X, o[X]))])
        keep = np.ones(len(cand), dtype=bool)
        keep[chosen] = False
        cand = cand[keep]
        if nxt < len(queue):
            cand = np.concatenate([cand, queue[nxt: nxt + len(chosen)]])
            nxt += len(chosen)
    return batches


def sorted_f_order(instance: Instance, selector: str = "dp", epsilon: float = 0.1,
                   pool: int | None = None) -> list:
    """The Sorted-F batches of ``instance`` with a named selector."""
    if pool is not None and pool < 1:
        raise ValueError(f"pool must be >= 1, got {pool}")
    if not epsilon > 0:
        raise ValueError(f"epsilon must be > 0, got {epsilon}")
    s, o, M = instance.s, instance.o, instance.M
    return batch_order(s, o, M, make_selector(selector, s, o, M, epsilon), pool=pool)


def sorted_f(instance: Instance, selector: str = "dp", epsilon: float = 0.1, pool: int | None = None,
             backfill: bool = False) -> Schedule:
    """Sorted-F schedule (unvalidated; :func:`heuristics.run` validates it)."""
    batches = sorted_f_order(instance, selector=selector, epsilon=epsilon, pool=pool)
    return place(instance, np.concatenate(batches), backfill=backfill)
