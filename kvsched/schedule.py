"""Schedules: the runs of every request (docs/model.md §1.5 and §2.2).

A run is ``(p, c)``: started at round ``p`` (processed from round ``p + 1``), last round
held ``c``. Every run but the last of a request is a cancelled run (cut at the end of
round ``c``, all progress lost); the last run completes, so ``c = p + o_i`` there. A
schedule without cancellations has exactly one run per request. The type stores what a
solver or a policy claims; only :func:`kvsched.validator.validate` judges it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .instance import Instance


class ScheduleError(ValueError):
    """A malformed schedule (wrong shape or types); feasibility is the validator's job."""


#: rounds are int64 in the validator; anything beyond this is rejected, not wrapped
MAX_ROUND = 2**53


def _int(v, what: str) -> int:
    if type(v) is not int:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise ScheduleError(f"{what} must be an integer, got {v!r}")
        v = int(v)
    if not -MAX_ROUND <= v <= MAX_ROUND:
        raise ScheduleError(f"{what} = {v} is out of range (|round| <= 2^53)")
    return v


@dataclass(frozen=True)
class Schedule:
    """``runs[i]`` is the tuple of runs ``(p, c)`` of request ``i``, in time order."""

    runs: tuple

    def __post_init__(self):
        clean = []
        for i, rs in enumerate(self.runs):
            if type(rs) is tuple and len(rs) == 1:  # fast path: one run of two plain ints
                run = rs[0]
                if type(run) is tuple and len(run) == 2 and type(run[0]) is int and type(run[1]) is int:
                    clean.append(rs)
                    continue
            if len(rs) == 0:
                raise ScheduleError(f"request {i}: field 'runs' is empty (every request needs a run)")
            row = []
            for k, run in enumerate(rs):
                if len(run) != 2:
                    raise ScheduleError(f"request {i}: run {k} must be [start, last round], got {run!r}")
                row.append((_int(run[0], f"request {i}: run {k} start"), _int(run[1], f"request {i}: run {k} end")))
            clean.append(tuple(row))
        object.__setattr__(self, "runs", tuple(clean))

    @classmethod
    def from_starts(cls, instance: Instance, starts: Sequence[int]) -> "Schedule":
        """One uncancelled run per request: ``(p_i, p_i + o_i)``."""
        if len(starts) != instance.n:
            raise ScheduleError(f"field 'starts': {len(starts)} values for {instance.n} requests")
        starts = [_int(p, f"request {i}: field 'starts'") for i, p in enumerate(starts)]
        return cls(tuple(((p, p + o),) for p, o in zip(starts, instance.outputs)))

    @property
    def n(self) -> int:
        return len(self.runs)

    @property
    def starts(self) -> list:
        """Start of the last (completing) run of every request, in input order."""
        return [rs[-1][0] for rs in self.runs]

    @property
    def completions(self) -> list:
        return [rs[-1][1] for rs in self.runs]

    @property
    def cancelled_runs(self) -> int:
        return sum(len(rs) - 1 for rs in self.runs)

    def to_dict(self) -> dict:
        if self.cancelled_runs == 0:
            return {"starts": self.starts}
        return {"runs": [[list(r) for r in rs] for rs in self.runs]}

    def runs_list(self) -> list:
        return [[list(r) for r in rs] for rs in self.runs]

    @property
    def digest(self) -> str:
        canon = json.dumps(self.runs_list(), separators=(",", ":"))
        return hashlib.sha256(canon.encode()).hexdigest()
