"""Exact formulations behind lazily imported adapters: each solver's package (pyomo +
highspy, ortools) is imported only when that solver runs. ``solve(name, inst, ...)``
returns a validated :class:`kvsched.result.Result`."""

from __future__ import annotations

import importlib

#: solver name -> (module, function)
SOLVERS = {
    "milp": ("models.milp", "solve_milp"),
    "lp": ("models.lp", "solve_lp"),
    "cpsat": ("models.cpsat", "solve_cpsat"),
    "brute": ("models.brute", "solve_brute"),
}


def get_solver(name: str):
    if name not in SOLVERS:
        raise KeyError(f"unknown solver {name!r}; known: {sorted(SOLVERS)}")
    module, fn = SOLVERS[name]
    return getattr(importlib.import_module(module), fn)


def solve(name: str, instance, **params):
    return get_solver(name)(instance, **params)
