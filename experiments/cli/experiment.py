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
@click.option("--run-dir", type=click.Path(file_okay=False), default=None,
              help="where this run writes its tables (default: a new runs/<UTC timestamp>/ of the results folder)")
@click.option("--update-reference", is_flag=True,
              help="write the tables into the results folder's NAME/ (the reference) instead of a run folder")
@click.option("--no-progress", is_flag=True, help="no progress bar")
@click.option("--no-plots", is_flag=True, help="skip the PNG figures (tables only)")
@json_option
def experiment_cmd(name, quick, jobs, executor, scheduler, results_dir, run_dir, update_reference, no_progress,
                   no_plots, as_json):
    """Run experiment NAME: cached results are reused, so an interrupted sweep resumes.

    Writes results.csv, summary.md, plots and run.json into NAME/ (NAME/quick/ with --quick)
    of a new run folder results/runs/<UTC timestamp>/ (or --run-dir); with
    --update-reference into results/NAME/ itself. The cache is results/cache/NAME.jsonl."""
    from kvsched import experiments, paths
    from kvsched.experiments.executors import make_executor
    from kvsched.experiments.runner import output_dir, run_experiment

    if executor == "dask" and not scheduler:
        raise click.UsageError("--executor dask needs --scheduler ADDRESS")
    if executor == "local" and scheduler:
        raise click.UsageError("--scheduler is only used with --executor dask")
    root = results_dir or paths.results_dir()
    exp = experiments.get(name)
    try:
        target = root if update_reference else (run_dir or paths.new_run_dir(root))
    except OSError as exc:
        raise click.ClickException(f"cannot create the run folder: {exc}") from None
    out_dir = output_dir(exp, quick, target)
    try:
        ex = make_executor(executor, jobs=jobs, scheduler=scheduler)
    except (OSError, RuntimeError, ValueError) as exc:
        raise click.ClickException(f"cannot start the {executor} executor: {exc}") from None
    say = (lambda msg: click.echo(msg, err=True)) if as_json else click.echo
    command = "kvsched " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["experiment"] else None
    try:
        summary = run_experiment(exp, quick=quick, executor=ex, results_dir=root, progress=not no_progress,
                                 command=command, plots=not no_plots, out_dir=out_dir, say=say)
    except KeyboardInterrupt:
        click.echo("interrupted; rerun the same command to resume", err=True)
        sys.exit(130)
    say(f"{name}: {summary.tasks} tasks ({summary.cached} cached, {summary.computed} computed, "
        f"{len(summary.errors)} errors) in {summary.wall_time:.1f} s")
    for f in summary.files:
        say(f"  wrote {f}")
    for msg in summary.errors[:5]:
        click.echo(f"  error: {msg}", err=True)
    if as_json:
        emit_json({**summary.to_dict(), "out_dir": str(out_dir)})
    if summary.errors:
        sys.exit(1)


COMMANDS = [experiment_cmd]
