"""Heuristics on the KV-cache model. :func:`run` is the one entry point that times a
heuristic, validates its schedule and returns a :class:`kvsched.result.Result`."""

from __future__ import annotations

import time
from typing import Callable, Dict, Optional

from kvsched.instance import Instance
from kvsched.result import Result, finish, objective_of

from .baselines import fcfs, mcsf
from .largest_batch import largest_batch
from .sorted_f import sorted_f

HEURISTICS: Dict[str, Callable] = {
    "fcfs": fcfs,
    "mcsf": mcsf,
    "sorted-f": sorted_f,
    "largest-batch": largest_batch,
}


def register(name: str, fn: Callable) -> None:
    """Add a heuristic ``fn(instance, **params) -> Schedule`` under ``name``."""
    HEURISTICS[name] = fn


def run(name: str, instance: Instance, bound: Optional[float] = None, **params) -> Result:
    """Run heuristic ``name`` with ``params``; the schedule is validated (once) before the
    result is returned. ``bound``: a proven lower bound to report beside it (gap, status)."""
    if name not in HEURISTICS:
        raise KeyError(f"unknown heuristic {name!r}; known: {sorted(HEURISTICS)}")
    t0 = time.perf_counter()
    schedule = HEURISTICS[name](instance, **params)
    wall = time.perf_counter() - t0
    res = Result(solver=name, schedule=schedule, wall_time=wall, params=dict(params),
                 bound=bound)
    return finish(res, instance)


#: heuristics run to get the upper bound / warm start of the exact models
WARM_START = ("mcsf", "fcfs")


def best_of(instance: Instance, names=WARM_START) -> Result:
    """The best validated schedule among the named heuristics (ties: first name)."""
    results = [run(name, instance) for name in names]
    return min(results, key=lambda r: r.objective)


def warm_start(instance: Instance, names=WARM_START) -> tuple:
    """``(schedule, objective, name)``: the best raw schedule among the named heuristics (ties:
    first name), for an exact solver's upper bound and hint. Not validated: the solver's
    boundary (:func:`kvsched.models.solve`) validates whatever schedule it reports."""
    best = None
    for name in names:
        sched = HEURISTICS[name](instance)
        value = objective_of(instance, sched)
        if best is None or value < best[1]:
            best = (sched, value, name)
    return best
