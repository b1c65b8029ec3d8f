"""The LP relaxation of the time-indexed model (:mod:`models.timeindexed`) as a lower bound.

Same windows as the MILP (:func:`models.timeindexed.optimality_windows` keeps every optimal
schedule, so the LP value of the cut model is still a lower bound on the optimum). By
default the core rows a warm-started cut loop finds violated are added (``core="separate"``;
``core=False`` gives the plain relaxation). The Result carries the heuristic UB schedule as incumbent (validated) and the LP value as
``bound`` (the closed-form bound is quoted in ``message``); without an optimal LP (time
limit, model too large) the bound falls back to the closed-form
:func:`kvsched.bounds.lower_bound`.
"""

from __future__ import annotations

import time
from typing import Optional

from kvsched.bounds import lower_bound
from kvsched.instance import Instance
from kvsched.result import NOT_REPRODUCIBLE, Result, Termination, safety_wall_time
from kvsched.schedule import Schedule

from .highs import ITERATIONS_PER_SECOND
from .milp import HighsSession, separate_core_rows, solver_version, upper_bound
from .timeindexed import ModelTooLarge, build_model, optimality_windows
from .windows import start_windows


def solve_lp(instance: Instance, time_limit: float = 60.0, threads: int = 1, seed: int = 0,
             ub_schedule: Optional[Schedule] = None, window_cut: bool = True, aggregate: bool = True,
             core="separate", max_nonzeros: int = 2_000_000, deterministic: bool = False, **highs_options) -> Result:
    """LP bound of the time-indexed model; ``core``: False, True (every core row) or
    "separate" (the rows a cut loop finds violated, same bound as True up to the loop's limits).
    ``deterministic``: ``time_limit`` is a work budget of ``ITERATIONS_PER_SECOND * time_limit``
    simplex iterations (over every round of the cut loop, :mod:`kvsched.models.highs`); wall
    time is then only a safety stop (:func:`kvsched.result.safety_wall_time`)."""
    t0 = time.perf_counter()
    iterations = None
    params = {"time_limit": time_limit, "deterministic": deterministic}
    if deterministic:
        iterations = max(1, int(ITERATIONS_PER_SECOND * time_limit))
        time_limit = safety_wall_time(time_limit)
        params["iteration_limit"] = iterations
    ub_sched, ub, ub_source = upper_bound(instance, ub_schedule)
    closed_form = lower_bound(instance)
    params.update({
        "window_cut": window_cut, "aggregate": aggregate, "core": core,
        "max_nonzeros": max_nonzeros, "ub": ub, "ub_source": ub_source, **highs_options,
    })
    result = Result(solver="lp", termination=Termination.ERROR, bound=float(closed_form), schedule=ub_sched,
                    solver_version=solver_version(), threads=threads, seed=seed, params=params,
                    deterministic=deterministic)
    windows = optimality_windows(instance, ub) if window_cut else start_windows(instance, ub, cut=False)
    try:
        if core == "separate":
            loop = separate_core_rows(instance, windows, aggregate, time_limit - (time.perf_counter() - t0),
                                      threads, seed, highs_options, max_nonzeros, iteration_limit=iterations)
            model, run, bound, used = loop.model, loop.run, loop.bound, loop.iterations
        else:
            model = build_model(instance, windows, relax=True, aggregate=aggregate, core=bool(core),
                                max_nonzeros=max_nonzeros)
            session = HighsSession(model, threads, seed, highs_options)
            run = session.solve(time_limit - (time.perf_counter() - t0), iteration_limit=iterations)
            bound, used = (run.bound if run.optimal else None), run.iterations
    except ModelTooLarge as exc:
        result.message = f"{exc}; closed-form bound {closed_form}"
        result.wall_time = time.perf_counter() - t0
        return result

    stopped = Termination.WORK_LIMIT if run.work_limit_hit else Termination.TIME_LIMIT
    if bound is not None:
        # with "separate", the last LP may have hit the time (work) limit: the bound is then
        # the previous round's (fewer rows, still valid)
        result.bound = float(bound)
        result.termination = Termination.CONVERGED if run.optimal else stopped
    elif run.time_limit_hit or run.work_limit_hit:
        result.termination = stopped
    result.message = f"LP value {bound} ({run.status}); closed-form bound {closed_form}; UB {ub} from {ub_source}"
    if deterministic and run.time_limit_hit:
        result.message += f"; {NOT_REPRODUCIBLE}"
    params["lp_iterations"] = used
    result.solver_status = run.status
    params.update(classes=len(model.classes), core_rows=len(model.core), **run.size)
    result.wall_time = time.perf_counter() - t0
    return result
