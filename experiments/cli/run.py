"""``kvsched run HEURISTIC INSTANCE.json``: one offline heuristic, validated."""

from __future__ import annotations

import click

from kvsched import heuristics
from kvsched.bounds import lower_bound

from ._common import InputError, emit_json, json_option, load_instance, writable
from .sorted_f import selector_options, selector_params


@click.command("run")
@click.argument("heuristic", type=click.Choice(sorted(heuristics.HEURISTICS)))
@click.argument("instance_path", metavar="INSTANCE.json", type=click.Path(dir_okay=False))
@click.option("--backfill", is_flag=True, help="keep scanning past a request that does not fit")
@selector_options
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="draw the schedule (PNG)")
@json_option
def run_cmd(heuristic, instance_path, backfill, selector, epsilon, pool, plot_path, as_json):
    """Run an offline HEURISTIC; the schedule is validated before it is printed. The bound
    reported is the closed-form sorted-volume bound."""
    inst = load_instance(instance_path)
    if plot_path:
        writable(plot_path, "--plot")
    params = {"backfill": True} if backfill else {}
    sf = selector_params(selector, epsilon, pool)
    if sf and heuristic != "sorted-f":
        raise click.UsageError("--selector / --epsilon / --pool apply to sorted-f only")
    params.update(sf)
    try:
        res = heuristics.run(heuristic, inst, bound=lower_bound(inst), **params)
    except ValueError as exc:  # e.g. the exact DP's memory cap: one line, no traceback
        raise InputError(str(exc)) from None
    rep = res.report
    click.echo(f"{heuristic}: TEL {rep.objective}  avg latency {rep.avg_latency:.3f}  makespan {rep.makespan}  "
               f"peak memory {rep.peak_memory}/{inst.M}  bound {res.bound}  gap {res.gap:.4f}  "
               f"({res.wall_time:.3f} s)")
    if plot_path:
        from kvsched.plot import plot_schedule

        plot_schedule(inst, res.schedule, plot_path, title=f"{heuristic}, proven bound {res.bound}")
    if as_json:
        emit_json(res.to_json())


COMMANDS = [run_cmd]
