"""The search's bounds along one schedule's path (``docs/model.md`` §5.8, "Bound along a path").

For a schedule of the instance (an optimal one, to see where the bounds are weak), every round
t up to its last start gives the search's state: U the requests not started before t, f the
memory the started ones hold in rounds t + 1..t + H. For each such state the rows report the
schedule's own cost still to come, ``sum_U (C_j - t)`` (the exact cost to go when the schedule
is optimal), next to the search's bounds on it: order statistics alone, with the Lagrangian bound
of the root LP's duals, and with both on the tightened profile (the default).
"""

from __future__ import annotations

import numpy as np

from kvsched.instance import Instance
from kvsched.schedule import Schedule
from kvsched.validator import validate


def path_bounds(instance: Instance, schedule: Schedule, lp_time_limit: float = 20.0) -> list[dict]:
    """One row per round t = 0..(last start) with keys t, waiting, cost_to_go, order_stats,
    lagrangian and tightened (all arrivals at 0: the state is then (U, f), as in the search).
    The schedule is validated first; an infeasible one is a ValueError naming the violation."""
    from . import _Classes, _lagrange_tables
    from . import kernel as K
    from .duals import root_duals

    if any(instance.arrivals):
        raise ValueError("field 'arrivals': path_bounds takes instances with all arrivals at 0")
    report = validate(instance, schedule)  # the profile below is read off the schedule's starts
    if not report.feasible:
        raise ValueError(f"field 'schedule': not a feasible schedule of this instance: {report.message}")
    cls = _Classes(instance)
    H, C, M, n = int(cls.o.max()), len(cls.s), instance.M, instance.n
    T = int(max(schedule.completions)) + 2 * H
    lam, _, waiting = root_duals(cls.s, cls.o, cls.a, cls.n, M, T, lp_time_limit, None)
    if lam is None:
        raise RuntimeError("the root LP did not solve within lp_time_limit")
    tau_of = np.array([int(np.argmax(waiting <= k + 0.5)) for k in range(n + 1)], np.int64)
    lam_l, amin, lam_msuf = (x[None] for x in _lagrange_tables(cls, M, lam, H))
    klass = {j: c for c, members in enumerate(cls.members) for j in members}
    starts, done = schedule.starts, schedule.completions
    rows = []
    for t in range(max(starts) + 1):
        U = [j for j in range(n) if starts[j] >= t]
        R = np.zeros((1, C), np.int8)
        for j in U:
            R[0, klass[j]] += 1
        F = np.zeros((1, H), np.int8 if M <= 127 else np.int16)
        for j in range(n):
            for k in range(1, instance.outputs[j] + 1):
                if starts[j] < t and 1 <= starts[j] + k - t <= H:
                    F[0, starts[j] + k - t - 1] += instance.prompts[j] + k
        row = {"t": t, "waiting": len(U), "cost_to_go": sum(done[j] - t for j in U)}
        for name, use_lag, tighten in (("order_stats", False, False), ("lagrangian", True, False),
                                       ("tightened", True, True)):
            h = K.bound(F.copy(), 0, R, t, H, M, cls.s, cls.o, cls.a, cls.vol, cls.vorder, use_lag, lam_l, amin,
                        lam_msuf, tau_of, 0, np.int64(1) << 60, np.zeros(C, np.int64), np.zeros(C + 1, np.int64),
                        np.zeros((H + 1, H), np.int64), tighten, np.zeros(H + 1, np.int64))
            row[name] = int(h)
        rows.append(row)
    return rows
