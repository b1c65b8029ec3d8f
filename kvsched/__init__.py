"""kvsched: scheduling LLM inference under a KV-cache memory limit.

Core: :class:`Instance` (built from :class:`Request` objects, read from JSON or generated),
:class:`Schedule`, the independent :func:`validate`, JSON I/O and the :class:`Result` record
shared by every solver and heuristic.

The Python API of the README's quick start is importable from here; the names of higher
layers are imported on first use (a module-level ``__getattr__``), so ``import kvsched``
loads no heuristic, solver or plotting library:

- ``run(name, instance, **params)``: an offline heuristic (``fcfs``, ``mcsf``, ``sorted-f``,
  ``largest-batch``) -> validated :class:`Result`;
- ``simulate(name, instance, **params)``: an online policy (``hsf``, ``amax``, ``amin``, ...)
  -> validated :class:`Result`;
- ``solve(name, instance, time_limit=..., hard_limit=False, ...)``: one exact model
  (``search``, ``milp``, ``cpsat``, ``brute``) or the LP bound (``lp``) -> validated :class:`Result`;
- ``certify(instance, time_limit=...)``: heuristics, exact models and bounds -> a
  :class:`Result` (solver ``certify``) whose ``records`` hold one result per method;
- ``generate(family, n=..., seed=...)``, ``lower_bound(instance)``,
  ``plot_schedule(instance, schedule, path)``.
"""

from __future__ import annotations

import importlib

from .instance import Instance, InstanceError, Request
from .io import read_instance, read_schedule, write_instance, write_schedule
from .result import Result, SolutionStatus, Termination, ceil_bound, gap, is_proven_optimal
from .schedule import Schedule, ScheduleError
from .validator import ValidationReport, Violation, validate

#: name -> (module, attribute), imported when first asked for
_LAZY = {
    "run": ("kvsched.heuristics", "run"),
    "simulate": ("kvsched.heuristics.online", "run_policy"),
    "solve": ("kvsched.models", "solve"),
    "certify": ("kvsched.models.certify", "certify"),
    "generate": ("kvsched.generators", "generate"),
    "lower_bound": ("kvsched.bounds", "lower_bound"),
    "plot_schedule": ("kvsched.plot", "plot_schedule"),
}

__all__ = [
    "Instance", "InstanceError", "Request", "Schedule", "ScheduleError", "validate",
    "ValidationReport", "Violation", "Result", "Termination", "SolutionStatus", "ceil_bound", "gap",
    "is_proven_optimal", "read_instance", "read_schedule", "write_instance", "write_schedule", *_LAZY,
]
__version__ = "0.1.0"


def __getattr__(name: str):
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'kvsched' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
