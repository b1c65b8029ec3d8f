"""Problem structure shared by the exact models (docs/model.md §5.2): interchangeable
requests, request classes and the "core" inequality families. The time-indexed MILP / LP
(:mod:`.timeindexed`) and the CP-SAT model (:mod:`.cpsat`) both build on these; neither
defines its own.

- Requests with equal ``(s, o, a)`` are interchangeable: swapping two of them maps a
  schedule to one of the same TEL. The MILP merges them into one class with an integer
  count per start round; CP-SAT orders their starts (symmetry breaking).
- A core family ``(L, k, h)`` says: at every round at most k requests of L have age greater
  than h (proof at :func:`core_families`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from kvsched.instance import Instance


@dataclass(frozen=True)
class RequestClass:
    """Interchangeable requests: same prompt ``s``, output ``o``, arrival ``a`` and window."""

    s: int
    o: int
    a: int
    window: tuple  # (earliest, latest) start round
    members: tuple  # request indices, ascending

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def starts(self) -> range:
        return range(self.window[0], self.window[1] + 1)


def interchangeable_requests(instance: Instance) -> list:
    """Index tuples of requests with equal ``(s, o, a)``, members ascending, groups in the
    order of their first member (singletons included)."""
    groups = defaultdict(list)
    for i, key in enumerate(zip(instance.prompts, instance.outputs, instance.arrivals)):
        groups[key].append(i)
    return [tuple(idx) for idx in groups.values()]


def request_classes(instance: Instance, windows: list, aggregate: bool = True) -> list:
    """Group requests by ``(s, o, a, window)`` (or one class per request, class ``i`` =
    request ``i``), ordered by first member."""
    groups = interchangeable_requests(instance) if aggregate else [(i,) for i in range(instance.n)]
    classes = []
    for group in groups:
        by_window = defaultdict(list)
        for i in group:
            by_window[tuple(windows[i])].append(i)
        for window, members in by_window.items():
            i = members[0]
            classes.append(RequestClass(instance.prompts[i], instance.outputs[i], instance.arrivals[i],
                                        window, tuple(members)))
    return sorted(classes, key=lambda c: c.members[0])


def core_families(classes: list, M: int, prompt_thresholds: bool = True) -> list:
    """Core inequalities ``(L, k, h)`` over class indices: at every round at most k requests
    of L have age greater than h. L = ``{c : s_c >= s*, o_c >= o*}`` for thresholds on both
    (on ``o`` alone when ``prompt_thresholds`` is False), and
    ``h = max(0, floor((M - s_L - o_L) / k) - s_L)`` with ``s_L``, ``o_L`` the least prompt
    and output in L. (Take k+1 of them, let i complete first: at C_i the others hold
    ``>= s_L + h + 1`` each and i holds ``>= s_L + o_L``, more than M in total; for h = 0
    the same holds with "running" for "older than h".) Per L only the smallest k per
    distinct h is kept (it dominates); families with ``h >= max o`` (no member can be that
    old) are dropped."""
    families, seen_sets = [], set()
    s_thresholds = sorted({c.s for c in classes}) if prompt_thresholds else [min((c.s for c in classes), default=0)]
    for s_star in s_thresholds:
        for o_star in sorted({c.o for c in classes}):
            L = tuple(ci for ci, c in enumerate(classes) if c.s >= s_star and c.o >= o_star)
            if not L or L in seen_sets:
                continue
            seen_sets.add(L)
            size = sum(classes[ci].size for ci in L)
            s_L = min(classes[ci].s for ci in L)
            o_L = min(classes[ci].o for ci in L)
            o_max = max(classes[ci].o for ci in L)
            seen_h = set()
            for k in range(1, size):
                h = max(0, (M - s_L - o_L) // k - s_L)
                if h in seen_h or h >= o_max:
                    continue
                seen_h.add(h)
                families.append((L, k, h))
    return families
