"""One result record for every solver, heuristic, policy and certificate (after PyJobShop's
``Result`` and Pyomo's ``TerminationCondition`` / ``SolutionStatus``).

A result stores *why the method stopped* (:class:`Termination`) and its raw numbers; every
judgement is derived, never stored:

- ``objective`` is the incumbent's TEL (= TCT when all arrivals are 0), set by :func:`finish`
  from the validator, never from the solver;
- ``bound`` is a proven lower bound, ``ceil_bound`` its rounded-up value (the one home of the
  1e-6 tolerance for LP noise), ``gap = (UB - ceil(LB)) / UB``;
- ``optimal`` holds only when a validated incumbent equals ``ceil_bound``;
- ``solution`` (:class:`SolutionStatus`) says whether a validated schedule exists;
- ``status`` is the one-word summary of the ``--json`` contract: ``optimal``, ``feasible``,
  ``infeasible``, ``time-limit``, ``error`` (and ``skipped`` in certificate records).

Solvers, heuristics and policies return *raw* results (schedule not yet validated);
:func:`finish` validates once, at the boundary (``models.solve``, ``heuristics.run``, the
online runner). A certificate is a ``Result`` whose ``records`` hold one result per method.
:func:`to_json` is the one serialisation of every command's ``--json`` output.
"""

from __future__ import annotations

import datetime
import enum
import math
import platform
from dataclasses import asdict, dataclass, field
from typing import Optional

from .instance import Instance
from .schedule import Schedule
from .validator import ValidationReport, validate

#: tolerance under which a fractional bound (LP noise) still rounds down to the integer below
BOUND_TOLERANCE = 1e-6


class Termination(str, enum.Enum):
    """Why a method stopped (after Pyomo's ``TerminationCondition``)."""

    CONVERGED = "converged"      # ran to its end: a heuristic finished, a solver met its stopping rule
    TIME_LIMIT = "time-limit"    # wall-clock limit (the solver's own or the hard kill)
    WORK_LIMIT = "work-limit"    # deterministic work limit (CP-SAT deterministic time, HiGHS nodes)
    MEMORY_LIMIT = "memory-limit"  # a method's own memory cap (the state-space search's store)
    INTERRUPTED = "interrupted"  # cut off by the caller: Ctrl-C, SIGTERM, a shared budget running out
    INFEASIBLE = "infeasible"    # the instance has no feasible schedule (proven)
    ERROR = "error"              # the method failed, or its numbers contradict each other
    SKIPPED = "skipped"          # not run (certify: optimality already proven, or it cannot fit)


class SolutionStatus(str, enum.Enum):
    """What the incumbent is (after Pyomo's ``SolutionStatus``); derived, never stored."""

    NO_SOLUTION = "none"
    UNVALIDATED = "unvalidated"  # a raw result: a schedule the validator has not seen yet
    INFEASIBLE = "infeasible"    # the validator rejected the schedule (``kvsched validate`` only)
    FEASIBLE = "feasible"
    OPTIMAL = "optimal"          # validated and equal to the rounded-up proven bound


#: the ``status`` strings of the ``--json`` contract
STATUSES = ("optimal", "feasible", "infeasible", "time-limit", "error", "skipped")


class InvalidScheduleError(RuntimeError):
    """A solver or heuristic returned a schedule the validator rejects (a bug, never clipped)."""


def ceil_bound(bound: Optional[float]) -> Optional[int]:
    """The rounded-up proven bound: every schedule's TEL is an integer ``>= ceil(bound)``."""
    return None if bound is None else math.ceil(bound - BOUND_TOLERANCE)


def gap(objective: Optional[float], bound: Optional[float]) -> Optional[float]:
    """``(UB - ceil(LB)) / UB``; ``None`` if either side is missing."""
    if objective is None or bound is None or objective <= 0:
        return None
    return max(0.0, (objective - ceil_bound(bound)) / objective)


def is_proven_optimal(objective: Optional[float], bound: Optional[float]) -> bool:
    """Incumbent equals the rounded-up proven bound."""
    return objective is not None and bound is not None and objective <= ceil_bound(bound)


#: message of a deterministic-mode method stopped by the wall clock instead of its work limit
NOT_REPRODUCIBLE = "deterministic mode: stopped by the wall-clock safety, not reproducible"


def safety_wall_time(work_limit: float) -> float:
    """Deterministic mode: the wall-clock stop behind a work limit (``30 x + 30`` seconds:
    CP-SAT's deterministic clock needs up to 19 wall seconds per unit on the large Jaillet
    models under load, docs/model.md §6.3); a method stopped by it is recorded ``time-limit``
    and its result is no longer reproducible."""
    return 30.0 * float(work_limit) + 30.0


def objective_of(instance: Instance, schedule: Schedule) -> int:
    """TEL from the schedule's completions alone, *without* checking feasibility: for warm
    starts and comparisons inside a method; the boundary validates what is reported."""
    return int(sum(schedule.completions) - sum(instance.arrivals))


@dataclass
class Result:
    solver: str
    termination: Termination = Termination.CONVERGED
    objective: Optional[int] = None
    bound: Optional[float] = None
    schedule: Optional[Schedule] = None
    report: Optional[ValidationReport] = None
    wall_time: float = 0.0
    solver_version: str = ""
    threads: Optional[int] = None
    seed: Optional[int] = None
    params: dict = field(default_factory=dict)
    message: str = ""
    solver_status: str = ""  # the solver's own label, for the record only
    deterministic: bool = False  # limits in deterministic work units, fixed workers (see certify)
    records: list = field(default_factory=list)  # a certificate's per-method results
    instance: Optional[Instance] = field(default=None, repr=False)  # the instance a certificate is about

    def __post_init__(self):
        self.termination = Termination(self.termination)

    @property
    def ceil_bound(self) -> Optional[int]:
        return ceil_bound(self.bound)

    @property
    def gap(self) -> Optional[float]:
        return gap(self.objective, self.bound)

    @property
    def solution(self) -> SolutionStatus:
        if self.schedule is None:
            return SolutionStatus.NO_SOLUTION
        if self.report is None:
            return SolutionStatus.UNVALIDATED
        if not self.report.feasible:
            return SolutionStatus.INFEASIBLE
        if is_proven_optimal(self.objective, self.bound):
            return SolutionStatus.OPTIMAL
        return SolutionStatus.FEASIBLE

    @property
    def optimal(self) -> bool:
        """A validated incumbent equal to the rounded-up proven bound."""
        return self.termination is not Termination.ERROR and self.solution is SolutionStatus.OPTIMAL

    @property
    def status(self) -> str:
        """The ``--json`` status word, derived from the termination and the solution."""
        t = self.termination
        if t is Termination.ERROR:
            return "error"
        if t is Termination.SKIPPED:
            return "skipped"
        if t is Termination.INFEASIBLE or self.solution is SolutionStatus.INFEASIBLE:
            return "infeasible"
        if self.optimal:
            return "optimal"
        if t in (Termination.TIME_LIMIT, Termination.WORK_LIMIT, Termination.INTERRUPTED):
            return "time-limit"
        return "feasible"

    @property
    def best_solver(self) -> Optional[str]:
        """A certificate's: the first record with the best validated objective."""
        found = [r for r in self.records if r.objective is not None and r.report is not None]
        return min(found, key=lambda r: r.objective).solver if found else None

    @property
    def bound_solver(self) -> Optional[str]:
        """A certificate's: the first record with the best proven bound."""
        found = [r for r in self.records if r.bound is not None and r.termination is not Termination.ERROR]
        return max(found, key=lambda r: r.bound).solver if found else None

    def to_json(self, instance: Optional[Instance] = None) -> dict:
        return to_json(self, instance or self.instance)


def to_json(result: Result, instance: Optional[Instance] = None, schedule: bool = True) -> dict:
    """The one ``--json`` shape of ``solve``, ``run``, ``certify``, ``validate`` and ``simulate``:
    objective, bound, ceil_bound, status (with its parts termination and solution), gap, starts,
    runs, wall_time, the solver's details and the validator's report; a certificate adds
    best_solver, bound_solver, its per-method records (without schedules), the instance and
    when it was made."""
    sched, rep = result.schedule, result.report
    out = {
        "solver": result.solver,
        "objective": result.objective,
        "bound": result.bound,
        "ceil_bound": result.ceil_bound,
        "status": result.status,
        "termination": result.termination.value,
        "solution": result.solution.value,
        "gap": result.gap,
        "wall_time": round(result.wall_time, 6),
        "solver_version": result.solver_version,
        "threads": result.threads,
        "seed": result.seed,
        "deterministic": result.deterministic,
        "params": result.params,
        "message": result.message,
        "solver_status": result.solver_status,
    }
    if schedule:
        out["starts"] = sched.starts if sched else None
        out["runs"] = sched.runs_list() if sched else None
    if rep is not None:
        out.update(feasible=rep.feasible, tct=rep.tct, avg_latency=rep.avg_latency, makespan=rep.makespan,
                   peak_memory=rep.peak_memory, cancelled_runs=rep.cancelled_runs, wasted_tokens=rep.wasted_tokens,
                   violation=None if rep.violation is None else {
                       "round": rep.violation.round, "memory": rep.violation.memory,
                       "requests": list(rep.violation.holders)})
    out["validation"] = None if rep is None else {
        k: v for k, v in asdict(rep).items() if k not in ("violation", "errors")}
    if result.records:
        out["best_solver"] = result.best_solver
        out["bound_solver"] = result.bound_solver
        out["records"] = [to_json(r, schedule=False) for r in result.records]
        out["created"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        out["python"] = platform.python_version()
    if instance is not None:
        out["instance_hash"] = instance.digest
        out["instance"] = instance.to_dict()
    return out


def checked(instance: Instance, schedule: Schedule) -> ValidationReport:
    """Validate a schedule about to be reported; raise if infeasible."""
    rep = validate(instance, schedule)
    if not rep.feasible:
        raise InvalidScheduleError(f"returned schedule is infeasible: {rep.message}")
    return rep


def finish(result: Result, instance: Instance) -> Result:
    """Validate a raw result's incumbent (the one validator call of a solve) and set
    ``objective`` from the validator. A proven bound above the validated objective is
    impossible: the result becomes an error. Call once, at the boundary; a finished result
    is never edited and finished again."""
    if result.report is not None:
        raise RuntimeError(f"{result.solver}: result already finished (validated once, at the boundary)")
    if result.schedule is not None:
        result.report = checked(instance, result.schedule)
        result.objective = result.report.objective
    if result.termination in (Termination.INFEASIBLE, Termination.ERROR):
        return result
    if result.objective is not None and result.bound is not None and result.ceil_bound > result.objective:
        result.termination = Termination.ERROR
        result.message = (f"bound {result.bound} exceeds the validated objective {result.objective}; "
                          + result.message).strip("; ")
    return result
