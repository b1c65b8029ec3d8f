"""``kvsched library ...``: the benchmark library (:mod:`kvsched.experiments.library`).

* ``kvsched library build [--time-limit S] [--only SUBSTRING]``: create the missing entries
  of the built-in list (heuristics, certify, Lagrangian bound) and rewrite ``index.csv``.
* ``kvsched library validate``: re-check every entry (instance rebuilt from its source,
  schedule re-validated, checkable bounds recomputed, index compared); exit 1 on a problem.
* ``kvsched library certify NAME... [--time-limit S] [--solver NAME] [--no-exact]``:
  re-certify entries, keeping the better schedule and bound of old and new (``--solver``
  runs one registered exact solver instead of ``certify``; ``--no-exact`` only heuristics
  and the Lagrangian bound).
* ``kvsched library list``: the index as a table.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ._common import emit_json, json_option

folder_option = click.option("--dir", "folder", type=click.Path(file_okay=False), default=None,
                             help="library folder (default results/library of the results folder)")


@click.group("library")
def library():
    """Benchmark library: seeded instances with best schedule, best proven bound, and how."""


@library.command("build")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=20.0, show_default=True,
              help="limit of each exact solver and of the Lagrangian bound, per entry")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--only", default=None, help="only entries whose name contains this")
@click.option("--force", is_flag=True, help="re-certify entries that exist already")
@folder_option
def build_cmd(time_limit, threads, only, force, folder):
    """Create (or with --force re-certify) the built-in entries."""
    from kvsched.experiments import library as lib

    folder = Path(folder) if folder else lib.library_dir()
    for spec in lib.SPECS:
        if only and only not in spec.name:
            continue
        exists = lib.entry_path(spec.name, folder).is_file()
        if exists and not force:
            continue
        try:
            entry = lib.load_entry(spec.name, folder) if exists else lib.new_entry(spec)
        except Exception as exc:  # e.g. a trace preset whose file is absent
            click.echo(f"{spec.name}: skipped ({exc})")
            continue
        n = len(entry["instance"]["requests"])
        exact = n <= 60
        changed = lib.certify_entry(entry, time_limit=time_limit, threads=threads, exact=exact)
        lib.save_entry(entry, folder)
        click.echo(_line(entry) + (f"  changed: {', '.join(changed)}" if changed else ""))
    lib.write_index(folder)


@library.command("validate")
@click.option("--no-rebuild", is_flag=True, help="do not rebuild instances from their sources")
@folder_option
@json_option
def validate_cmd(no_rebuild, folder, as_json):
    """Re-validate the whole library; exit 1 if any entry fails."""
    from kvsched.experiments import library as lib

    count, problems = lib.validate_library(Path(folder) if folder else None, rebuild=not no_rebuild)
    for p in problems:
        click.echo(f"FAIL {p}")
    click.echo(f"{count} entries, {len(problems)} problem(s)")
    if as_json:
        emit_json({"entries": count, "problems": problems, "valid": not problems})
    if problems or count == 0:
        sys.exit(1)


@library.command("certify")
@click.argument("names", nargs=-1, required=True)
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True)
@click.option("--threads", type=click.IntRange(min=1), default=2, show_default=True)
@click.option("--solver", default=None, help="one registered exact solver (kvsched.models.SOLVERS) instead of certify")
@click.option("--no-lagrangian", is_flag=True, help="skip the Lagrangian bound")
@click.option("--no-exact", is_flag=True, help="heuristics and the Lagrangian bound only (large instances)")
@folder_option
@json_option
def certify_cmd(names, time_limit, threads, solver, no_lagrangian, no_exact, folder, as_json):
    """Re-certify library entries NAME...; keeps the best of old and new."""
    from kvsched import models
    from kvsched.experiments import library as lib

    if solver is not None and solver not in models.SOLVERS:
        raise click.ClickException(f"unknown solver '{solver}'; known: {', '.join(sorted(models.SOLVERS))}")
    folder = Path(folder) if folder else lib.library_dir()
    out = []
    for name in names:
        try:
            entry = lib.load_entry(name, folder)
        except FileNotFoundError as exc:
            raise click.ClickException(str(exc)) from None
        changed = lib.certify_entry(entry, time_limit=time_limit, threads=threads, solver=solver,
                                    lagrangian=not no_lagrangian, exact=not no_exact)
        lib.save_entry(entry, folder)
        click.echo(_line(entry) + (f"  changed: {', '.join(changed)}" if changed else "  unchanged"))
        out.append({**lib.index_row(entry), "changed": changed})
    lib.write_index(folder)
    if as_json:
        emit_json({"entries": out})


@library.command("list")
@folder_option
def list_cmd(folder):
    """The library index."""
    from kvsched.experiments import library as lib

    for entry in lib.entries(Path(folder) if folder else None):
        click.echo(_line(entry))


def _line(entry: dict) -> str:
    tag = "OPTIMAL" if entry["proven_optimal"] else f"gap {entry['gap']:.4f}"
    return (f"{entry['name']}: n {len(entry['instance']['requests'])}, objective {entry['objective']} "
            f"({entry['schedule_by']['method']}), bound {entry['bound']:.2f} ({entry['bound_by']['method']}), {tag}")


COMMANDS = [library]
