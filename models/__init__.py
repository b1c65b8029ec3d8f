"""Exact formulations behind lazily imported adapters: each solver's package (pyomo +
highspy, ortools, numba) is imported only when that solver runs.

``solve(name, inst, time_limit=..., hard_limit=True, ...)`` returns a validated
:class:`kvsched.result.Result`. With ``hard_limit`` the solve runs in a child process that
is killed ``grace(time_limit)`` seconds after the solver's own (soft) limit.
"""

from __future__ import annotations

import importlib
import time
from typing import Optional

from kvsched.hardlimit import Cancelled, HardLimitExceeded, call_with_hard_limit
from kvsched.result import NOT_REPRODUCIBLE, Result, Termination, finish, safety_wall_time

#: solver name -> (module, function)
SOLVERS = {
    "milp": ("kvsched.models.milp", "solve_milp"),
    "lp": ("kvsched.models.lp", "solve_lp"),
    "cpsat": ("kvsched.models.cpsat", "solve_cpsat"),
    "brute": ("kvsched.models.brute", "solve_brute"),
    "search": ("kvsched.models.search", "solve_search"),
    "didp": ("kvsched.models.search.didp", "solve_didp"),  # needs the optional extra kvsched[didp]
    "lagrangian": ("kvsched.models.lagrangian", "solve_lagrangian"),
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


def solve(name: str, instance, hard_limit: bool = False, *, kill_after: Optional[float] = None,
          cancel=None, **params) -> Result:
    """Run exact solver ``name``; its raw result is validated here, once (in this process
    also when the solve ran in a hard-limited child). ``kill_after`` overrides
    :func:`hard_limit_for`; setting the ``cancel`` event (a ``threading.Event``) stops a
    hard-limited child within a fraction of a second: the result is then ``interrupted``."""
    if name not in SOLVERS:
        raise KeyError(f"unknown solver {name!r}; known: {sorted(SOLVERS)}")
    if not hard_limit:
        return finish(get_solver(name)(instance, **params), instance)
    nominal = float(params.get("time_limit") or 60.0)
    if kill_after is not None:
        limit = kill_after
    elif params.get("deterministic"):  # a work limit: the wall clock is only the solver's safety stop
        limit = hard_limit_for(safety_wall_time(nominal))
    else:
        limit = hard_limit_for(nominal)
    t0 = time.perf_counter()
    module, fn = SOLVERS[name]
    failed = {"params": dict(params), "deterministic": bool(params.get("deterministic", False))}
    try:
        res = call_with_hard_limit(module, fn, args=(instance,), kwargs=params, limit=limit, cancel=cancel)
    except HardLimitExceeded as exc:
        note = f"; {NOT_REPRODUCIBLE}" if failed["deterministic"] else ""
        return Result(solver=name, termination=Termination.TIME_LIMIT, wall_time=time.perf_counter() - t0,
                      message=str(exc) + note, **failed)
    except Cancelled:
        return Result(solver=name, termination=Termination.INTERRUPTED, wall_time=time.perf_counter() - t0,
                      message=f"cut off after {time.perf_counter() - t0:.1f} s", **failed)
    except RuntimeError as exc:
        return Result(solver=name, termination=Termination.ERROR, wall_time=time.perf_counter() - t0,
                      message=str(exc).splitlines()[0], **failed)
    return finish(res, instance)
