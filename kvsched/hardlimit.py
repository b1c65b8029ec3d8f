"""A hard wall-clock limit for exact solves.

Solver time limits are soft (presolve, root LP and callbacks may overrun them). An exact
solve run through :func:`call_with_hard_limit` happens in a fresh ``spawn``-ed process,
which is killed once ``limit`` seconds have passed; the caller then gets ``None``. A fresh
process also keeps each solver library in its own address space.
"""

from __future__ import annotations

import importlib
import multiprocessing as mp
import traceback


def _child(conn, module: str, func: str, args, kwargs):
    try:
        fn = getattr(importlib.import_module(module), func)
        conn.send(("ok", fn(*args, **kwargs)))
    except BaseException as exc:  # report every failure to the parent, never hang it
        conn.send(("error", (type(exc).__name__, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}")))
    finally:
        conn.close()


class HardLimitExceeded(TimeoutError):
    pass


def call_with_hard_limit(module: str, func: str, args=(), kwargs=None, limit: float = 60.0):
    """Run ``module.func(*args, **kwargs)`` in a child process; kill it after ``limit`` s.

    Returns the function's value; raises :class:`HardLimitExceeded` when killed,
    :class:`kvsched.result.InvalidScheduleError` when the child's validator rejected a
    schedule (never turned into a quiet error record), and ``RuntimeError`` carrying the
    child's traceback for any other failure.
    """
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, module, func, tuple(args), dict(kwargs or {})), daemon=True)
    proc.start()
    child.close()
    try:
        if not parent.poll(limit):
            raise HardLimitExceeded(f"{module}.{func} killed after the hard limit of {limit:.1f} s")
        kind, payload = parent.recv()
    except EOFError:
        raise RuntimeError(f"{module}.{func} died without a result (exit code {proc.exitcode})") from None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        parent.close()
    if kind == "error":
        name, text = payload
        if name == "InvalidScheduleError":  # the validator rejected a solver's schedule: a bug
            from .result import InvalidScheduleError

            raise InvalidScheduleError(text)
        raise RuntimeError(text)
    return payload
