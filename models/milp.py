"""The time-indexed MILP (:mod:`models.timeindexed`) solved by HiGHS through Pyomo's new
solver interface (``pyomo.contrib.solver``, persistent ``highs``).

The best heuristic schedule (``heuristics.best_of``, or ``ub_schedule``) is the upper bound
UB that cuts the start windows (``p_i - a_i <= UB - sum_j o_j``, tightened by
:func:`models.timeindexed.optimality_windows`; every optimal schedule stays inside) and
the MIP start: the interface has no warm-start flag, so after ``set_instance`` the class
counts of the start are handed to the underlying ``highspy.Highs`` object with
``setSolution`` (HiGHS logs "MIP start solution is feasible" when it takes it). HiGHS runs
with ``mip_rel_gap = 0`` and ``mip_abs_gap = 0.999`` (TEL is integral). By default a root
LP cut loop first adds the violated core rows (:func:`separate_core_rows`). The incumbent
is the better of the heuristic and the MILP schedule, always validated; the bound is
``max(HiGHS dual bound, closed-form lower_bound)``.
Pyomo and highspy are imported inside the functions (lazy adapter).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Optional

from kvsched.bounds import lower_bound
from kvsched.instance import Instance
from kvsched.result import NOT_REPRODUCIBLE, Result, Termination, objective_of, safety_wall_time
from kvsched.schedule import Schedule

from .highs import CHECKS_PER_SECOND, ITERATIONS_PER_SECOND
from .timeindexed import (
    ModelTooLarge,
    add_core_rows,
    build_model,
    class_counts,
    disaggregate,
    estimated_nonzeros,
    optimality_windows,
    violated_core_rows,
)
from .windows import start_windows

MIP_ABS_GAP = 0.999  # the objective is integral: a gap below 1 proves optimality
START_ACCEPTED = "MIP start solution is feasible"
#: HiGHS 1.16's MIP presolve ignores the time limit on big time-indexed models and rarely
#: reduces them (measured: 75 s, "Not reduced", on a 672k-nonzero jaillet n = 50 model):
#: above this many nonzeros it is switched off unless the caller sets ``presolve``
PRESOLVE_OFF_ABOVE = 200_000
#: deterministic mode: branch-and-bound nodes allowed per second of the nominal time limit
NODES_PER_SECOND = 10
_scheduler_threads = None  # threads of HiGHS's process-wide scheduler, as last set here


def solver_version() -> str:
    from importlib.metadata import version

    return f"highspy {version('highspy')} / pyomo {version('pyomo')}"


def upper_bound(instance: Instance, ub_schedule: Optional[Schedule] = None) -> tuple:
    """``(schedule, UB, source)``: the given schedule (re-expressed by its final starts) or
    the best heuristic schedule; not validated here (the boundary validates what is reported)."""
    if ub_schedule is None:
        from kvsched.heuristics import warm_start

        return warm_start(instance)
    sched = Schedule.from_starts(instance, ub_schedule.starts)
    return sched, objective_of(instance, sched), "given"


@dataclass
class HighsRun:
    """What one HiGHS run reported (raw, before validation)."""

    status: str  # HiGHS's own model-status label
    time_limit_hit: bool
    optimal: bool
    incumbent: Optional[float]  # HiGHS's primal objective, None without a solution
    bound: Optional[float]  # dual bound (MIP) or optimal LP value; None if unknown
    counts: Optional[dict]  # {(class, t): value} of the solution
    start_accepted: Optional[bool]  # None when no start was given
    log: str = ""
    size: dict = field(default_factory=dict)
    iterations: int = 0  # simplex iterations of an LP solve (HiGHS reports none for a MIP)
    work_limit_hit: bool = False  # stopped by ``iteration_limit`` or ``check_limit``
    checks: int = 0  # MIP limit checks counted (with ``check_limit``)


def _own_interrupt(record) -> bool:
    """Logging filter: drop Pyomo's warning about HiGHS's interrupt status."""
    return "kInterrupt" not in record.getMessage()


class HighsSession:
    """One persistent HiGHS model built from a :func:`models.timeindexed.build_model` model.
    Rows added to the Pyomo model later (``add_core_rows``) reach HiGHS on the next
    :meth:`solve`, which then warm-starts from the previous basis."""

    def __init__(self, model, threads: int = 1, seed: int = 0, highs_options: Optional[dict] = None):
        import highspy
        from pyomo.contrib.solver.solvers.highs import Highs

        global _scheduler_threads
        self.model = model
        self.opt = opt = Highs()
        cfg = opt.config
        cfg.threads = int(threads)
        cfg.rel_gap = 0.0
        cfg.abs_gap = MIP_ABS_GAP
        cfg.load_solutions = False
        cfg.raise_exception_on_nonoptimal_result = False
        cfg.solver_options = {"random_seed": int(seed), **(highs_options or {})}
        opt.set_instance(model)
        if _scheduler_threads != cfg.threads:
            # HiGHS keeps one thread scheduler per process, fixed by the first solve: reset
            # it when ``threads`` changes (HiGHS otherwise refuses to run)
            highspy.Highs.resetGlobalScheduler(True)
            _scheduler_threads = cfg.threads
        self.highs = opt._solver_model  # the highspy.Highs object behind the interface
        self.column = {key: opt._pyomo_var_to_solver_var_map[id(model.y[key])] for key in model.CT}

    def solve(self, time_limit: float, start_counts: Optional[dict] = None, iteration_limit: Optional[int] = None,
              check_limit: Optional[int] = None) -> HighsRun:
        """Run HiGHS; ``start_counts`` ``{(c, t): y}`` is the MIP start (other variables 0).
        Work limits (deterministic mode): ``iteration_limit`` simplex iterations (an LP),
        ``check_limit`` MIP limit checks (the interrupt callback stops the MIP at that one)."""
        import highspy
        import numpy as np
        from pyomo.contrib.solver.common.results import TerminationCondition

        highs = self.highs
        if start_counts is not None:
            values = np.zeros(len(self.column))
            for key, val in start_counts.items():
                values[self.column[key]] = val
            highs.setSolution(len(values), np.arange(len(values), dtype=np.int32), values)
        options = self.opt.config.solver_options
        if iteration_limit is not None:
            options["simplex_iteration_limit"] = max(0, int(iteration_limit))
        checks = [0]

        def count_check(event):
            checks[0] += 1
            if checks[0] >= check_limit:
                event.interrupt()

        pyomo_log = logging.getLogger("pyomo.contrib.solver.solvers.highs")
        if check_limit is not None:  # our own interrupt: Pyomo would warn that it has no name for it
            highs.cbMipInterrupt.subscribe(count_check)
            pyomo_log.addFilter(_own_interrupt)
        try:
            res = self.opt.solve(self.model, time_limit=max(0.0, float(time_limit)))
        finally:
            options.pop("simplex_iteration_limit", None)
            if check_limit is not None:
                highs.cbMipInterrupt.unsubscribe(count_check)
                pyomo_log.removeFilter(_own_interrupt)

        has_solution = highs.getInfo().primal_solution_status == 2
        counts = None
        if has_solution:
            col_value = highs.getSolution().col_value
            counts = {key: col_value[j] for key, j in self.column.items()}
        bound = res.objective_bound
        if bound is not None and not math.isfinite(bound):
            bound = None
        log = res.solver_log or ""
        status = highs.getModelStatus()
        work_hit = status == highspy.HighsModelStatus.kIterationLimit or (
            check_limit is not None and status == highspy.HighsModelStatus.kInterrupt)
        return HighsRun(
            status=highs.modelStatusToString(status),
            time_limit_hit=res.termination_condition == TerminationCondition.maxTimeLimit,
            optimal=res.termination_condition == TerminationCondition.convergenceCriteriaSatisfied,
            incumbent=res.incumbent_objective if has_solution else None,
            bound=bound,
            counts=counts,
            start_accepted=None if start_counts is None else START_ACCEPTED in log,
            log=log,
            size={"columns": highs.getNumCol(), "rows": highs.getNumRow()},
            iterations=max(0, int(highs.getInfo().simplex_iteration_count)),
            work_limit_hit=work_hit,
            checks=checks[0],
        )


def run_highs(model, start_counts: Optional[dict] = None, time_limit: float = 60.0, threads: int = 1,
              seed: int = 0, highs_options: Optional[dict] = None) -> HighsRun:
    """Build a :class:`HighsSession` and solve once."""
    return HighsSession(model, threads, seed, highs_options).solve(time_limit, start_counts)


@dataclass
class CutLoop:
    """Outcome of :func:`separate_core_rows`."""

    rows: list  # core rows added, (L, k, h, tau)
    bound: Optional[float]  # last LP value solved to optimality (None: none was)
    run: Optional[HighsRun]  # the last HiGHS run
    model: object = None  # the relaxed Pyomo model with the rows
    iterations: int = 0  # simplex iterations over all rounds


def separate_core_rows(instance: Instance, windows: list, aggregate: bool = True, time_limit: float = 60.0,
                       threads: int = 1, seed: int = 0, highs_options: Optional[dict] = None,
                       max_nonzeros: int = 2_000_000, max_rounds: int = 50, per_round: int = 200,
                       iteration_limit: Optional[int] = None) -> CutLoop:
    """Root cut loop on the LP relaxation: add the ``per_round`` most violated core rows and
    re-solve (warm-started) until none is violated, or ``max_rounds`` / the time limit /
    ``iteration_limit`` simplex iterations over all rounds (deterministic mode)."""
    t0 = time.perf_counter()
    model = build_model(instance, windows, relax=True, aggregate=aggregate, max_nonzeros=max_nonzeros)
    session = HighsSession(model, threads, seed, highs_options)
    loop = CutLoop(rows=[], bound=None, run=None, model=model)
    for _ in range(max_rounds):
        left = None if iteration_limit is None else iteration_limit - loop.iterations
        if left is not None and left <= 0:
            break
        loop.run = session.solve(time_limit - (time.perf_counter() - t0), iteration_limit=left)
        loop.iterations += loop.run.iterations
        if not loop.run.optimal:
            break
        loop.bound = loop.run.bound
        violated = violated_core_rows(model.classes, instance.M, loop.run.counts)[:per_round]
        if not violated:
            break
        new = [row for _, row in violated]
        add_core_rows(model, model.classes, new)
        loop.rows += new
    return loop


def solve_milp(instance: Instance, time_limit: float = 60.0, threads: int = 1, seed: int = 0,
               ub_schedule: Optional[Schedule] = None, window_cut: bool = True, aggregate: bool = True,
               core="separate", mip_start: bool = True, max_nonzeros: int = 2_000_000,
               deterministic: bool = False, **highs_options) -> Result:
    """Time-indexed MILP with HiGHS. ``time_limit`` covers the heuristic, the model build and
    the solve; ``window_cut`` selects :func:`optimality_windows` (else the uncut horizon);
    ``core`` adds the core inequalities (True: all; "separate", the default: those a root
    LP cut loop finds violated; False: none); extra keyword options go to HiGHS. A model above
    ``max_nonzeros`` is not built: the result is then "error" with the heuristic incumbent.
    ``deterministic``: ``time_limit`` is a work budget. The root cut loop stops after
    ``ITERATIONS_PER_SECOND * time_limit / 2`` simplex iterations, HiGHS's MIP after
    ``CHECKS_PER_SECOND * time_limit`` limit checks (:mod:`kvsched.models.highs`) or
    :data:`NODES_PER_SECOND` nodes per second of ``time_limit`` (``mip_max_nodes``), so a rerun
    with the same ``threads`` and ``seed`` gives the same result; wall time is then only a
    safety stop (:func:`kvsched.result.safety_wall_time`)."""
    t0 = time.perf_counter()
    loop_iterations = checks = None
    if deterministic:
        highs_options = {"mip_max_nodes": max(1, int(NODES_PER_SECOND * time_limit)), **highs_options}
        loop_iterations = max(1, int(ITERATIONS_PER_SECOND * time_limit / 2))
        checks = max(1, int(CHECKS_PER_SECOND * time_limit))
        time_limit = safety_wall_time(time_limit)
    ub_sched, ub, ub_source = upper_bound(instance, ub_schedule)
    params = {
        "time_limit": time_limit, "window_cut": window_cut, "aggregate": aggregate, "core": core,
        "mip_start": mip_start, "mip_rel_gap": 0.0, "mip_abs_gap": MIP_ABS_GAP, "max_nonzeros": max_nonzeros,
        "ub": ub, "ub_source": ub_source, "deterministic": deterministic, **highs_options,
    }
    result = Result(solver="milp", deterministic=deterministic, bound=float(lower_bound(instance)), schedule=ub_sched,
                    solver_version=solver_version(), threads=threads, seed=seed, params=params)
    windows = optimality_windows(instance, ub) if window_cut else start_windows(instance, ub, cut=False)
    try:
        cut_loop_bound, rows = None, bool(core)
        if core == "separate":  # at most half of the time left (deterministic: of the work)
            share = 1 if deterministic else 2
            loop = separate_core_rows(instance, windows, aggregate, (time_limit - (time.perf_counter() - t0)) / share,
                                      threads, seed, highs_options, max_nonzeros, iteration_limit=loop_iterations)
            cut_loop_bound, rows = loop.bound, loop.rows
            params["lp_iterations"] = loop.iterations
        model = build_model(instance, windows, relax=False, aggregate=aggregate, core=rows,
                            max_nonzeros=max_nonzeros)
    except ModelTooLarge as exc:
        result.termination, result.message = Termination.ERROR, f"{exc}; UB {ub} from {ub_source}"
        result.wall_time = time.perf_counter() - t0
        return result
    classes = model.classes
    start = class_counts(classes, ub_sched.starts) if mip_start else None
    if "presolve" not in highs_options and estimated_nonzeros(classes) > PRESOLVE_OFF_ABOVE:
        highs_options = {**highs_options, "presolve": "off"}
        params["presolve"] = "off"
    session = HighsSession(model, threads, seed, highs_options)  # (set_instance takes time on big models)
    run = session.solve(time_limit - (time.perf_counter() - t0), start, check_limit=checks)

    if run.counts is not None:
        mip_sched = Schedule.from_starts(instance, disaggregate(classes, run.counts, instance.n))
        if objective_of(instance, mip_sched) < ub:
            result.schedule = mip_sched
    for bound in (run.bound, cut_loop_bound):
        if bound is not None:
            result.bound = max(result.bound, float(bound))
    result.termination = Termination.TIME_LIMIT if run.time_limit_hit else Termination.CONVERGED
    work_limit = run.work_limit_hit or "limit" in run.status.lower()  # "Solution limit reached" on mip_max_nodes
    if deterministic and not (run.optimal or run.time_limit_hit) and work_limit:
        result.termination = Termination.WORK_LIMIT
    result.message = (f"UB {ub} from {ub_source}; HiGHS incumbent {run.incumbent}, dual bound {run.bound}; "
                      f"root LP with core rows {cut_loop_bound}")
    if deterministic and run.time_limit_hit:
        result.message += f"; {NOT_REPRODUCIBLE}"
    if run.start_accepted is not None:
        result.message += "; MIP start accepted" if run.start_accepted else "; MIP start REJECTED"
    if not (run.optimal or run.time_limit_hit or run.work_limit_hit or run.counts is not None):
        result.termination, result.message = Termination.ERROR, f"HiGHS ended with '{run.status}'; {result.message}"
    result.solver_status = run.status
    params.update(classes=len(classes), core_rows=len(model.core), mip_checks=run.checks, **run.size)
    result.wall_time = time.perf_counter() - t0
    return result
