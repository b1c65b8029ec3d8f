"""``kvsched generate FAMILY`` (seeded instance families) and ``kvsched trace PRESET_OR_PATH``
(a CSV trace as an instance). Both write instance JSON, one request per line, with the
instance's ``name``; to stdout when no ``--out`` is given."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kvsched.instance import Instance, InstanceError


def instance_json(inst: Instance) -> str:
    """Instance JSON (docs/model.md §2.1) plus ``name``; one request per line."""
    d = inst.to_dict()
    reqs = ",\n".join(" " + json.dumps(r) for r in d["requests"])
    return f'{{"name": {json.dumps(inst.name)}, "M": {inst.M}, "requests": [\n{reqs}\n]}}\n'


def _write(inst: Instance, out) -> None:
    text = instance_json(inst)
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        Path(out).write_text(text)
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from None


def _family_names():
    from kvsched.generators import FAMILIES

    return list(FAMILIES)


@click.command("generate")
@click.argument("family", type=click.Choice(_family_names()))
@click.option("--n", "n", type=int, default=None, help="number of requests (some families derive it)")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--M", "M", type=click.IntRange(min=1), default=None,
              help="KV-cache size (family default: random 40, tiny 10, jaillet U{30..50}, partition 40, "
                   "sf-lower-bound 16)")
@click.option("--s-min", type=int, default=None, help="random/tiny/jaillet: smallest prompt (default 1)")
@click.option("--s-max", type=int, default=None,
              help="random/tiny/jaillet: largest prompt (default random 11, tiny 4, jaillet 5; "
                   "random/tiny with a small M: min(default, M // 2))")
@click.option("--o-min", type=int, default=None, help="random/tiny: shortest output (default 1)")
@click.option("--o-max", type=int, default=None,
              help="random/tiny: longest output (default random 11, tiny 5; with a small M: min(default, M - s_max))")
@click.option("--arrivals", type=click.Choice(["zero", "poisson"]), default=None,
              help="random/tiny: all at round 0 (default) or Poisson (needs --rate)")
@click.option("--model", type=click.Choice(["1", "2"]), default=None, help="jaillet: 1 = all at 0, 2 = Poisson arrivals")
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), default=None,
              help="random/tiny: Poisson arrivals with this many requests per round; jaillet --model 2: "
                   "the rate instead of the U[0.5, 1.5] draw")
@click.option("--horizon", type=click.IntRange(min=1), default=None,
              help="jaillet --model 2: arrival rounds 0..horizon-1 instead of the U{40..60} draw")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="instance JSON file (default stdout)")
def generate_cmd(family, n, seed, M, s_min, s_max, o_min, o_max, arrivals, model, rate, horizon, out):
    """Write a seeded instance of FAMILY as instance JSON.

    Every family parameter is a flag; a flag left out keeps the family's default (see each
    flag). A flag the family does not take is an error."""
    from kvsched.generators import generate

    given = (("M", M), ("s_min", s_min), ("s_max", s_max), ("o_min", o_min), ("o_max", o_max),
             ("arrivals", arrivals), ("model", None if model is None else int(model)), ("rate", rate),
             ("horizon", horizon))
    kw = {k: v for k, v in given if v is not None}
    try:
        inst = generate(family, n, seed, **kw)
    except InstanceError as exc:
        raise click.ClickException(str(exc)) from None
    _write(inst, out)
    if out is not None:
        click.echo(f"wrote {out}: {inst.name}, n = {inst.n}, M = {inst.M}, digest {inst.digest[:12]}")


@click.command("trace")
@click.argument("source", metavar="PRESET_OR_PATH", required=False)
@click.option("--list", "list_", is_flag=True, help="list the presets with unit, source and licence")
@click.option("--M", "M", type=click.IntRange(min=1), default=None, help="KV-cache size (required)")
@click.option("--n", "n", type=click.IntRange(min=1), default=None, help="take n requests (default all)")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--sample", type=click.Choice(["random", "head"]), default="random", show_default=True)
@click.option("--drop-invalid", is_flag=True, help="drop zero/missing lengths and rows with prompt + output > M")
@click.option("--rounds-per-second", type=click.FloatRange(min=0, min_open=True), default=None,
              help="arrival round = floor((t - t0) * R); default: all arrivals 0")
@click.option("--columns", default=None, metavar="PROMPT,OUTPUT[,ARRIVAL]", help="column names for other CSVs")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="instance JSON file (default stdout)")
def trace_cmd(source, list_, M, n, seed, sample, drop_invalid, rounds_per_second, columns, out):
    """Convert a CSV trace (a preset of the shared data folder or a path) to instance JSON."""
    from kvsched.traces import load_trace, presets_table

    if list_:
        click.echo(presets_table())
        return
    if source is None:
        raise click.UsageError("give PRESET_OR_PATH (or --list)")
    if M is None:
        raise click.UsageError("--M is required")
    cols = None
    if columns is not None:
        parts = [c.strip() for c in columns.split(",")]
        if len(parts) not in (2, 3) or not all(parts):
            raise click.UsageError("--columns takes PROMPT,OUTPUT or PROMPT,OUTPUT,ARRIVAL")
        cols = dict(zip(("prompt", "output", "arrival"), parts))
    try:
        load = load_trace(source, M, n=n, seed=seed, sample=sample, columns=cols, drop_invalid=drop_invalid,
                          rounds_per_second=rounds_per_second)
    except InstanceError as exc:
        raise click.ClickException(str(exc)) from None
    _write(load.instance, out)
    click.echo(load.summary(), err=out is None)


COMMANDS = [generate_cmd, trace_cmd]
