"""The ``kvsched`` command line. Every module in this package that defines a list
``COMMANDS`` of click commands contributes them to the main group, so each feature keeps
its commands beside nothing else. Bad input ends in one error line, no traceback."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys

import click

from ._common import handle_errors, sigterm_as_interrupt


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kvsched")
@click.option("--results", "results_root", type=click.Path(file_okay=False), default=None,
              envvar="KVSCHED_RESULTS",
              help="results folder for every command (default ./results of the working directory; "
                   "env KVSCHED_RESULTS)")
def cli(results_root):
    """Scheduling LLM inference under a KV-cache memory limit: exact models, heuristics,
    online policies, theory and experiments."""
    if results_root:
        from kvsched.paths import RESULTS_ENV

        os.environ[RESULTS_ENV] = str(results_root)  # inherited by worker processes


for _mod in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _mod.startswith("_"):
        continue
    for _cmd in getattr(importlib.import_module(f"{__name__}.{_mod}"), "COMMANDS", []):
        cli.add_command(_cmd)


def main(argv=None):
    """Console-script entry point."""
    sigterm_as_interrupt()
    with handle_errors():
        cli.main(args=argv, prog_name="kvsched", standalone_mode=True)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
