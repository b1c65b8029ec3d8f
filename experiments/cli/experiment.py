"""``kvsched experiment NAME``: run (or resume) a registered experiment sweep."""

from __future__ import annotations

import sys

import click

from ._common import emit_json, json_option


def _names():
    from kvsched import experiments
    return sorted(experiments.REGISTRY)


@click.command("experiment")
@click.argument("name", type=click.Choice(_names()))
@click.option("--quick", is_flag=True, help="the small grid (a few minutes on 2 cores)")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True,
              help="local worker processes (1: run in this process)")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True)
@click.option("--scheduler", metavar="ADDRESS", help="Dask scheduler address (with --executor dask)")
@click.option("--results", "results_dir", type=click.Path(file_okay=False), default=None,
              help="results folder (default: ./results of the working directory, or $KVSCHED_RESULTS)")
@click.option("--no-progress", is_flag=True, help="no progress bar")
@click.option("--no-plots", is_flag=True, help="skip the PNG figures (tables only)")
@json_option
def experiment_cmd(name, quick, jobs, executor, scheduler, results_dir, no_progress, no_plots, as_json):
    """Run experiment NAME: cached results are reused, so an interrupted sweep resumes.

    Writes results/NAME/ (results/NAME/quick/ with --quick): results.csv, summary.md,
    plots and run.json; the cache is results/cache/NAME.jsonl."""
    from kvsched import experiments, paths
    from kvsched.experiments.executors import make_executor
    from kvsched.experiments.runner import run_experiment

    if executor == "dask" and not scheduler:
        raise click.UsageError("--executor dask needs --scheduler ADDRESS")
    if executor == "local" and scheduler:
        raise click.UsageError("--scheduler is only used with --executor dask")
    try:
        ex = make_executor(executor, jobs=jobs, scheduler=scheduler)
    except (OSError, RuntimeError, ValueError) as exc:
        raise click.ClickException(f"cannot start the {executor} executor: {exc}") from None
    command = "kvsched " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["experiment"] else None
    try:
        summary = run_experiment(experiments.get(name), quick=quick, executor=ex,
                                 results_dir=results_dir or paths.results_dir(), progress=not no_progress,
                                 command=command, plots=not no_plots)
    except KeyboardInterrupt:
        click.echo("interrupted; rerun the same command to resume", err=True)
        sys.exit(130)
    click.echo(f"{name}: {summary.tasks} tasks ({summary.cached} cached, {summary.computed} computed, "
               f"{len(summary.errors)} errors) in {summary.wall_time:.1f} s")
    for f in summary.files:
        click.echo(f"  wrote {f}")
    for msg in summary.errors[:5]:
        click.echo(f"  error: {msg}", err=True)
    if as_json:
        emit_json(summary.to_dict())
    if summary.errors:
        sys.exit(1)


COMMANDS = [experiment_cmd]
