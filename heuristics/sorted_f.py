"""Sorted-F (Wang, Ye, Zhou 2025; docs/model.md §3.3): order by the quality metric, then place.

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
missed (the worked overflow of docs/model.md §1.3).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.ndimage import maximum_filter1d

from kvsched.instance import Instance
from kvsched.schedule import Schedule

from .selectors import make_selector


class RoundProfile:
    """``mem[t]``: memory held in round t by the placed requests (grown on demand).

    A request (s, o) fits at p iff ``mem[t] + s + (t - p) <= M`` for every t in
    ``p+1 .. p+o``, i.e. iff ``max_{p < t <= p+o} need[t] <= p`` with
    ``need[t] = mem[t] + t + s - M``: a sliding-window maximum. :meth:`earliest` evaluates
    it for a whole chunk of candidate starts at once (``scipy.ndimage.maximum_filter1d``,
    ``O(chunk + o)``), chunks of 64 doubling to :attr:`CHUNK`.

    Skipping full rounds: a start p needs ``mem[p + 1] <= M - s - 1``. Memory only grows,
    so the first round with at least ``x`` free tokens only moves forward; it is cached per
    bucket of ``x`` (width :attr:`BUCKET`) and a search starts no earlier than the cached
    round of the request's bucket.
    """

    BUCKET = 64
    CHUNK = 8192

    def __init__(self, M: int, max_o: int, size: int = 1024):
        self.M = M
        self.mem = np.zeros(max(size, 2 * max_o + 2), dtype=np.int64)
        self.ramp = np.arange(0, max_o + 1, dtype=np.int64)  # ramp[d] = d
        self.first_free: dict = {}  # bucket b -> a round <= the first with >= b * BUCKET + 1 free

    def _ensure(self, end: int) -> None:
        if end > len(self.mem):
            grown = np.zeros(max(end, 2 * len(self.mem)), dtype=np.int64)
            grown[: len(self.mem)] = self.mem
            self.mem = grown

    def _next_free(self, t: int, need: int) -> int:
        """The first round ``>= t`` with ``mem <= M - need`` (rounds past the end are empty)."""
        cap, chunk = self.M - need, 64
        while True:
            self._ensure(t + chunk)
            hit = np.flatnonzero(self.mem[t: t + chunk] <= cap)
            if len(hit):
                return t + int(hit[0])
            t += chunk
            chunk = min(2 * chunk, self.CHUNK)

    def fits(self, s: int, o: int, p: int) -> bool:
        self._ensure(p + o + 1)
        return bool((self.mem[p + 1: p + o + 1] + (s + self.ramp[1: o + 1]) <= self.M).all())

    def earliest(self, s: int, o: int, lo: int) -> int:
        """Earliest ``p >= lo`` at which the request fits in every round of its window."""
        if self.fits(s, o, lo):
            return lo
        b = s // self.BUCKET
        known = self.first_free.get(b, 1)
        if known > lo + 1:
            known = self._next_free(known, b * self.BUCKET + 1)
            self.first_free[b] = known
        p0, chunk = max(lo, known - 1), 64
        while True:
            self._ensure(p0 + chunk + o + 1)
            t = np.arange(p0 + 1, p0 + chunk + o, dtype=np.int64)
            need = self.mem[p0 + 1: p0 + chunk + o] + t + (s - self.M)
            wmax = maximum_filter1d(need, size=o)[o // 2: o // 2 + chunk]  # max need[p+1 .. p+o]
            ok = np.flatnonzero(wmax <= np.arange(p0, p0 + chunk))
            if len(ok):
                return p0 + int(ok[0])
            p0 += chunk
            chunk = min(2 * chunk, self.CHUNK)

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
