"""``kvsched theory ...``: the competitive-ratio formulas and families of docs/model.md §7.2, §7.3.

* ``kvsched theory rayleigh --u 2 10 100 [--json]``: CR(u) of A_min by both methods.
* ``kvsched theory bounds --alpha 0.25 0.5 [--M 100] [--json]``: A_max bounds and the
  (2/13) sqrt(M) SF bound.
* ``kvsched theory family NAME [options] [--out F]``: a lower-bound instance family.
"""

from __future__ import annotations

import click

from ._common import emit_json, json_option


@click.group("theory")
def theory():
    """Competitive-ratio theory: A_min's Rayleigh quotient, A_max / SF bounds, families."""


@theory.command("rayleigh")
@click.option("--u", "u_flag", is_flag=True, help="marks the list of u that follows (optional)")
@click.argument("us", nargs=-1, type=int, required=True)
@click.option("--no-eigen", is_flag=True, help="skip the dense O(u^3) eigen solve (orthant method only)")
@click.option("--no-maximiser", is_flag=True, help="leave the maximiser out of the JSON rows")
@json_option
def rayleigh_cmd(u_flag, us, no_eigen, no_maximiser, as_json):
    """CR(u) = max over x > 0 of x'A_u x / x'B_u x for each u (top generalised eigenpair,
    accepted when its eigenvector is positive, and a direct orthant maximisation)."""
    from kvsched.theory.rayleigh import rayleigh

    bad = [u for u in us if u < 1]
    if bad:
        raise click.ClickException(f"u must be >= 1, got {bad[0]}")
    rows = []
    click.echo(f"{'u':>6} {'CR(u)':>12} {'method':>8} {'eigen':>14} {'orthant':>14} {'kkt':>9}  maximiser")
    for u in us:
        r = rayleigh(u, eigen=not no_eigen)
        head = ", ".join(f"{v:.4f}" for v in r.maximiser[:4]) + (", ..." if u > 4 else "")
        eig = "-" if r.cr_eig is None else f"{r.cr_eig:.10f}"
        pos = "" if r.eig_positive is None else ("" if r.eig_positive else " (eigenvector not positive)")
        click.echo(f"{u:>6} {r.cr:>12.8f} {r.method:>8} {eig:>14} {r.cr_orthant:>14.10f} {r.orthant_kkt:>9.1e}"
                   f"  [{head}]{pos}")
        rows.append(r.to_dict(maximiser=not no_maximiser))
    if as_json:
        emit_json({"rows": rows})


@theory.command("bounds")
@click.option("--alpha", "alphas", multiple=True, type=click.FloatRange(0, 1, min_open=True),
              help="alpha = l / u in (0, 1] (repeatable; default 1, 1/2, 1/4, 1/9, 1/16, 1/100)")
@click.option("--M", "Ms", multiple=True, type=click.IntRange(min=1), help="memory sizes for the SF bound (repeatable)")
@json_option
def bounds_cmd(alphas, Ms, as_json):
    """A_max's lower and upper bounds against alpha and the (2/13) sqrt(M) SF bound."""
    from kvsched.theory.ratios import amax_lower, amax_upper, sf_lower

    alphas = alphas or (1.0, 0.5, 0.25, 1 / 9, 1 / 16, 0.01)
    amax = [{"alpha": a, "lower": float(amax_lower(a)), "upper": float(amax_upper(a))} for a in alphas]
    for row in amax:
        click.echo(f"A_max  alpha {row['alpha']:.6g}: {row['lower']:.6g} <= CR <= {row['upper']:.6g}")
    sf = [{"M": m, "lower": float(sf_lower(m))} for m in Ms]
    for row in sf:
        click.echo(f"SF     M {row['M']}: CR >= (2/13) sqrt(M) = {row['lower']:.6g}")
    if as_json:
        emit_json({"amax": amax, "sf": sf})


_FAMILIES = ("sf-seed", "sf-blockers", "amax", "three-partition", "sorted-f-stagger")


@theory.command("family")
@click.argument("name", type=click.Choice(_FAMILIES))
@click.option("--M", "M", type=click.IntRange(min=1), default=None,
              help="KV-cache size (sf-seed: perfect square; default 100; amax: default 1000)")
@click.option("--blockers", type=click.IntRange(min=1), default=None, help="sf-blockers: X (default isqrt(M))")
@click.option("--small", type=click.IntRange(min=1), default=None, help="sf-blockers: Y (default X sqrt(M/5))")
@click.option("--l", "l", type=click.IntRange(min=1), default=1, show_default=True, help="amax: lower end")
@click.option("--u", "u", type=click.IntRange(min=1), default=4, show_default=True, help="amax: upper end")
@click.option("--n-u", type=click.IntRange(min=1), default=100, show_default=True, help="amax: N_u")
@click.option("--s", "s", type=click.IntRange(min=1), default=1, show_default=True, help="amax: prompt size")
@click.option("--m", "m", type=click.IntRange(min=1), default=4, show_default=True, help="three-partition: triples")
@click.option("--L", "L", type=click.IntRange(min=1), default=10, show_default=True, help="sorted-f-stagger: length")
@click.option("--k", "k", type=click.IntRange(min=1), default=100, show_default=True, help="sorted-f-stagger: batch")
@click.option("--batches", type=click.IntRange(min=1), default=10, show_default=True, help="sorted-f-stagger")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="instance JSON (default stdout)")
@click.option("--witness-out", type=click.Path(dir_okay=False), default=None,
              help="also write the family's witness schedule (not for amax)")
def family_cmd(name, M, blockers, small, l, u, n_u, s, m, L, k, batches, seed, out, witness_out):
    """Write a lower-bound instance family of docs/model.md §7.2 (and its witness schedule)."""
    from kvsched.instance import InstanceError
    from kvsched.io import write_schedule
    from kvsched.theory import families as fam
    from kvsched.validator import validate

    from .generate import _write

    try:
        if name == "sf-seed":
            inst, witness = fam.sf_seed_family(M or 100), fam.small_first_witness
        elif name == "sf-blockers":
            inst, witness = fam.sf_blocker_family(M or 100, blockers, small), fam.small_first_witness
        elif name == "amax":
            inst, witness = fam.amax_family(M or 1000, l, u, n_u, s, seed), None
        elif name == "three-partition":
            inst, witness = fam.three_partition(m, M or 40, seed), fam.three_partition_witness
        else:
            inst, witness = fam.sorted_f_stagger_family(L, k, batches), fam.stagger_witness
    except (ValueError, InstanceError) as exc:
        raise click.ClickException(str(exc)) from None
    if witness_out is not None and witness is None:
        raise click.ClickException(f"family '{name}' has no witness schedule")
    _write(inst, out)
    if witness_out is not None:
        sched = witness(inst)
        rep = validate(inst, sched)
        if not rep.feasible:  # a defect of the family code, not bad input
            raise click.ClickException(f"witness infeasible: {rep.message}")
        write_schedule(sched, witness_out)
        click.echo(f"wrote {witness_out}: witness TCT {rep.tct}", err=out is None)
    if out is not None:
        click.echo(f"wrote {out}: {inst.name}, n = {inst.n}, M = {inst.M}")


COMMANDS = [theory]
