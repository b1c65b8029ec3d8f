"""``kvsched reproduce``: run every paper experiment into a run folder and compare it with the reference."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ._common import emit_json, json_option


@click.command("reproduce")
@click.option("--quick", is_flag=True, help="each experiment's small grid (minutes on 2 cores)")
@click.option("--only", "only", multiple=True, metavar="NAME",
              help="run only this experiment (repeatable); the README still shows every experiment")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=2, show_default=True,
              help="local worker processes (1: run in this process)")
@click.option("--results", "results_dir", type=click.Path(file_okay=False), default=None,
              help="results folder: task cache and reference tables (default: ./results of the working "
                   "directory, or $KVSCHED_RESULTS)")
@click.option("--run-dir", type=click.Path(file_okay=False), default=None,
              help="where this run writes its tables (default: a new runs/<UTC timestamp>/ of the results folder)")
@click.option("--update-reference", is_flag=True,
              help="after the run, copy its tables over the reference ones and rebuild the results folder's README.md")
@click.option("--tolerance", type=click.FloatRange(min=0), default=None,
              help="relative difference from a reference number that is flagged (default 0.001)")
@click.option("--no-progress", is_flag=True, help="no progress bars")
@click.option("--no-plots", is_flag=True, help="skip the PNG figures (tables only)")
@json_option
def reproduce_cmd(quick, only, jobs, results_dir, run_dir, update_reference, tolerance, no_progress, no_plots,
                  as_json):
    """Run the experiments that reproduce the papers into a run folder of their own and print
    each table next to the paper's numbers and the reference tables of the results folder,
    flagging numbers that differ and the inputs that differed. Cached results are reused, so
    an interrupted run resumes. The reference changes only with --update-reference."""
    from kvsched import paths
    from kvsched.experiments.reference import TOLERANCE, render
    from kvsched.experiments.reproduce import comparison, overview, paper_experiments, reproduce

    results_dir = results_dir or paths.results_dir()
    tolerance = TOLERANCE if tolerance is None else tolerance
    try:
        run_dir = Path(run_dir) if run_dir else paths.new_run_dir(results_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.ClickException(f"cannot create the run folder: {exc}") from None
    say = (lambda msg: click.echo(msg, err=True)) if as_json else click.echo
    try:
        outcomes = reproduce(quick=quick, only=only, jobs=jobs, results_dir=results_dir, run_dir=run_dir,
                             update_reference=update_reference, tolerance=tolerance,
                             progress=not no_progress, plots=not no_plots, say=say)
    except KeyError as exc:
        if not any(run_dir.iterdir()):
            run_dir.rmdir()  # nothing ran: leave no empty run folder behind
        raise click.ClickException(exc.args[0]) from None
    except KeyboardInterrupt:
        click.echo("interrupted; rerun the same command to resume (finished tasks are cached)", err=True)
        sys.exit(130)

    import pandas as pd

    modules = paper_experiments()
    for o in outcomes:
        if o.summary is None:
            continue
        say(f"\n## {o.name} ({'quick' if quick else 'full'} mode) against the paper\n")
        say(comparison(modules[o.name], pd.read_csv(o.outdir / "results.csv")))
        say("")
        say(render(o.reference))
    say("\n## Summary\n")
    say(overview(outcomes))
    flagged = [o.name for o in outcomes if o.reference and o.reference.differs]
    if flagged:
        say(f"\nDIFFERS from the reference (tolerance {tolerance:g} relative): {', '.join(flagged)}; see above")
    say(f"\nthis run's tables, README.md and reference.md: {run_dir}")
    if as_json:
        emit_json({"readme": str(run_dir / "README.md"), "run_dir": str(run_dir),
                   "updated_reference": bool(update_reference),
                   "experiments": [{"name": o.name, "ok": o.ok, "error": o.error,
                                    "outdir": str(o.outdir) if o.outdir else None,
                                    "reference": o.reference.to_dict() if o.reference else None,
                                    **(o.summary.to_dict() if o.summary else {})} for o in outcomes]})
    if not all(o.ok for o in outcomes):
        sys.exit(1)


COMMANDS = [reproduce_cmd]
