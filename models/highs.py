"""A silent ``highspy.Highs`` for the methods that use HiGHS directly (docs/model.md §5).

highspy 1.16 prints its banner from the C++ constructor, before any option can be set, so
the constructor runs with file descriptor 1 pointed at ``/dev/null``; ``output_flag`` is
switched off before the caller passes a model."""

from __future__ import annotations

import contextlib
import os
import sys


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
