"""``kvsched simulate POLICY INSTANCE.json``: one online policy under prediction uncertainty,
simulated round by round (the policy never sees ``o_i``), validated with the true lengths."""

from __future__ import annotations

import click

from kvsched import predictions
from kvsched.bounds import lower_bound
from kvsched.heuristics.online import CONVENTIONS, DEFAULT_CONVENTION, POLICIES, run_policy
from kvsched.instance import InstanceError
from kvsched.simulator import PolicyError, summary

from ._common import InputError, emit_json, json_option, load_instance


@click.command("simulate")
@click.argument("policy", type=click.Choice(sorted(POLICIES)))
@click.argument("instance_path", metavar="INSTANCE.json", type=click.Path(dir_okay=False))
@click.option("--predictions", "pred", default="instance", show_default=True,
              help=f"prediction intervals: {predictions.SPELLINGS} (instance = the file's own "
                   "lower/upper fields, exact where absent)")
@click.option("--seed", default=0, show_default=True, help="tie-break seed (amax, amin) and noise seed")
@click.option("--convention", type=click.Choice(CONVENTIONS), default=DEFAULT_CONVENTION, show_default=True,
              help="A_min refinement / cancellation convention (docs/model.md §4.3)")
@click.option("--margin", type=click.FloatRange(min=0.0, max=1e6), default=0.0, show_default=True,
              help="protection margin of mcsf / fcfs point predictions")
@click.option("--no-reuse", is_flag=True, help="amax: keep an early finisher's memory reserved until p + u")
@json_option
def simulate_cmd(policy, instance_path, pred, seed, convention, margin, no_reuse, as_json):
    """Simulate an online POLICY (hsf, amax, amin, mcsf, fcfs) on INSTANCE.json. hsf always uses
    the true lengths (hindsight benchmark); mcsf / fcfs use the upper end u_i as point prediction."""
    if margin != margin:  # NaN passes FloatRange's comparisons
        raise click.BadParameter("must be a number >= 0, got nan", param_hint="'--margin'")
    inst = load_instance(instance_path)
    try:
        inst = predictions.parse(pred, inst, seed=seed)
    except InstanceError as exc:
        raise InputError(str(exc)) from None
    params = {}
    if policy in ("amax", "amin"):
        params.update(seed=seed, convention=convention)
    if policy == "amax" and no_reuse:
        params["reuse_freed"] = False
    if policy in ("mcsf", "fcfs"):
        params.update(margin=margin, convention=convention)
    try:
        res = run_policy(policy, inst, bound=lower_bound(inst), **params)
    except PolicyError as exc:
        raise click.ClickException(f"policy {policy}: {exc}") from None
    summ = summary(res)
    gap = "-" if res.gap is None else f"{res.gap:.4f}"
    click.echo(f"{policy} ({pred}): TEL {summ['objective']}  avg latency {summ['avg_latency']:.3f}  "
               f"cancellations {summ['cancellations']}  wasted tokens {summ['wasted_tokens']}  "
               f"bound {res.bound}  gap {gap}  ({res.wall_time:.3f} s)")
    if as_json:
        out = res.to_json()
        out["summary"] = summ
        out["predictions"] = pred
        emit_json(out)


COMMANDS = [simulate_cmd]
