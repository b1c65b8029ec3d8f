"""Sorted-F on the command line: the selector options and ``kvsched batches``.

``selector_options`` / ``selector_params`` are what ``kvsched run sorted-f`` uses to pass
``--selector``, ``--epsilon`` and ``--pool`` to :func:`heuristics.sorted_f.sorted_f` (only
the options actually given become params). ``kvsched batches`` shows the batch order
behind a Sorted-F (or largest-batch-first) schedule.
"""

from __future__ import annotations

import time

import click
import numpy as np

from kvsched.bounds import lower_bound
from kvsched.heuristics.selectors import SELECTORS, quality
from kvsched.result import Result, finish

from ._common import InputError, emit_json, json_option, load_instance


def selector_options(fn):
    """``--selector``, ``--epsilon``, ``--pool`` (all default to None = not given)."""
    fn = click.option("--pool", type=click.IntRange(min=1), default=None,
                      help="Sorted-F: the selector sees only the K most promising requests "
                           "(ascending o(s+o)) per step")(fn)
    fn = click.option("--epsilon", type=click.FloatRange(min=0, min_open=True), default=None,
                      help="Sorted-F scaled-dp: grid width 1 + floor(epsilon M / K) (default 0.1)")(fn)
    fn = click.option("--selector", type=click.Choice(sorted(SELECTORS)), default=None,
                      help="Sorted-F batch selector (default dp)")(fn)
    return fn


def selector_params(selector=None, epsilon=None, pool=None) -> dict:
    """The given options as heuristic params."""
    given = {"selector": selector, "epsilon": epsilon, "pool": pool}
    return {k: v for k, v in given.items() if v is not None}


@click.command("batches")
@click.argument("instance_path", metavar="INSTANCE.json", type=click.Path(dir_okay=False))
@selector_options
@click.option("--largest", is_flag=True, help="largest-batch-first packing instead of the F metric")
@click.option("--backfill", is_flag=True, help="place each request at its earliest feasible round at all")
@json_option
def batches_cmd(instance_path, selector, epsilon, pool, largest, backfill, as_json):
    """Sorted-F batches (order, size, sum o, F) and the validated schedule they give."""
    from kvsched.heuristics.largest_batch import largest_batch_order
    from kvsched.heuristics.sorted_f import place, sorted_f_order

    inst = load_instance(instance_path)
    t0 = time.perf_counter()
    if largest:
        if selector or epsilon or pool:
            raise click.UsageError("--largest takes no --selector / --epsilon / --pool")
        name, params = "largest-batch", {}
        order = largest_batch_order(inst)
    else:
        name, params = "sorted-f", selector_params(selector, epsilon, pool)
        try:
            order = sorted_f_order(inst, **params)
        except ValueError as exc:  # e.g. the exact DP's memory cap
            raise InputError(str(exc)) from None
    sched = place(inst, np.concatenate(order), backfill=backfill)
    if backfill:
        params["backfill"] = True
    res = Result(solver=name, schedule=sched, wall_time=time.perf_counter() - t0,
                 params=params, bound=lower_bound(inst))
    finish(res, inst)
    o = inst.o
    F = [quality(int(o[X].sum()), len(X)) for X in order]
    for b, X in enumerate(order):
        click.echo(f"batch {b}: {len(X)} requests, sum o {int(o[X].sum())}, F {F[b]:.6g}: "
                   f"{' '.join(map(str, X[:20].tolist()))}{' ...' if len(X) > 20 else ''}")
    rep = res.report
    click.echo(f"{name}: {len(order)} batches, TEL {rep.objective}, bound {res.bound}, gap {res.gap:.4f} "
               f"({res.wall_time:.3f} s)")
    if as_json:
        out = res.to_json()
        out["batches"] = [np.asarray(X).tolist() for X in order]
        out["F"] = F
        emit_json(out)


COMMANDS = [batches_cmd]
