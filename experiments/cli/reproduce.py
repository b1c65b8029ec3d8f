"""``kvsched reproduce``: run every paper experiment and regenerate results/README.md."""

from __future__ import annotations

import sys

import click

from ._common import emit_json, json_option


@click.command("reproduce")
@click.option("--quick", is_flag=True, help="each experiment's small grid (minutes on 2 cores)")
@click.option("--only", "only", multiple=True, metavar="NAME",
              help="run only this experiment (repeatable); the README still shows every experiment")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=2, show_default=True,
              help="local worker processes (1: run in this process)")
@click.option("--results", "results_dir", type=click.Path(file_okay=False), default=None,
              help="results folder (default: ./results of the working directory, or $KVSCHED_RESULTS)")
@click.option("--no-progress", is_flag=True, help="no progress bars")
@click.option("--no-plots", is_flag=True, help="skip the PNG figures (tables only)")
@json_option
def reproduce_cmd(quick, only, jobs, results_dir, no_progress, no_plots, as_json):
    """Run the experiments that reproduce the papers and rewrite results/README.md, which
    shows each table next to the paper's reported numbers, with the command, seeds,
    versions and wall times. Cached results are reused, so an interrupted run resumes."""
    from kvsched import paths
    from kvsched.experiments.reproduce import comparison, overview, paper_experiments, reproduce

    results_dir = results_dir or paths.results_dir()
    say = (lambda msg: click.echo(msg, err=True)) if as_json else click.echo
    try:
        outcomes = reproduce(quick=quick, only=only, jobs=jobs, results_dir=results_dir,
                             progress=not no_progress, plots=not no_plots, say=say)
    except KeyError as exc:
        raise click.ClickException(exc.args[0]) from None
    except KeyboardInterrupt:
        click.echo("interrupted; rerun the same command to resume", err=True)
        sys.exit(130)

    import pandas as pd

    from kvsched.experiments.runner import output_dir

    modules = paper_experiments()
    for o in outcomes:
        if o.summary is None:
            continue
        csv = output_dir(modules[o.name].EXPERIMENT, quick, results_dir) / "results.csv"
        say(f"\n## {o.name} ({'quick' if quick else 'full'} mode) against the paper\n")
        say(comparison(modules[o.name], pd.read_csv(csv)))
    say("\n## Summary\n")
    say(overview(outcomes))
    say(f"\nwrote {results_dir}/README.md")
    if as_json:
        emit_json({"readme": f"{results_dir}/README.md",
                   "experiments": [{"name": o.name, "ok": o.ok, "error": o.error,
                                    **(o.summary.to_dict() if o.summary else {})} for o in outcomes]})
    if not all(o.ok for o in outcomes):
        sys.exit(1)


COMMANDS = [reproduce_cmd]
