"""``kvsched plot INSTANCE.json SCHEDULE.json --out FILE.png``: Gantt chart + memory profile."""

from __future__ import annotations

import click

from kvsched.io import read_schedule

from ._common import INPUT_ERRORS, InputError, load_instance, writable


@click.command("plot")
@click.argument("instance_path", metavar="INSTANCE.json", type=click.Path(dir_okay=False))
@click.argument("schedule_path", metavar="SCHEDULE.json", type=click.Path(dir_okay=False))
@click.option("--out", "out_path", required=True, metavar="FILE.png", type=click.Path(dir_okay=False),
              help="where to write the PNG")
@click.option("--title", help="figure title (default: instance name, TEL, peak memory, cancellations)")
def plot_cmd(instance_path, schedule_path, out_path, title):
    """Draw every run of SCHEDULE (cancelled runs hatched, x at the cut) above the memory
    profile with the limit M. Infeasible schedules are drawn too, with the reason in the title."""
    from kvsched.plot import plot_schedule
    from kvsched.validator import validate

    inst = load_instance(instance_path)
    writable(out_path, "--out")
    try:
        sched = read_schedule(schedule_path, inst)
    except INPUT_ERRORS as exc:
        raise InputError(str(exc)) from None
    if sched.n != inst.n:
        raise InputError(f"schedule has {sched.n} requests, instance has {inst.n}")
    try:
        plot_schedule(inst, sched, out_path, title=title)
    except OSError as exc:
        raise click.ClickException(f"cannot write {out_path}: {exc.strerror}") from None
    rep = validate(inst, sched)
    state = f"TEL {rep.objective}" if rep.feasible else f"INFEASIBLE ({rep.message})"
    click.echo(f"wrote {out_path}: {inst.n} requests, {sched.cancelled_runs} cancelled runs, {state}")


COMMANDS = [plot_cmd]
