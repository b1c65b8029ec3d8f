"""``amax-fluid``: A_max's lower-bound construction with scaled lengths against the stated
``alpha^-1 (1 + alpha^-1/2) / 2``.

Instances (:func:`kvsched.theory.families.amax_family`): ``N_u`` requests of length
``u = L / alpha`` and ``N_l = alpha^-1/2 N_u`` of length ``l = L``, prompt ``s = 1``, the one
interval ``[l, u]`` for all, all at round 0 (listed in a seeded random order),
``M = m_factor (s + u)``, ``m_factor = C 2^k`` (k = 0..3), ``N_u = RHO m_factor``.
Variants (:data:`VARIANTS`): freed memory reused (the default reading) with seeded random
ties (:data:`SEEDS`) and with the adversary's order (longest first among equal ``u_i``), and
without reuse (``reuse_freed=False``). Ratio: A_max TEL / H-SF TEL. Schedules are validated
once by the simulator and not cached.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kvsched.heuristics.online import run_policy
from kvsched.instance import Instance
from kvsched.theory.families import amax_family
from kvsched.theory.ratios import amax_lower

from .amin_conventions import tie_order
from .runner import row_from_result
from .spec import Algorithm, Case, Experiment, Grid, InstanceSpec

INV_ALPHAS = (4, 9, 16)
LS = (1, 4, 12)
DOUBLINGS = (0, 1, 2, 3)
C = 8
RHO = 10
S = 1
SEEDS = (0, 1, 2, 3, 4)
#: variant -> (tie rule, reuse of freed memory)
VARIANTS = {"reuse, random": ("random", True), "reuse, longs first": ("longs-first", True),
            "no reuse, random": ("random", False)}
QUICK = {"inv_alphas": (4,), "ls": (1, 2), "doublings": (0, 1), "c": 2, "rho": 4}


def generate(spec: InstanceSpec) -> Instance:
    """``spec.n`` is N_u; params inv_alpha, L, m_factor, s."""
    p = spec.params
    u = p["L"] * p["inv_alpha"]
    return amax_family(p["m_factor"] * (p["s"] + u), p["L"], u, spec.n, s=p["s"], seed=spec.seed)


def task(case: Case, algorithm: Algorithm) -> dict:
    inst, p = case.instance, case.spec.params
    if algorithm.name == "hsf":
        res, variant = run_policy("hsf", inst), "H-SF"
    else:
        a = algorithm.params
        variant = next(k for k, v in VARIANTS.items() if v == (a["ties"], a["reuse"]))
        res = run_policy("amax", inst, seed=a["seed"], tie_break=tie_order(inst, a["ties"]), reuse_freed=a["reuse"])
    row = row_from_result(res)
    row["schedule"] = None  # validated by the simulator; not cached (size)
    row.update(requests=inst.n, inv_alpha=p["inv_alpha"], L=p["L"], m_factor=p["m_factor"], variant=variant,
               stated=float(amax_lower(1 / p["inv_alpha"])))
    return row


def algorithms(seeds) -> tuple:
    out = [Algorithm("hsf")]
    for ties, reuse in VARIANTS.values():
        for k in (seeds if ties == "random" else (0,)):
            out.append(Algorithm("amax", {"ties": ties, "reuse": reuse, "seed": k}))
    return tuple(out)


def grids(inv_alphas, ls, doublings, c, rho) -> tuple:
    return tuple(Grid("amax-fluid", (rho * c * 2 ** k,), (0,),
                      {"inv_alpha": a, "L": L, "m_factor": c * 2 ** k, "s": S})
                 for a in inv_alphas for L in ls for k in doublings)


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    """Per (alpha, L, M, variant): A_max / H-SF mean, min, max over seeds, next to the stated bound."""
    ok = df[df["status"] != "error"]
    hsf = ok[ok["algorithm"] == "hsf"].set_index("instance_hash")["objective"]
    am = ok[ok["algorithm"] == "amax"].copy()
    am["ratio"] = am["objective"] / am["instance_hash"].map(hsf)
    rows = []
    for (a, L, _mf, variant), g in am.groupby(["inv_alpha", "L", "m_factor", "variant"], sort=False):
        rows.append({"alpha": f"1/{int(a)}", "L": int(L), "M": int(g["M"].iloc[0]), "n": int(g["requests"].iloc[0]),
                     "variant": variant, "seeds": len(g), "ratio mean": g["ratio"].mean(),
                     "ratio min": g["ratio"].min(), "ratio max": g["ratio"].max(),
                     "stated lower bound": g["stated"].iloc[0]})
    errors = int((df["status"] == "error").sum())
    out = pd.DataFrame(rows)
    return out.assign(errors=errors) if errors else out


def plot(df: pd.DataFrame, outdir) -> list:
    """``convergence.png``: ratio against M per (variant, L), one panel per alpha; dashed: the stated bound."""
    from pathlib import Path

    from matplotlib.figure import Figure

    t = summarize(df)
    alphas = list(dict.fromkeys(t["alpha"]))
    fig = Figure(figsize=(4.2 * len(alphas), 3.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(alphas)))
    for ax, a in zip(axes, alphas):
        part = t[t["alpha"] == a]
        for (variant, L), g in part.groupby(["variant", "L"], sort=False):
            g = g.sort_values("M")
            ax.plot(g["M"] / g["M"].min(), g["ratio mean"], marker="o", ms=3, label=f"{variant}, L = {L}")
        ax.axhline(part["stated lower bound"].iloc[0], color="black", ls="--", lw=0.9, label="stated lower bound")
        ax.set(xscale="log", yscale="log", xlabel="M / M_0 (n grows with M)", ylabel="A_max / H-SF", title=f"alpha = {a}")
        ax.set_xscale("log", base=2)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize="xx-small")
    path = Path(outdir) / "convergence.png"
    fig.savefig(path, dpi=100)
    return [path]


EXPERIMENT = Experiment(
    name="amax-fluid",
    description=(
        f"A_max / H-SF on the lower-bound family (N_l / N_u = alpha^-1/2) with l = L in {list(LS)}, u = L / alpha, "
        f"alpha in {', '.join(f'1/{a}' for a in INV_ALPHAS)}, s = {S}, M = m_factor (s + u), m_factor = {C} * 2^k, "
        f"k in {list(DOUBLINGS)}, N_u = {RHO} m_factor; variants {', '.join(VARIANTS)} (random: seeds {list(SEEDS)}); "
        "next to the stated lower bound alpha^-1 (1 + alpha^-1/2) / 2."),
    task=task,
    generate=generate,
    algorithms=algorithms(SEEDS),
    grids=grids(INV_ALPHAS, LS, DOUBLINGS, C, RHO),
    quick_grids=grids(QUICK["inv_alphas"], QUICK["ls"], QUICK["doublings"], QUICK["c"], QUICK["rho"]),
    version=1,
    summarize=summarize,
    plot=plot,
)
