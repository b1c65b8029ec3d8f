"""kvsched: scheduling LLM inference under a KV-cache memory limit.

Core: :class:`Instance`, :class:`Schedule`, the independent :func:`validate`, JSON I/O and
the :class:`Result` record shared by every solver and heuristic.
"""

from .instance import Instance, InstanceError, Request
from .io import read_instance, read_schedule, write_instance, write_schedule
from .result import Result, SolutionStatus, Termination, ceil_bound, gap, is_proven_optimal
from .schedule import Schedule, ScheduleError
from .validator import ValidationReport, Violation, validate

__all__ = [
    "Instance", "InstanceError", "Request", "Schedule", "ScheduleError", "validate",
    "ValidationReport", "Violation", "Result", "Termination", "SolutionStatus", "ceil_bound", "gap", "is_proven_optimal",
    "read_instance", "read_schedule", "write_instance", "write_schedule",
]
__version__ = "0.1.0"
