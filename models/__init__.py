"""Exact formulations behind lazily imported adapters: each solver's package (pyomo +
highspy, ortools, numba) is imported only when that solver runs.

``solve(name, inst, time_limit=..., hard_limit=True, ...)`` returns a validated
:class:`kvsched.result.Result`. With ``hard_limit`` the solve runs in a child process that
is killed ``grace(time_limit)`` seconds after the solver's own (soft) limit.
"""

from __future__ import annotations

import importlib
import time

from kvsched.hardlimit import HardLimitExceeded, call_with_hard_limit
from kvsched.result import Result, Termination, finish

#: solver name -> (module, function)
SOLVERS = {
    "milp": ("kvsched.models.milp", "solve_milp"),
    "lp": ("kvsched.models.lp", "solve_lp"),
    "cpsat": ("kvsched.models.cpsat", "solve_cpsat"),
    "brute": ("kvsched.models.brute", "solve_brute"),
    "search": ("kvsched.models.search", "solve_search"),
}


def get_solver(name: str):
    if name not in SOLVERS:
        raise KeyError(f"unknown solver {name!r}; known: {sorted(SOLVERS)}")
    module, fn = SOLVERS[name]
    return getattr(importlib.import_module(module), fn)


def hard_limit_for(time_limit: float) -> float:
    """Wall-clock seconds after which a solve is killed: the soft limit plus a grace for
    process start-up, model building and solvers that overrun their own limit."""
    return time_limit * 1.25 + 15.0


def solve(name: str, instance, hard_limit: bool = False, **params) -> Result:
    """Run exact solver ``name``; its raw result is validated here, once (in this process
    also when the solve ran in a hard-limited child)."""
    if name not in SOLVERS:
        raise KeyError(f"unknown solver {name!r}; known: {sorted(SOLVERS)}")
    if not hard_limit:
        return finish(get_solver(name)(instance, **params), instance)
    limit = hard_limit_for(float(params.get("time_limit") or 60.0))
    t0 = time.perf_counter()
    module, fn = SOLVERS[name]
    try:
        res = call_with_hard_limit(module, fn, args=(instance,), kwargs=params, limit=limit)
    except HardLimitExceeded as exc:
        return Result(solver=name, termination=Termination.TIME_LIMIT, wall_time=time.perf_counter() - t0,
                      params=dict(params), message=str(exc))
    except RuntimeError as exc:
        return Result(solver=name, termination=Termination.ERROR, wall_time=time.perf_counter() - t0,
                      params=dict(params), message=str(exc).splitlines()[0])
    return finish(res, instance)
