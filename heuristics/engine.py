"""The shared round-by-round admission engine (docs/model.md §3.1), for known lengths.

At every round ``t``: requests whose completion round is ``<= t`` leave; arrived waiting
requests are scanned in the policy's priority order and admitted (started at ``t``) while
the future-memory check passes for the running set plus everything admitted so far; the
scan stops at the first request that does not fit (prefix rule) unless ``backfill`` is on,
in which case it keeps scanning.

Future-memory check. A running request ``j`` (start ``p_j``, completion ``C_j``) holds
``s_j + c - p_j`` at a round ``c <= C_j``. Memory only grows between completion rounds, so
it suffices to check every completion round ``c > t``: ``sum_{j: C_j >= c} (s_j - p_j + c)
<= M``. :class:`FutureProfile` keeps the running set sorted by completion with suffix sums
and a prefix maximum, so a candidate is checked in ``O(log R)`` and an admission costs one
``O(R)`` vectorised rebuild, never a rescan of every placed request per candidate.
"""

from __future__ import annotations

import bisect
import heapq
from array import array
from typing import Callable, Sequence

import numpy as np

from kvsched.instance import Instance
from kvsched.schedule import Schedule


class FutureProfile:
    """Running requests as (completion ``C_j``, base ``s_j - p_j``), sorted by ``C_j``; the
    completion is the true one offline and the believed one in the online policies. Entries
    can also be removed by id (cancellations, early finishes). Stored in ``array('q')`` so
    the lazy numpy rebuild reads them without conversion, with a constant-time necessary
    condition in front of :meth:`fits`."""

    def __init__(self, M: int):
        self.M = M
        self.C = array("q")
        self.base = array("q")
        self.ids = array("q")
        self.base_sum = 0
        self._dirty = True

    def __len__(self) -> int:
        return len(self.C)

    def add(self, rid: int, completion: int, base: int) -> None:
        k = bisect.bisect_right(self.C, completion)
        self.C.insert(k, completion)
        self.base.insert(k, base)
        self.ids.insert(k, rid)
        self.base_sum += base
        self._dirty = True

    def pop_completed(self, t: int) -> list:
        """Remove and return the ids of entries with ``C_j <= t``."""
        k = bisect.bisect_right(self.C, t)
        if k == 0:
            return []
        done = self.ids[:k].tolist()
        self.base_sum -= sum(self.base[:k])
        del self.C[:k], self.base[:k], self.ids[:k]
        self._dirty = True
        return done

    def remove(self, rid: int) -> bool:
        try:
            k = self.ids.index(rid)
        except ValueError:
            return False
        self.base_sum -= self.base[k]
        del self.C[k], self.base[k], self.ids[k]
        self._dirty = True
        return True

    def next_completion(self):
        return self.C[0] if self.C else None

    def _rebuild(self) -> None:
        C = np.frombuffer(self.C, dtype=np.int64) if self.C else np.zeros(0, dtype=np.int64)
        base = np.frombuffer(self.base, dtype=np.int64) if self.base else np.zeros(0, dtype=np.int64)
        R = C.size
        suffix = np.zeros(R + 1, dtype=np.int64)
        suffix[:R] = np.cumsum(base[::-1])[::-1]
        count = np.arange(R, -1, -1, dtype=np.int64)
        mem = suffix[:R] + C * count[:R]
        self._prefmax = np.maximum.accumulate(mem + C).tolist() if R else []
        self._suffix = suffix.tolist()
        del C, base  # release the buffers so the arrays can be resized again
        self._dirty = False

    def fits(self, t: int, s: int, o: int) -> bool:
        """Can a request with prompt ``s`` and believed length ``o`` start at round ``t``?"""
        C = self.C
        R = len(C)
        # every entry is alive until the first checked point (>= t + 1) and memory grows
        # until then: the entries' memory at t + 1 plus the candidate's s + 1 must fit
        if self.base_sum + R * (t + 1) + s + 1 > self.M:
            return False
        if self._dirty:
            self._rebuild()
        Ci = t + o
        k_le = bisect.bisect_right(C, Ci)
        if k_le and self._prefmax[k_le - 1] + s - t > self.M:
            return False
        k_ge = bisect.bisect_left(C, Ci)
        return self._suffix[k_ge] + Ci * (R - k_ge) + s + o <= self.M


def admission_schedule(
    instance: Instance,
    priority: Callable[[int], tuple] | Sequence,
    backfill: bool = False,
) -> Schedule:
    """Run the admission engine with static priorities and the true lengths.

    ``priority`` is a key function of the request index (or a sequence of keys); smaller
    keys are admitted first. Returns the (unvalidated) schedule; callers validate it.
    """
    n = instance.n
    s, o, a = instance.prompts, instance.outputs, instance.arrivals
    key = priority if callable(priority) else (lambda i: priority[i])
    rank = {i: r for r, i in enumerate(sorted(range(n), key=key))}
    by_arrival = sorted(range(n), key=lambda i: a[i])
    starts = [None] * n
    profile = FutureProfile(instance.M)
    waiting: list = []  # heap of (rank, i)
    nxt = 0  # next index in by_arrival
    done = 0
    t = 0
    while done < n:
        done += len(profile.pop_completed(t))
        while nxt < n and a[by_arrival[nxt]] <= t:
            i = by_arrival[nxt]
            heapq.heappush(waiting, (rank[i], i))
            nxt += 1
        if waiting:
            if backfill:
                kept = []
                for r, i in sorted(waiting):
                    if profile.fits(t, s[i], o[i]):
                        starts[i] = t
                        profile.add(i, t + o[i], s[i] - t)
                    else:
                        kept.append((r, i))
                heapq.heapify(kept)
                waiting = kept
            else:
                while waiting:
                    i = waiting[0][1]
                    if not profile.fits(t, s[i], o[i]):
                        break
                    heapq.heappop(waiting)
                    starts[i] = t
                    profile.add(i, t + o[i], s[i] - t)
        # next round worth looking at
        if waiting:
            t += 1
        else:
            cands = []
            if nxt < n:
                cands.append(a[by_arrival[nxt]])
            nc = profile.next_completion()
            if nc is not None:
                cands.append(nc)
            if not cands:
                break
            t = max(t + 1, min(cands))
    return Schedule.from_starts(instance, starts)
