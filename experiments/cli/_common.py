"""Shared CLI helpers: error handling and the ``--json`` output contract."""

from __future__ import annotations

import contextlib
import json
import sys

import click

from kvsched.instance import InstanceError
from kvsched.io import read_instance
from kvsched.schedule import ScheduleError

#: exceptions that mean "bad input": one line on stderr, exit code 2
INPUT_ERRORS = (InstanceError, ScheduleError)


@contextlib.contextmanager
def handle_errors():
    try:
        yield
    except INPUT_ERRORS as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


def load_instance(path: str):
    """Read an instance file; on bad input print one clear line and exit 2."""
    try:
        return read_instance(path)
    except INPUT_ERRORS as exc:
        raise click.ClickException(str(exc)) from None


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
