"""``kvsched solve``, ``kvsched certify`` and ``kvsched validate``."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from kvsched.io import read_instance, read_schedule
from kvsched.result import Result, Termination
from kvsched.validator import validate

from ._common import INPUT_ERRORS, SECONDS, InputError, emit_json, json_option, load_instance, writable


def _line(res) -> str:
    g = "-" if res.gap is None else f"{res.gap:.4f}"
    return (f"{res.solver}: status {res.status}  objective {res.objective}  bound {res.bound}  "
            f"gap {g}  ({res.wall_time:.2f} s){'  ' + res.message if res.message else ''}")


@click.command("solve")
@click.argument("instance_path", metavar="INSTANCE.json", type=click.Path(dir_okay=False))
@click.option("--solver", type=click.Choice(["milp", "cpsat", "brute", "lp", "lagrangian", "search"]), required=True)
@click.option("--time-limit", type=SECONDS, default=60.0, show_default=True,
              help="solver time limit in seconds (a hard kill follows after a grace period)")
@click.option("--threads", type=click.IntRange(min=1), default=2, show_default=True, help="threads / workers")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--no-window-cut", is_flag=True, help="do not cut start windows with the heuristic UB")
@click.option("--no-hard-limit", is_flag=True, help="solve in this process (soft limit only)")
@click.option("--deterministic", is_flag=True,
              help="cpsat / milp: stop on work (CP-SAT deterministic time, HiGHS nodes), not wall time")
@json_option
def solve_cmd(instance_path, solver, time_limit, threads, seed, no_window_cut, no_hard_limit, deterministic, as_json):
    """Solve INSTANCE.json exactly (or bound it: --solver lp). The schedule is validated."""
    from kvsched import models
    inst = load_instance(instance_path)
    params = {"time_limit": time_limit}
    if solver != "brute":
        params.update(threads=threads, seed=seed, window_cut=not no_window_cut)
    if deterministic and solver in ("cpsat", "milp"):
        params["deterministic"] = True
    if solver == "brute" and inst.n > 7:
        raise InputError(f"field 'requests': brute handles n <= 7, instance has n = {inst.n}")
    try:
        res = models.solve(solver, inst, hard_limit=not no_hard_limit, **params)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    click.echo(_line(res))
    if as_json:
        emit_json(res.to_json())
    if res.status == "error":
        sys.exit(1)


@click.command("certify")
@click.argument("instance_path", metavar="INSTANCE.json", type=click.Path(dir_okay=False))
@click.option("--time-limit", type=SECONDS, default=60.0, show_default=True,
              help="wall-clock budget of the whole command; the methods share it (with --deterministic: "
                   "work budget of each exact solver, in deterministic seconds)")
@click.option("--cpsat-time-limit", type=SECONDS, default=None, help="cap on CP-SAT's share (s)")
@click.option("--milp-time-limit", type=SECONDS, default=None, help="cap on the MILP's share (s)")
@click.option("--brute-time-limit", type=SECONDS, default=None, help="cap on the exhaustive oracle's share (s)")
@click.option("--search-time-limit", type=SECONDS, default=None, help="cap on the state-space search's share (s)")
@click.option("--search-memory-limit", type=click.FloatRange(min=1.0), default=None,
              help="MB for the state-space search's arrays (default: the search's own, 1500)")
@click.option("--threads", type=click.IntRange(min=1), default=2, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--sequential", is_flag=True, help="run the exact solvers one after another, not at the same time")
@click.option("--deterministic", is_flag=True,
              help="reproducible certificate: work limits instead of wall time, fixed workers, sequential")
@click.option("--all-solvers", is_flag=True, help="run every exact solver even once optimality is proven")
@click.option("--lagrangian", is_flag=True, help="also compute the Lagrangian bound of the time-indexed LP")
@click.option("--out", type=click.Path(dir_okay=False), help="write the certificate JSON here")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="draw the best schedule (PNG)")
@json_option
def certify_cmd(instance_path, time_limit, cpsat_time_limit, milp_time_limit, brute_time_limit, search_time_limit,
                search_memory_limit, threads, seed, sequential, deterministic, all_solvers, lagrangian, out, plot_path, as_json):
    """Certify INSTANCE.json: best validated schedule, best proven bound, checked gap. Ctrl-C
    or SIGTERM stops within seconds and still reports (and writes) what was found."""
    from kvsched.models.certify import certify

    inst = load_instance(instance_path)
    if out:
        writable(out, "--out")
    if plot_path:
        writable(plot_path, "--plot")
    cert = certify(inst, time_limit=time_limit, cpsat_time_limit=cpsat_time_limit, milp_time_limit=milp_time_limit,
                   brute_time_limit=brute_time_limit, search_time_limit=search_time_limit, threads=threads, seed=seed,
                   search_memory_limit=search_memory_limit, run_all=all_solvers, lagrangian=lagrangian,
                   deterministic=deterministic, concurrent=False if sequential else None)
    for r in cert.records:
        click.echo("  " + _line(r))
    g = "-" if cert.gap is None else f"{cert.gap:.4f}"
    click.echo(f"{cert.status.upper()}: objective {cert.objective} (by {cert.best_solver}), "
               f"bound {cert.bound} (by {cert.bound_solver}), gap {g}"
               + (f"  [{cert.message}]" if cert.message else ""))
    payload = cert.to_json()
    if out:
        Path(out).write_text(json.dumps(payload, indent=1) + "\n")
        click.echo(f"certificate written to {out}")
    if plot_path and cert.schedule is not None:
        from kvsched.plot import plot_schedule

        plot_schedule(inst, cert.schedule, plot_path, title=f"certify: {cert.status}, best schedule by {cert.best_solver}, "
                      f"bound {cert.bound:g} by {cert.bound_solver}, gap {cert.gap:.4f}")
    if as_json:
        emit_json(payload)
    if cert.termination is Termination.INTERRUPTED:
        sys.exit(130)


@click.command("validate")
@click.argument("instance_path", metavar="INSTANCE.json", type=click.Path(dir_okay=False))
@click.argument("schedule_path", metavar="SCHEDULE.json", type=click.Path(dir_okay=False))
@json_option
def validate_cmd(instance_path, schedule_path, as_json):
    """Check SCHEDULE.json against INSTANCE.json with the true lengths. Exit 0 if feasible,
    1 if infeasible, 2 on bad input (as every command)."""
    t0 = time.perf_counter()
    try:
        inst = read_instance(instance_path)
        sched = read_schedule(schedule_path, inst)
    except INPUT_ERRORS as exc:
        raise InputError(str(exc)) from None
    rep = validate(inst, sched)
    if rep.feasible:
        click.echo(f"feasible: TEL {rep.objective}  TCT {rep.tct}  avg latency {rep.avg_latency:.3f}  "
                   f"makespan {rep.makespan}  peak memory {rep.peak_memory}/{inst.M}  "
                   f"cancelled runs {rep.cancelled_runs}")
    else:
        click.echo(f"infeasible: {rep.message}")
    if as_json:
        res = Result(solver="validate", objective=rep.objective if rep.feasible else None, schedule=sched,
                     report=rep, wall_time=time.perf_counter() - t0, message=rep.message)
        emit_json(res.to_json())
    if not rep.feasible:
        sys.exit(1)


COMMANDS = [solve_cmd, certify_cmd, validate_cmd]
