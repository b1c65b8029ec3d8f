"""Shared CLI helpers: the error contract, signals, output checks and the ``--json`` output.

Error contract (every command): bad input (an instance, schedule or option that cannot be
used) prints one line ``Error: ...`` naming the field and the request on stderr and exits
with :data:`EXIT_INPUT` = 2 (click's own usage errors use 2 as well); under ``--json`` the
last line of stdout is also ``{"status": "error", "message": ...}``. An infeasible schedule
(``validate``) exits 1; Ctrl-C or SIGTERM exits 130 / 143 after reporting what was done.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import sys
from pathlib import Path

import click

from kvsched.instance import InstanceError
from kvsched.io import read_instance
from kvsched.schedule import ScheduleError

#: exceptions that mean "bad input"
INPUT_ERRORS = (InstanceError, ScheduleError)
#: exit code of every command on bad input
EXIT_INPUT = 2


class InputError(click.ClickException):
    """Bad input: one line, exit code :data:`EXIT_INPUT`, a JSON error line under ``--json``."""

    exit_code = EXIT_INPUT

    def __init__(self, message: str):
        super().__init__(message)
        ctx = click.get_current_context(silent=True)  # raised inside a command: is --json on?
        self.as_json = bool(ctx is not None and ctx.params.get("as_json"))

    def show(self, file=None):
        super().show(file)
        if self.as_json:
            emit_json({"status": "error", "message": self.format_message()})


@contextlib.contextmanager
def handle_errors():
    try:
        yield
    except INPUT_ERRORS as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_INPUT)


def sigterm_as_interrupt() -> None:
    """Turn SIGTERM into ``KeyboardInterrupt``, so ``kill PID`` stops a command as Ctrl-C
    does: children are stopped and what was done is reported."""
    def raise_interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, raise_interrupt)


def load_instance(path: str):
    """Read an instance file; on bad input one clear line and exit :data:`EXIT_INPUT`."""
    try:
        return read_instance(path)
    except INPUT_ERRORS as exc:
        raise InputError(str(exc)) from None


def writable(path, option: str) -> Path:
    """Check before any work that ``path`` can be written (its folder exists and is
    writable, it is not a folder); raise a usage error naming ``option`` otherwise."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise InputError(f"option '{option}': {p} is a folder, not a file")
    if not parent.is_dir():
        raise InputError(f"option '{option}': folder {parent} does not exist")
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise InputError(f"option '{option}': {p} is not writable")
    return p


def writable_dir(path, option: str) -> Path:
    """Check before any work that folder ``path`` exists or can be created, and is writable."""
    p = Path(path)
    probe = p
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK):
        raise InputError(f"option '{option}': cannot write into {p}")
    return p


class Seconds(click.ParamType):
    """A positive, finite number of seconds (``nan`` and ``inf`` are refused)."""

    name = "seconds"

    def convert(self, value, param, ctx):
        try:
            x = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not math.isfinite(x) or x <= 0:
            self.fail(f"must be a positive finite number of seconds, got {value}", param, ctx)
        return x


SECONDS = Seconds()


def emit_json(payload: dict) -> None:
    """The ``--json`` contract: the last line of stdout is one JSON object."""
    click.echo(json.dumps(payload, default=_default))


def _default(obj):
    import numpy as np

    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


json_option = click.option("--json", "as_json", is_flag=True, help="last line of stdout is one JSON object")
