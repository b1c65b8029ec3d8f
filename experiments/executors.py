"""Where tasks run: in this process, in local worker processes, or on a Dask cluster.

Every executor offers ``unordered(fn, argtuples)``: it yields ``(index, value)`` as tasks
finish, in completion order (``index`` is the position in ``argtuples``). ``fn`` and its
arguments must be picklable for the process and Dask executors. ``close()`` cancels what
has not started; ``close(abort=True)`` also stops what runs. Dask is imported only when the Dask executor is used.
"""

from __future__ import annotations

import os
import signal
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Callable, Iterator, Sequence

from kvsched.hardlimit import die_with_parent


class SerialExecutor:
    """Runs tasks one by one in this process (``--jobs 1``): simplest to debug."""

    def unordered(self, fn: Callable, argtuples: Sequence[tuple]) -> Iterator:
        for k, args in enumerate(argtuples):
            yield k, fn(*args)

    def close(self, abort: bool = False) -> None:
        pass


def _worker_init(parent: int) -> None:
    """Worker initializer: the worker dies with the parent however it ends (kernel death
    signal and a watchdog, :func:`kvsched.hardlimit.die_with_parent`; its own solver children
    follow it the same way), and leaves Ctrl-C to the parent, which stops the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent(parent)


class ProcessExecutor:
    """A local ``ProcessPoolExecutor`` with ``jobs`` workers (which die with this process)."""

    def __init__(self, jobs: int):
        self.pool = ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init, initargs=(os.getpid(),))

    def unordered(self, fn: Callable, argtuples: Sequence[tuple]) -> Iterator:
        futures = {self.pool.submit(fn, *args): k for k, args in enumerate(argtuples)}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                yield futures[fut], fut.result()

    def close(self, abort: bool = False) -> None:
        """Cancel what has not started; with ``abort`` (Ctrl-C, SIGTERM) also kill the
        running workers instead of waiting for them."""
        if not abort:
            self.pool.shutdown(wait=True, cancel_futures=True)
            return
        workers = list((self.pool._processes or {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for proc in workers:  # their solver children die with them (death signal)
            proc.kill()
        for proc in workers:
            proc.join(5)


class DaskExecutor:
    """Tasks on the Dask scheduler at ``address`` (e.g. ``tcp://10.0.0.5:8786``)."""

    def __init__(self, address: str):
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise RuntimeError('the Dask executor needs: pip install "dask[distributed]"') from exc
        self.client = Client(address)

    def unordered(self, fn: Callable, argtuples: Sequence[tuple]) -> Iterator:
        from distributed import as_completed

        futures = [self.client.submit(fn, *args, pure=False) for args in argtuples]
        index = {fut.key: k for k, fut in enumerate(futures)}
        for fut in as_completed(futures):
            yield index[fut.key], fut.result()

    def close(self, abort: bool = False) -> None:
        self.client.close()


def make_executor(kind: str = "local", jobs: int = 1, scheduler: str | None = None):
    """``local`` with ``jobs`` processes (1: in this process) or ``dask`` at ``scheduler``."""
    if kind == "dask":
        if not scheduler:
            raise ValueError("--executor dask needs --scheduler ADDRESS")
        return DaskExecutor(scheduler)
    if kind != "local":
        raise ValueError(f"unknown executor {kind!r} (local or dask)")
    if jobs < 1:
        raise ValueError(f"--jobs must be >= 1, got {jobs}")
    return SerialExecutor() if jobs == 1 else ProcessExecutor(jobs)
