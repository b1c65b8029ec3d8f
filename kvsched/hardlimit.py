"""A hard wall-clock limit for exact solves, and children that die with their parent.

Solver time limits are soft (presolve, root LP and callbacks may overrun them). An exact
solve run through :func:`call_with_hard_limit` happens in a fresh interpreter (``python -c``,
not ``multiprocessing``: the caller's ``__main__`` is never re-imported, so a script without
an ``if __name__ == "__main__":`` guard works), which is stopped once ``limit`` seconds have
passed or ``cancel`` is set: SIGTERM first (the child exits cleanly, releasing what it holds,
e.g. the semaphore Pyomo creates on import), SIGKILL half a second later. A fresh process also
keeps each solver library in its own address space.

Every child dies with its parent, however the parent ends (SIGINT, SIGTERM, SIGKILL):
:func:`die_with_parent` asks the Linux kernel for SIGKILL on the parent's death
(``prctl(PR_SET_PDEATHSIG)``, effective even while the child is busy in C code) and starts a
watchdog thread polling the parent (the fallback elsewhere). Children run in their own
session, so a terminal's Ctrl-C reaches only the parent, which then stops them.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import select
import signal
import subprocess
import sys
import threading
import time
import traceback

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
GRACE_AFTER_TERM = 0.5  # seconds between SIGTERM and SIGKILL when stopping a child


class HardLimitExceeded(TimeoutError):
    pass


class _Stopped(BaseException):
    """Raised in a child by SIGTERM from its parent."""


class Cancelled(RuntimeError):
    """The caller's ``cancel`` event was set (Ctrl-C, SIGTERM, a shared budget running out)."""


def die_with_parent(parent: int | None = None, poll: float = 0.5) -> None:
    """Make this process end when ``parent`` (default: the current parent) does."""
    parent = os.getppid() if parent is None else parent
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no usable libc
            pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)

    def watch():
        while os.getppid() == parent:
            time.sleep(poll)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="die-with-parent").start()


def _child_main() -> None:
    """Entry point of the child interpreter: read the call from stdin, write the outcome to
    the result pipe (never stdout, which solver logs may use)."""
    fd = int(sys.argv[1])
    parent = int(sys.argv[2])
    die_with_parent(parent)

    def stop(signum, frame):
        raise _Stopped

    signal.signal(signal.SIGTERM, stop)  # unwind and exit cleanly: finalizers run
    try:
        path, module, func, args, kwargs = pickle.load(sys.stdin.buffer)
        sys.path[:] = path
        try:
            import importlib

            fn = getattr(importlib.import_module(module), func)
            out = ("ok", fn(*args, **kwargs))
        except _Stopped:
            raise
        except BaseException as exc:  # report every failure to the parent, never hang it
            out = ("error", (type(exc).__name__, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"))
        data = pickle.dumps(out)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except (_Stopped, BrokenPipeError):  # the parent stopped us or no longer listens
        sys.exit(143)


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after :data:`GRACE_AFTER_TERM`; always reaped."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(GRACE_AFTER_TERM)
        except subprocess.TimeoutExpired:
            proc.kill()
    proc.wait()


def call_with_hard_limit(module: str, func: str, args=(), kwargs=None, limit: float = 60.0,
                         cancel: threading.Event | None = None):
    """Run ``module.func(*args, **kwargs)`` in a child interpreter; stop it after ``limit`` s.

    Returns the function's value; raises :class:`HardLimitExceeded` when stopped at the
    limit, :class:`Cancelled` when ``cancel`` was set (checked every 0.1 s),
    :class:`kvsched.result.InvalidScheduleError` when the child raised it (never turned into
    a quiet error record), and ``RuntimeError`` carrying the child's traceback for any other
    failure. The calling thread must stay alive while the child runs (on Linux the child's
    death signal follows the thread that started it); this function returns only once the
    child has ended.
    """
    deadline = time.monotonic() + limit
    read_fd, write_fd = os.pipe()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from kvsched.hardlimit import _child_main; _child_main()",
             str(write_fd), str(os.getpid())],
            stdin=subprocess.PIPE, pass_fds=(write_fd,), start_new_session=True)
    except BaseException:
        os.close(read_fd)
        os.close(write_fd)
        raise
    os.close(write_fd)
    chunks = []
    try:
        proc.stdin.write(pickle.dumps((list(sys.path), module, func, tuple(args), dict(kwargs or {}))))
        proc.stdin.close()
        while True:
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"{module}.{func} cancelled")
            left = deadline - time.monotonic()
            if left <= 0:
                raise HardLimitExceeded(f"{module}.{func} killed after the hard limit of {limit:.1f} s")
            ready, _, _ = select.select([read_fd], [], [], min(0.1, left))
            if ready:
                chunk = os.read(read_fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        try:
            proc.wait(5.0)  # the child has written its result and exits by itself (cleanly)
        except subprocess.TimeoutExpired:
            pass
    finally:
        os.close(read_fd)
        _stop(proc)
    if not chunks:
        raise RuntimeError(f"{module}.{func} died without a result (exit code {proc.returncode})")
    kind, payload = pickle.loads(b"".join(chunks))
    if kind == "error":
        name, text = payload
        if name == "InvalidScheduleError":  # the validator rejected a solver's schedule: a bug
            from .result import InvalidScheduleError

            raise InvalidScheduleError(text)
        raise RuntimeError(text)
    return payload
