"""One result record for every solver, heuristic and policy (after PyJobShop's ``Result``
and Pyomo's new solver results).

``objective`` is the incumbent's TEL (= TCT when all arrivals are 0), always from the
validator, never from the solver. ``bound`` is a proven lower bound. ``gap`` is ours:
``(UB - ceil(LB)) / UB``. "optimal" is said only when ``UB == ceil(LB)``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Optional

from .instance import Instance
from .schedule import Schedule
from .validator import ValidationReport, validate

STATUSES = ("optimal", "feasible", "infeasible", "time-limit", "error")
#: only in certify's per-solver records: a solver not run because optimality was already proven
SKIPPED = "skipped"


class InvalidScheduleError(RuntimeError):
    """A solver or heuristic returned a schedule the validator rejects (a bug, never clipped)."""


def gap(objective: Optional[float], bound: Optional[float]) -> Optional[float]:
    """``(UB - ceil(LB)) / UB``; ``None`` if either side is missing."""
    if objective is None or bound is None or objective <= 0:
        return None
    return max(0.0, (objective - math.ceil(bound - 1e-6)) / objective)


def is_proven_optimal(objective: Optional[float], bound: Optional[float]) -> bool:
    """Incumbent equals the rounded-up proven bound (bound tolerance 1e-6 for LP noise)."""
    return objective is not None and bound is not None and objective <= math.ceil(bound - 1e-6)


@dataclass
class Result:
    solver: str
    status: str
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

    @property
    def gap(self) -> Optional[float]:
        return gap(self.objective, self.bound)

    def to_json(self) -> dict:
        """The ``--json`` contract: objective, bound, status, gap, starts, runs, wall_time, ..."""
        sched = self.schedule
        rep = self.report
        return {
            "solver": self.solver,
            "objective": self.objective,
            "bound": self.bound,
            "status": self.status,
            "gap": self.gap,
            "starts": sched.starts if sched else None,
            "runs": sched.runs_list() if sched else None,
            "wall_time": round(self.wall_time, 6),
            "solver_version": self.solver_version,
            "threads": self.threads,
            "seed": self.seed,
            "params": self.params,
            "message": self.message,
            "solver_status": self.solver_status,
            "validation": None if rep is None else {
                k: v for k, v in asdict(rep).items() if k not in ("violation", "errors")
            },
        }


def checked(instance: Instance, schedule: Schedule) -> ValidationReport:
    """Validate a schedule a solver or heuristic is about to report; raise if infeasible."""
    rep = validate(instance, schedule)
    if not rep.feasible:
        raise InvalidScheduleError(f"returned schedule is infeasible: {rep.message}")
    return rep


def finish(result: Result, instance: Instance) -> Result:
    """Validate the incumbent, set ``objective`` from the validator and the status from the
    bound. Call on every result before it is reported."""
    if result.schedule is not None:
        result.report = checked(instance, result.schedule)
        result.objective = result.report.tel
    if result.status in ("infeasible", "error"):
        return result
    if result.objective is not None and result.bound is not None and math.ceil(result.bound - 1e-6) > result.objective:
        # a proven bound above a validated schedule's value is impossible: the bound is wrong
        result.status = "error"
        result.message = (f"bound {result.bound} exceeds the validated objective {result.objective}; "
                          + result.message).strip("; ")
        return result
    if is_proven_optimal(result.objective, result.bound):
        result.status = "optimal"
    elif result.status == "optimal":  # the solver said so, our check did not confirm it
        result.status = "feasible" if result.objective is not None else "error"
    return result
