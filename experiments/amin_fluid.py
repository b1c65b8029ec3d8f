"""``amin-fluid``: A_min / H-SF in the regime of the CR(u) theorem (M -> infinity, s and the
lengths small against M), for every reading of A_min.

Instances (:func:`kvsched.experiments.amin_conventions.fluid_instance`): lengths
``L, 2L, ..., uL`` in the proportions of the maximiser x of the Rayleigh quotient
(``kvsched.theory.rayleigh``), ``n1`` requests of length ``L``, prompt ``s = 1``, interval
``[L, uL]`` for all (alpha = 1/u), all at round 0, ``M = m_factor (s + uL)``. Along a sequence
``m_factor = C 2^k`` (k = 0..3) and ``n1 = RHO m_factor``: n grows with M (the load n / M
stays fixed) and ``s / M -> 0``; ``L`` large makes s small against the lengths and the
rounds fine against them (the continuous-time limit).

Per instance: H-SF (the paper's denominator; MC-SF with the true lengths) once, and A_min
for every reading of :data:`READINGS` with tie-break seeds :data:`SEEDS`. The ratio
``A_min TEL / H-SF TEL`` is put next to ``CR(u)`` and next to the quadratic form
``x'A_u x / x'B_u x`` at the instance's own length counts (scaling every length by L scales
both forms by L^2, so the counts per multiple of L are the argument): the fluid value the
theorem predicts for that instance. Schedules are validated once by the simulator (the
boundary) and not stored in the cache (instances reach 10^5 requests).

Readings (``convention`` of :mod:`heuristics.online`, ``order`` of
:mod:`experiments.amin_conventions`): "W", "V1" (completions, refinement, admission,
overflow resolution, processing) and "W RF", "V1 RF" (overflow resolution before admission,
exact next-round memory check in admission).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kvsched.heuristics.online import run_policy
from kvsched.instance import Instance
from kvsched.theory.rayleigh import quotient, rayleigh

from .amin_conventions import counts, fluid_instance, run_amin
from .runner import row_from_result
from .spec import Algorithm, Case, Experiment, Grid, InstanceSpec

US = (2, 3, 4, 6, 10)
LS = (1, 2, 4, 12, 48)
DOUBLINGS = (0, 1, 2, 3)
C = 16        #: m_factor at k = 0: M / (s + uL), the longest requests that fit at once
RHO = 60      #: n1 / m_factor: the load, fixed along the sequence
S = 1
SEEDS = (0, 1, 2, 3, 4)
#: reading -> (convention, order)
READINGS = {"W": ("W", "admit-first"), "V1": ("V1", "admit-first"),
            "W RF": ("W", "resolve-first"), "V1 RF": ("V1", "resolve-first")}
QUICK = {"us": (2, 3), "ls": (1, 4), "doublings": (0, 1), "c": 4, "rho": 20}


def generate(spec: InstanceSpec) -> Instance:
    """``spec.n`` is n1 (requests of the shortest length); params u, L, m_factor, s."""
    p = spec.params
    return fluid_instance(p["u"], n1=spec.n, s=p["s"], m_factor=p["m_factor"], L=p["L"])


def reading_of(params) -> str:
    return next(k for k, v in READINGS.items() if v == (params["convention"], params["order"]))


def task(case: Case, algorithm: Algorithm) -> dict:
    inst, p = case.instance, case.spec.params
    if algorithm.name == "hsf":
        res, reading = run_policy("hsf", inst), "H-SF"
    else:
        a = algorithm.params
        res, reading = run_amin(inst, seed=a["seed"], convention=a["convention"], order=a["order"]), reading_of(a)
    row = row_from_result(res)
    row["schedule"] = None  # validated by the simulator; not cached (size)
    x = counts(rayleigh(p["u"]).maximiser, case.spec.n)
    row.update(requests=inst.n, u=p["u"], L=p["L"], m_factor=p["m_factor"], reading=reading,
               cr=rayleigh(p["u"]).cr, quadratic=quotient(x), cancelled_runs=res.report.cancelled_runs)
    return row


def algorithms(seeds) -> tuple:
    return (Algorithm("hsf"),) + tuple(Algorithm("amin", {"convention": c, "order": o, "seed": k})
                                       for c, o in READINGS.values() for k in seeds)


def grids(us, ls, doublings, c, rho) -> tuple:
    return tuple(Grid("amin-fluid", (rho * c * 2 ** k,), (0,), {"u": u, "L": L, "m_factor": c * 2 ** k, "s": S})
                 for u in us for L in ls for k in doublings)


def ratios(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (instance, A_min run): TEL / H-SF TEL of the same instance."""
    ok = df[df["status"] != "error"]
    hsf = ok[ok["algorithm"] == "hsf"].set_index("instance_hash")["objective"]
    am = ok[ok["algorithm"] == "amin"].copy()
    am["ratio"] = am["objective"] / am["instance_hash"].map(hsf)
    return am


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    """Per (u, L, M, load rho = n1 / m_factor, reading): the ratio's mean over tie seeds, its
    min, max and standard deviation, next to CR(u) and the quadratic form at the instance's counts."""
    am = ratios(df)
    rows = []
    for (u, L, mf, n1, reading), g in am.groupby(["u", "L", "m_factor", "n", "reading"], sort=False):
        rows.append({"u": int(u), "L": int(L), "M": int(g["M"].iloc[0]), "rho": int(n1) // int(mf),
                     "n": int(g["requests"].iloc[0]),
                     "reading": reading, "seeds": len(g), "ratio mean": g["ratio"].mean(),
                     "ratio min": g["ratio"].min(), "ratio max": g["ratio"].max(),
                     "ratio sd": g["ratio"].std(ddof=0), "CR(u)": g["cr"].iloc[0],
                     "quadratic form": g["quadratic"].iloc[0], "cancellations": g["cancelled_runs"].mean()})
    errors = int((df["status"] == "error").sum())
    out = pd.DataFrame(rows)
    return out.assign(errors=errors) if errors else out


def plot(df: pd.DataFrame, outdir) -> list:
    """``convergence.png``: ratio against M per L (rows: readings, columns: u; bars: min-max
    over seeds; dashed: CR(u)). ``limit.png``: the ratio at the largest M against L."""
    from pathlib import Path

    from matplotlib.figure import Figure

    t = summarize(df)
    us, readings = sorted(t["u"].unique()), list(dict.fromkeys(t["reading"]))
    fig = Figure(figsize=(3.2 * len(us), 2.6 * len(readings)), layout="constrained")
    axes = np.asarray(fig.subplots(len(readings), len(us), squeeze=False, sharex=True))
    for i, reading in enumerate(readings):
        for j, u in enumerate(us):
            ax = axes[i, j]
            part = t[(t["reading"] == reading) & (t["u"] == u)]
            for L, g in part.groupby("L"):
                g = g.sort_values("M")
                x = g["M"] / g["M"].min()
                ax.errorbar(x, g["ratio mean"], yerr=[g["ratio mean"] - g["ratio min"], g["ratio max"] - g["ratio mean"]],
                            marker="o", ms=3, capsize=2, label=f"L = {L}")
            ax.axhline(part["CR(u)"].iloc[0], color="black", ls="--", lw=0.9, label="CR(u)")
            ax.set_xscale("log", base=2)
            ax.set_title(f"{reading}, u = {u}", fontsize="small")
            if j == 0:
                ax.set_ylabel("A_min / H-SF")
            if i == len(readings) - 1:
                ax.set_xlabel("M / M_0 (n grows with M)")
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize="x-small")
    conv = Path(outdir) / "convergence.png"
    fig.savefig(conv, dpi=100)

    fig = Figure(figsize=(3.2 * len(us), 3.0), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(us)))
    top = t[t["M"] == t.groupby(["u", "L"])["M"].transform("max")]
    for ax, u in zip(axes, us):
        part = top[top["u"] == u]
        for reading, g in part.groupby("reading", sort=False):
            g = g.sort_values("L")
            ax.plot(g["L"], g["ratio mean"], marker="o", ms=3, label=reading)
        ax.axhline(part["CR(u)"].iloc[0], color="black", ls="--", lw=0.9, label="CR(u)")
        ax.set(xscale="log", xlabel="L (lengths L..uL)", title=f"u = {u}, largest M")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("A_min / H-SF")
    axes[0].legend(fontsize="x-small")
    lim = Path(outdir) / "limit.png"
    fig.savefig(lim, dpi=100)
    return [conv, lim]


EXPERIMENT = Experiment(
    name="amin-fluid",
    description=(
        f"A_min / H-SF on the Rayleigh maximiser's length mix, lengths scaled by L in {list(LS)} (interval [L, uL]), "
        f"u in {list(US)}, s = {S}, M = m_factor (s + uL) with m_factor = {C} * 2^k, k in {list(DOUBLINGS)}, n1 = "
        f"{RHO} m_factor requests of length L (n grows with M), all at round 0; "
        f"readings {', '.join(READINGS)}, "
        f"tie seeds {list(SEEDS)}; next to CR(u) and the quadratic form at the instance's counts."),
    task=task,
    generate=generate,
    algorithms=algorithms(SEEDS),
    grids=grids(US, LS, DOUBLINGS, C, RHO),
    quick_grids=grids(QUICK["us"], QUICK["ls"], QUICK["doublings"], QUICK["c"], QUICK["rho"]),
    version=1,
    summarize=summarize,
    plot=plot,
)
