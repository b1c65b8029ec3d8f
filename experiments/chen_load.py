"""``chen-load``: Chen, Ye, Zhou's prediction claims across load, not at one assumed M.

The paper gives no KV-cache size; ``chen-predictions`` assumes M = 16,492 tokens (the
figure of Jaillet et al.'s set-up, Llama-2-70B on two A100s), and A_min / H-SF is mostly a
function of the load. This experiment keeps that M and sweeps the load for every prediction
setting of :mod:`experiments.chen_predictions` (same generator, task and summary), LMSYS-like
workload only (tokens):

- all arrivals at round 0, n in :data:`BATCH_SIZES`; load = ``n E[s + o] / M``, how many
  times the requests' peak memory fills M (below 1 everything runs at once);
- Poisson arrivals, n = :data:`POISSON_N`, ``rate = f * capacity`` for f in
  :data:`UTILISATIONS`, where ``capacity = M / E[s o + o (o + 1) / 2]`` is the rate at which M
  drains the mean token-rounds of a request (exact, from the workload model's pmfs); load = f
  (above 1 the queue grows without bound).

The verdicts (:func:`verdicts`) are :func:`experiments.chen_predictions.claims` with its
threshold :data:`~experiments.chen_predictions.CLOSE` per load level, and name the first level
(ascending load) at which each claim stops holding.
"""

from __future__ import annotations

import functools

import pandas as pd

from kvsched.workload import GENGAMMA, TARGETS, gengamma_pmf, pmf_stats

from . import chen_predictions as chen
from .spec import Experiment, Grid

M_TOKENS = chen.M_TOKENS
BATCH_SIZES = (100, 250, 500, 1000, 2000)
POISSON_N = 1000
UTILISATIONS = (0.25, 0.5, 0.75, 1.0, 1.25)
SEEDS = (0, 1, 2)
QUICK = {"sizes": (50, 200), "utilisations": (0.5, 1.25), "poisson_n": 200, "seeds": (0,)}
PAPER = chen.PAPER


@functools.lru_cache(maxsize=1)
def moments() -> dict:
    """``E[s + o]`` and ``E[s o + o (o + 1) / 2]`` of the LMSYS-like model (s, o independent)."""
    st = {k: pmf_stats(gengamma_pmf(GENGAMMA[k], TARGETS[k].hi)) for k in ("input", "output")}
    es, eo, vo = st["input"]["mean"], st["output"]["mean"], st["output"]["var"]
    return {"peak": es + eo, "token_rounds": es * eo + (vo + eo * eo + eo) / 2}


def capacity(M: int = M_TOKENS) -> float:
    """Requests per round that M can serve on average."""
    return M / moments()["token_rounds"]


def _grids(sizes, utilisations, poisson_n, seeds) -> tuple:
    batch = tuple(Grid("lmsys-like", (n,), seeds, {"M": M_TOKENS, "predictions": p})
                  for n in sizes for p in chen.SETTINGS)
    poisson = tuple(Grid("lmsys-like", (poisson_n,), seeds,
                         {"M": M_TOKENS, "predictions": p, "rate": round(f * capacity(), 4)})
                    for f in utilisations for p in chen.SETTINGS)
    return batch + poisson


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    """:func:`experiments.chen_predictions.summarize` with the load level of every row."""
    t = chen.summarize(df)
    rate = t["arrivals"].str.extract(r"Poisson ([0-9.]+)/round")[0].astype(float)
    batch = t["n"] * moments()["peak"] / t["M"]
    load = rate.mul(moments()["token_rounds"]).div(t["M"]).where(rate.notna(), batch)
    setting = rate.notna().map({True: "Poisson", False: "all at 0"})
    t.insert(0, "setting", setting)
    t.insert(1, "load", load.round(3))
    order = t["setting"].map({"all at 0": 0, "Poisson": 1})
    return t.assign(_o=order).sort_values(["_o", "load"], kind="stable").drop(columns="_o").reset_index(drop=True)


def verdicts(table: pd.DataFrame) -> pd.DataFrame:
    """Long table: setting, load, claim, holds, evidence (from :func:`summarize`)."""
    rows = []
    for (setting, load), part in table.groupby(["setting", "load"], sort=False):
        for claim, holds, ev in chen.claims(part.set_index("predictions")):
            rows.append({"setting": setting, "load": load, "claim": claim, "holds": bool(holds), "evidence": ev})
    return pd.DataFrame(rows)


def stops_holding(v: pd.DataFrame) -> pd.DataFrame:
    """Per (setting, claim): the load levels where it holds and fails, and the first level
    (ascending load) at which it fails."""
    rows = []
    for (setting, claim), g in v.groupby(["setting", "claim"], sort=False):
        g = g.sort_values("load")
        fails = g.loc[~g["holds"], "load"]
        rows.append({"setting": setting, "claim": claim,
                     "holds at load": ", ".join(f"{x:g}" for x in g.loc[g["holds"], "load"]) or "none",
                     "fails at load": ", ".join(f"{x:g}" for x in fails) or "none",
                     "first failing load": f"{fails.iloc[0]:g}" if len(fails) else "never (in the sweep)"})
    return pd.DataFrame(rows)


def compare(df: pd.DataFrame) -> str:
    """Markdown: the claims' verdicts per load level and where each stops holding."""
    from .report import markdown_table

    table = summarize(df)
    v = verdicts(table)
    cells = v.assign(cell=v["evidence"].str.replace("A_max / H-SF = ", "").str.replace("A_min / H-SF = ", "")
                     + v["holds"].map({True: ": yes", False: ": **no**"}))
    out = [f"{chen.M_NOTE} LMSYS-like workload (tokens), {table['seeds'].max()} seeds per level."
           f" Load: all at 0, n E[s + o] / M (E[s + o] = "
           f"{moments()['peak']:.1f}); Poisson, n = {table[table['setting'] == 'Poisson']['n'].max()}, "
           f"rate / capacity with capacity = M / E[s o + o(o+1)/2] = {capacity():.3f} requests per round. "
           f"Threshold: 'close' and 'good' mean ratio to H-SF <= {chen.CLOSE}, 'poor' and 'deteriorates' > "
           f"{chen.CLOSE} (ours; the paper says 'nearly identical'). Cells: the ratio(s) to H-SF, then the "
           "verdict.", ""]
    for setting in dict.fromkeys(v["setting"]):
        part = cells[cells["setting"] == setting].pivot_table(index="claim", columns="load", values="cell",
                                                             aggfunc="first", sort=False).reset_index()
        part.columns = ["claim"] + [f"load {c:g}" for c in part.columns[1:]]
        out += [f"**{setting}**", "", markdown_table(part), ""]
    out += ["Where each claim stops holding (first failing load level, ascending):", "",
            markdown_table(stops_holding(v)), ""]
    return "\n".join(out)


def plot(df: pd.DataFrame, outdir) -> list:
    """A_min / H-SF and A_max / H-SF against load, one panel per (arrival setting, algorithm)."""
    from pathlib import Path

    from matplotlib.figure import Figure

    t = summarize(df)
    settings = list(dict.fromkeys(t["setting"]))
    fig = Figure(figsize=(11, 3.6 * len(settings)), layout="constrained")
    axes = fig.subplots(len(settings), 2, squeeze=False)
    for i, setting in enumerate(settings):
        part = t[t["setting"] == setting]
        for j, col in enumerate(("A_min / H-SF", "A_max / H-SF")):
            ax = axes[i, j]
            for pred, g in part.groupby("predictions", sort=False):
                ax.plot(g["load"], g[col], marker="o", ms=3, label=pred)
            ax.axhline(chen.CLOSE, color="black", ls="--", lw=0.8, label=f"threshold {chen.CLOSE}")
            ax.set(xscale="log", yscale="log", xlabel="load" + (" (n E[s+o] / M)" if setting == "all at 0"
                                                             else " (rate / capacity)"),
                   ylabel=col, title=f"{col}, {setting}, M = {M_TOKENS:,}")
            ax.grid(alpha=0.3)
            ax.legend(fontsize="x-small")
    path = Path(outdir) / "summary.png"
    fig.savefig(path, dpi=100)
    return [path]


EXPERIMENT = Experiment(
    name="chen-load",
    description=(
        "Chen, Ye, Zhou's prediction claims across load: the settings of chen-predictions (rough, buckets, "
        "overlap x = 0.1 / 0.95 / 0.99, exact) on the LMSYS-like workload at the assumed M = "
        f"{M_TOKENS:,}, all arrivals at 0 with n in {list(BATCH_SIZES)}, and Poisson arrivals (n = {POISSON_N}) "
        f"at {list(UTILISATIONS)} times the capacity rate M / E[s o + o(o+1)/2]; seeds {list(SEEDS)}."),
    task=chen.task,
    generate=chen.generate,
    algorithms=chen.ALGORITHMS,
    grids=_grids(BATCH_SIZES, UTILISATIONS, POISSON_N, SEEDS),
    quick_grids=_grids(QUICK["sizes"], QUICK["utilisations"], QUICK["poisson_n"], QUICK["seeds"]),
    version=1,
    summarize=summarize,
    plot=plot,
)
