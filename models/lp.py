"""The LP relaxation of the time-indexed model (:mod:`models.timeindexed`) as a lower bound.

Same windows as the MILP (cut by the heuristic UB: the cut model keeps every schedule of
value ``<= UB``, so its LP value is still a lower bound on the optimum). The Result carries
the heuristic UB schedule as incumbent (validated) and the LP value as ``bound`` (the
closed-form bound is only quoted in ``message``); without an optimal LP (time limit) the
bound falls back to the closed-form :func:`kvsched.bounds.lower_bound`.
"""

from __future__ import annotations

import time
from typing import Optional

from kvsched.bounds import lower_bound
from kvsched.instance import Instance
from kvsched.result import Result, finish
from kvsched.schedule import Schedule

from .milp import run_highs, solver_version, upper_bound
from .timeindexed import build_model, optimality_windows
from .windows import start_windows


def solve_lp(instance: Instance, time_limit: float = 60.0, threads: int = 1, seed: int = 0,
             ub_schedule: Optional[Schedule] = None, window_cut: bool = True, aggregate: bool = True,
             core: bool = False, **highs_options) -> Result:
    """LP bound of the time-indexed model (``core`` adds the core inequalities)."""
    t0 = time.perf_counter()
    ub_sched, ub, ub_source = upper_bound(instance, ub_schedule)
    windows = optimality_windows(instance, ub) if window_cut else start_windows(instance, ub, cut=False)
    model = build_model(instance, windows, relax=True, aggregate=aggregate, core=core)
    run = run_highs(model, None, time_limit - (time.perf_counter() - t0), threads, seed, highs_options)

    closed_form = lower_bound(instance)
    if run.optimal and run.bound is not None:
        bound, status = run.bound, "feasible"
    else:
        bound = closed_form
        status = "time-limit" if run.time_limit_hit else "error"
    result = Result(
        solver="lp",
        status=status,
        bound=float(bound),
        schedule=ub_sched,
        wall_time=time.perf_counter() - t0,
        solver_version=solver_version(),
        threads=threads,
        seed=seed,
        params={
            "time_limit": time_limit, "window_cut": window_cut, "aggregate": aggregate, "core": core,
            "ub": ub, "ub_source": ub_source, "classes": len(model.classes), **run.size, **highs_options,
        },
        message=f"LP value {run.bound} ({run.status}); closed-form bound {closed_form}; UB {ub} from {ub_source}",
        solver_status=run.status,
    )
    return finish(result, instance)
