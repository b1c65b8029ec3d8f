"""``certify``: combine incumbents and bounds from every method into a checked gap.

Order: every registered offline heuristic, then the state-space search (n <=
``SEARCH_MAX_N``, where it measured fastest: results/bench_exact.md), the exhaustive oracle
(n <= 7), CP-SAT
(hinted with the best schedule so far) and the time-indexed MILP (windows cut by the best
UB so far), each with its own time limit and a hard wall-clock limit. The best validated
incumbent and the best proven bound are combined; "optimal" is said only when the
incumbent equals the rounded-up best bound. Once that holds the remaining exact solvers are
skipped unless ``run_all`` is set.
"""

from __future__ import annotations

import datetime
import math
import platform
import time
from dataclasses import dataclass, field
from typing import Optional

from kvsched import heuristics, models
from kvsched.bounds import lower_bound
from kvsched.instance import Instance
from kvsched.result import SKIPPED, Result, gap, is_proven_optimal
from kvsched.schedule import Schedule

BRUTE_MAX_N = 7
#: certify runs the state-space search first up to this n (results/bench_exact.md) and M
SEARCH_MAX_N, SEARCH_MAX_M = 30, 32767


@dataclass
class Certificate:
    instance: Instance
    objective: int
    bound: float
    schedule: Schedule
    best_solver: str
    bound_solver: str
    records: list = field(default_factory=list)  # one Result per method
    wall_time: float = 0.0

    @property
    def optimal(self) -> bool:
        return is_proven_optimal(self.objective, self.bound)

    @property
    def status(self) -> str:
        return "optimal" if self.optimal else "feasible"

    @property
    def gap(self) -> Optional[float]:
        return gap(self.objective, self.bound)

    def to_json(self) -> dict:
        return {
            "instance_hash": self.instance.digest,
            "instance": self.instance.to_dict(),
            "objective": self.objective,
            "bound": self.bound,
            "ceil_bound": math.ceil(self.bound - 1e-6),
            "status": self.status,
            "gap": self.gap,
            "starts": self.schedule.starts,
            "runs": self.schedule.runs_list(),
            "best_solver": self.best_solver,
            "bound_solver": self.bound_solver,
            "wall_time": round(self.wall_time, 3),
            "records": [_record(r) for r in self.records],
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "python": platform.python_version(),
        }


def _record(r: Result) -> dict:
    d = r.to_json()
    d.pop("runs", None)
    d.pop("starts", None)
    return d


def certify(
    instance: Instance,
    time_limit: float = 60.0,
    milp_time_limit: Optional[float] = None,
    cpsat_time_limit: Optional[float] = None,
    threads: int = 2,
    seed: int = 0,
    run_all: bool = False,
    hard_limit: bool = True,
    progress=None,
) -> Certificate:
    """Certify ``instance``. ``progress(msg)`` is called after each method if given."""
    t0 = time.perf_counter()
    say = progress or (lambda msg: None)
    records = []
    closed = Result(solver="closed-form", status="feasible", bound=float(lower_bound(instance)))
    records.append(closed)
    for name in heuristics.HEURISTICS:
        res = heuristics.run(name, instance, bound=closed.bound)
        records.append(res)
        say(f"{name}: {res.objective}")

    def best_incumbent() -> Result:
        return min((r for r in records if r.objective is not None), key=lambda r: r.objective)

    def best_bound() -> Result:
        return max((r for r in records if r.bound is not None), key=lambda r: r.bound)

    plan = []
    if instance.n <= SEARCH_MAX_N and instance.M <= SEARCH_MAX_M:
        plan.append(("search", {"time_limit": time_limit}))
    if instance.n <= BRUTE_MAX_N:
        plan.append(("brute", {"time_limit": time_limit}))
    # the core inequalities pay off when every request has the same prompt size (Jaillet's
    # families); with mixed prompts they are weak and slow CP-SAT down (results/bench_cpsat.md)
    one_prompt = len(set(instance.prompts)) == 1
    plan.append(("cpsat", {"time_limit": cpsat_time_limit or time_limit, "threads": threads, "seed": seed,
                           "core": one_prompt}))
    plan.append(("milp", {"time_limit": milp_time_limit or time_limit, "threads": threads, "seed": seed}))
    for name, params in plan:
        if not run_all and is_proven_optimal(best_incumbent().objective, best_bound().bound):
            records.append(Result(solver=name, status=SKIPPED, message="skipped: already proven optimal"))
            continue
        params = dict(params)
        params["ub_schedule"] = best_incumbent().schedule
        res = models.solve(name, instance, hard_limit=hard_limit, **params)
        res.params = {k: v for k, v in params.items() if k != "ub_schedule"}
        records.append(res)
        say(f"{name}: {res.status} objective {res.objective} bound {res.bound}")

    inc, bnd = best_incumbent(), best_bound()
    return Certificate(
        instance=instance,
        objective=inc.objective,
        bound=bnd.bound,
        schedule=inc.schedule,
        best_solver=inc.solver,
        bound_solver=bnd.solver,
        records=records,
        wall_time=time.perf_counter() - t0,
    )
