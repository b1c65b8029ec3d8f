"""Start windows from an upper bound (docs/model.md §5.1).

In any schedule of value ``<= UB`` every request has latency ``C_j - a_j >= o_j``, so
``C_i - a_i <= UB - sum_{j != i} o_j``, i.e. ``p_i - a_i <= UB - sum_j o_j``. The window of
request i is ``[a_i, a_i + UB - sum_j o_j]``; with ``cut=False`` a looser horizon is used
``[a_i, a_i + (max a - min a) + sum_j o_j]``. It keeps an optimum: an optimal schedule has
no round after the last arrival in which nothing runs while a request waits (shifting every
later run one round earlier would keep memory feasible and lower TEL), and busy rounds
number at most ``sum_j o_j``, so every start is at most ``max a + sum_j o_j``.
"""

from __future__ import annotations

from kvsched.instance import Instance


def start_windows(instance: Instance, ub: int | None, cut: bool = True) -> list:
    """``[(earliest, latest)]`` start rounds per request."""
    total = sum(instance.outputs)
    if cut:
        if ub is None:
            raise ValueError("a window cut needs an upper bound")
        slack = ub - total
        if slack < 0:
            raise ValueError(f"upper bound {ub} is below sum of outputs {total}")
    else:
        slack = max(instance.arrivals) - min(instance.arrivals) + total
    return [(a, a + slack) for a in instance.arrivals]


def horizon(instance: Instance, windows: list) -> int:
    """Last round any request can hold memory."""
    return max(hi + o for (_, hi), o in zip(windows, instance.outputs))
