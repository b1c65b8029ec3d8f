"""``kvsched theory ...``: the competitive-ratio formulas of SPEC section 3.

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
    from kvsched.theory.bounds import amax_lower, amax_upper, sf_lower

    alphas = alphas or (1.0, 0.5, 0.25, 1 / 9, 1 / 16, 0.01)
    amax = [{"alpha": a, "lower": float(amax_lower(a)), "upper": float(amax_upper(a))} for a in alphas]
    for row in amax:
        click.echo(f"A_max  alpha {row['alpha']:.6g}: {row['lower']:.6g} <= CR <= {row['upper']:.6g}")
    sf = [{"M": m, "lower": float(sf_lower(m))} for m in Ms]
    for row in sf:
        click.echo(f"SF     M {row['M']}: CR >= (2/13) sqrt(M) = {row['lower']:.6g}")
    if as_json:
        emit_json({"amax": amax, "sf": sf})


COMMANDS = [theory]
