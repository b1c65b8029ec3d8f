"""Closed-form lower bounds on the optimal TEL (instant; used when no solver bound exists).

- trivial: every request needs ``o_i`` rounds, so ``TEL >= sum o_i``.
- sorted volume (all arrivals at 0): request i occupies ``v_i = s_i o_i + o_i (o_i + 1) / 2``
  token-rounds; the k requests finishing first fit in ``C_(k)`` rounds of ``M`` tokens, so
  the k-th smallest completion is at least ``max(o_(k), ceil(V_k / M))`` where ``o_(k)`` is
  the k-th smallest length and ``V_k`` the sum of the k smallest volumes.
"""

from __future__ import annotations

import numpy as np

from .instance import Instance


def trivial_bound(instance: Instance) -> int:
    return int(sum(instance.outputs))


def sorted_volume_bound(instance: Instance) -> int:
    """Valid for TCT when every arrival is 0; falls back to the trivial bound otherwise."""
    if not instance.all_at_zero:
        return trivial_bound(instance)
    s, o = instance.s, instance.o
    vol = np.sort(s * o + o * (o + 1) // 2)
    ck = np.maximum(np.sort(o), -(-np.cumsum(vol) // instance.M))
    return int(ck.sum())


def lower_bound(instance: Instance) -> int:
    """The best closed-form bound."""
    return max(trivial_bound(instance), sorted_volume_bound(instance))
