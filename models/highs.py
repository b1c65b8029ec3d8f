"""A silent ``highspy.Highs`` for the methods that use HiGHS directly (docs/model.md §5).

highspy 1.16 prints its banner from the C++ constructor, before any option can be set, so
the constructor runs with file descriptor 1 pointed at ``/dev/null``; ``output_flag`` is
switched off before the caller passes a model.

Deterministic mode (docs/model.md §6.3) measures HiGHS's work, not its time: LPs stop on a
simplex iteration count (:data:`ITERATIONS_PER_SECOND` per nominal second), the MILP on a
node count and, before its first node, on the number of times HiGHS checks its limits
(the MIP interrupt callback; :data:`CHECKS_PER_SECOND`), which it does at fixed points of
the root's presolve / cut / heuristic loop."""

from __future__ import annotations

import contextlib
import os
import sys

#: deterministic mode: simplex iterations per nominal second (about half the rate measured
#: on the jaillet time-indexed LPs, n = 19-55, on one loaded core)
ITERATIONS_PER_SECOND = 500
#: deterministic mode: MIP limit checks per nominal second (HiGHS checks about once a
#: second in the root cut loop of a jaillet n = 19 model on one loaded core)
CHECKS_PER_SECOND = 1


@contextlib.contextmanager
def _native_stdout_silenced():
    sys.stdout.flush()
    saved = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)


def quiet_highs(threads: int = 1, time_limit: float | None = None):
    """A ``highspy.Highs`` with logging off, ``threads`` threads and an optional time limit."""
    import highspy

    with _native_stdout_silenced():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", int(threads))
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    return h
