"""``kvsched run HEURISTIC INSTANCE.json``: one offline heuristic, validated."""

from __future__ import annotations

import click

import heuristics
from kvsched.bounds import lower_bound

from ._common import emit_json, json_option, load_instance


@click.command("run")
@click.argument("heuristic", type=click.Choice(sorted(heuristics.HEURISTICS)))
@click.argument("instance_path", metavar="INSTANCE.json", type=click.Path(dir_okay=False))
@click.option("--backfill", is_flag=True, help="keep scanning past a request that does not fit")
@json_option
def run_cmd(heuristic, instance_path, backfill, as_json):
    """Run an offline HEURISTIC; the schedule is validated before it is printed."""
    inst = load_instance(instance_path)
    params = {"backfill": True} if backfill else {}
    res = heuristics.run(heuristic, inst, **params)
    res.bound = lower_bound(inst)
    from kvsched.result import finish

    finish(res, inst)
    rep = res.report
    click.echo(f"{heuristic}: TEL {rep.tel}  avg latency {rep.avg_latency:.3f}  makespan {rep.makespan}  "
               f"peak memory {rep.peak_memory}/{inst.M}  bound {res.bound}  gap {res.gap:.4f}  "
               f"({res.wall_time:.3f} s)")
    if as_json:
        emit_json(res.to_json())


COMMANDS = [run_cmd]
