"""``jaillet-scaled``: MC-SF against the proven optimum on a SCALED variant of Jaillet et al.'s
synthetic instances (docs/model.md §7.1), small enough that the exact state-space search
can prove the optimum of every trial (those it does not prove are counted apart).

The law is the paper's (M ~ U{30..50}, one prompt size s ~ U{1..5}, o_i ~ U{1..M-s}; model 2:
rate ~ U[0.5, 1.5], Poisson arrivals in rounds 0..T-1) with the size scaled down: model 1 has
n = 10..15 requests instead of n ~ U{40..60}, model 2 a horizon T = 10..15 rounds instead of
T ~ U{40..60} (n is random, 5 to 22.5 requests on average as the rate and T vary). Trial k of model 1 uses seed k and
n = 10 + (k mod 6); trial k of model 2 seed ``MODEL2_SEED_BASE + k`` and T = 10 + (k mod 6).
These are not the paper's sizes: its numbers (``PAPER``) are for n = 40-60.

Each trial is :func:`kvsched.experiments.jaillet_synthetic.task` (MC-SF, then certify with the
search first, CP-SAT and the MILP, hard-limited, and the time-indexed LP when no optimum was
proven): the row says whether the best schedule is a proven optimum (``optimum``) and MC-SF's
:func:`~kvsched.experiments.jaillet_synthetic.verdict` (proven optimal / proven suboptimal /
undecided). MC-SF / OPT is exact on proven trials; elsewhere it lies in
``[mcsf_over_best, mcsf_over_ceil_bound]`` and the trial is never counted as proven.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .jaillet_synthetic import (
    MODEL2_SEED_BASE,
    PROVEN_OPTIMAL,
    PROVEN_SUBOPTIMAL,
    UNDECIDED,
    VERDICTS,
    full_run,
    task,
)
from .jaillet_synthetic import PAPER as SYNTHETIC_PAPER
from .spec import Algorithm, Experiment, InstanceSpec

SIZES = tuple(range(10, 16))  #: model 1: n; model 2: horizon T (rounds with arrivals)
MODELS = {1: "model 1 scaled (all arrivals at 0, n = 10-15)", 2: "model 2 scaled (Poisson arrivals, T = 10-15)"}

PAPER = {
    "source": "Jaillet et al. 2025, \"Online Scheduling for LLM Inference with KV Cache Constraints\" "
              "(arXiv 2502.07115), synthetic experiments at n = 40-60 (model 1) and T = 40-60 (model 2); "
              "this experiment scales the sizes down to n = 10-15 and T = 10-15 so that optima can be proven",
    "reported": {f"{k}, at the paper's sizes (not these)": v for k, v in SYNTHETIC_PAPER["reported"].items()},
}


@dataclass(frozen=True)
class ScaledTrials:
    """The trials of one arrival model at the scaled sizes (a grid for :class:`Experiment`)."""

    model: int
    count: int

    def specs(self) -> list:
        out = []
        for k in range(self.count):
            size = SIZES[k % len(SIZES)]
            if self.model == 1:
                out.append(InstanceSpec("jaillet", size, k, {"model": 1}))
            else:
                out.append(InstanceSpec("jaillet", None, MODEL2_SEED_BASE + k, {"model": 2, "horizon": size}))
        return out


def trials(count: int) -> tuple:
    return ScaledTrials(1, count), ScaledTrials(2, count)


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    """One row per arrival model: trials, proven optima, MC-SF's verdicts and the distribution
    of MC-SF / OPT over the proven trials (exact ratios only)."""
    out = []
    for model, part in df.groupby("model", sort=True):
        ok = part[part["status"] != "error"]
        proven = ok[ok["optimum"] == "proven-optimal"]
        r = proven["mcsf_over_best"]
        out.append({
            "arrival model": MODELS.get(int(model), str(model)),
            "trials": len(part),
            "errors": int((part["status"] == "error").sum()),
            "n range": f"{int(ok['requests'].min())}-{int(ok['requests'].max())}" if len(ok) else "",
            "OPT proven": len(proven),
            **{f"MC-SF {v}": int((ok["verdict"] == v).sum()) for v in VERDICTS},
            "MC-SF/OPT: mean": r.mean() if len(r) else None,
            "MC-SF/OPT: median": r.median() if len(r) else None,
            "MC-SF/OPT: 90th pct": r.quantile(0.9) if len(r) else None,
            "MC-SF/OPT: worst": r.max() if len(r) else None,
            "unproven: worst MC-SF/ceil(LB)": ok.loc[ok["optimum"] != "proven-optimal", "mcsf_over_ceil_bound"].max()
            if (ok["optimum"] != "proven-optimal").any() else None,
            "mean wall time (s)": part["wall_time"].mean(),
        })
    return pd.DataFrame(out)


def statements(df: pd.DataFrame) -> str:
    """Markdown: per model, what was proven and the MC-SF / OPT distribution, every number
    computed from ``df``."""
    lines = []
    for model in (1, 2):
        part = df[(df["model"] == model) & (df["status"] != "error")]
        errors = int(((df["model"] == model) & (df["status"] == "error")).sum())
        title = f"**{MODELS[model]}**"
        if part.empty:
            lines += [title, "", "No finished trials in this run.", ""]
            continue
        n = len(part)
        proven = part[part["optimum"] == "proven-optimal"]
        counts = {v: int((part["verdict"] == v).sum()) for v in VERDICTS}
        k = len(proven)
        text = [f"{n} finished trials (n = {int(part['requests'].min())}-{int(part['requests'].max())} requests"
                + (f"; {errors} failed" if errors else "") + ")."]
        if k == n:
            text.append(f"The optimum was proven in every trial, so MC-SF / OPT is exact in all {n}.")
        else:
            unproven = part[part["optimum"] != "proven-optimal"]
            text.append(f"The optimum was proven in {k} of {n} trials; in the other {n - k} MC-SF / OPT is known only "
                        f"to lie in [MC-SF / best, MC-SF / ceil(LB)] (widest upper end "
                        f"{unproven['mcsf_over_ceil_bound'].max():.3f}), and they are left out of the distribution.")
        text.append(f"MC-SF is proven optimal in {counts[PROVEN_OPTIMAL]}, proven suboptimal in "
                    f"{counts[PROVEN_SUBOPTIMAL]} and undecided in {counts[UNDECIDED]} of {n} trials.")
        if k:
            r = proven["mcsf_over_best"]
            eq = int((proven["verdict"] == PROVEN_OPTIMAL).sum())
            text.append(f"Over the {k} proven trials MC-SF / OPT has mean {r.mean():.3f}, median {r.median():.3f}, "
                        f"90th percentile {r.quantile(0.9):.3f} and worst {r.max():.3f}; MC-SF = OPT in {eq} of {k} "
                        f"({eq / k:.0%}).")
            if eq == k:
                text.append("MC-SF was optimal in every proven trial.")
            else:
                worst = proven.loc[r.idxmax()]
                text.append(f"The worst proven trial (seed {int(worst['seed'])}, n = {int(worst['requests'])}): "
                            f"MC-SF {int(worst['mcsf'])} against OPT {int(worst['objective'])}.")
        lines += [title, "", " ".join(text), ""]
    lines.append("These are scaled-down instances (n = 10-15, T = 10-15), not the paper's n = 40-60: the paper's "
                 "MC-SF / IP figures are about other sizes and are neither reproduced nor refuted here.")
    return "\n".join(lines)


def compare(df: pd.DataFrame) -> str:
    """The results/README.md section: :func:`statements`."""
    return statements(df)


def plot(df: pd.DataFrame, outdir: Path) -> list:
    """``summary.png``: per model, the sorted MC-SF / OPT of the proven trials (an empirical
    distribution), and the unproven trials' intervals [MC-SF / best, MC-SF / ceil(LB)]."""
    fig = Figure(figsize=(11, 4.5), layout="constrained")
    for ax, model in zip(fig.subplots(1, 2), (1, 2)):
        part = df[(df["model"] == model) & (df["status"] != "error")]
        proven = np.sort(part.loc[part["optimum"] == "proven-optimal", "mcsf_over_best"].to_numpy(float))
        if len(proven):
            ax.step(proven, np.arange(1, len(proven) + 1) / len(proven), where="post", color="tab:green",
                    label=f"proven trials ({len(proven)})")
        open_ = part[part["optimum"] != "proven-optimal"]
        for i, (_, row) in enumerate(open_.iterrows()):
            y = 0.05 + 0.9 * (i + 1) / (len(open_) + 1)
            ax.plot([row["mcsf_over_best"], row["mcsf_over_ceil_bound"]], [y, y], color="tab:orange", lw=2,
                    label="unproven: [MC-SF / best, MC-SF / ceil(LB)]" if i == 0 else None)
        ax.set(title=MODELS[model], xlabel="MC-SF / OPT", ylabel="fraction of proven trials <= x")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small", loc="lower right")
    path = Path(outdir) / "summary.png"
    fig.savefig(path, dpi=110)
    return [path]


def build(trials_per_model: int = 12, time_limit: float = 60.0, quick_trials: int = 2,
          quick_time_limit: float = 10.0) -> Experiment:
    """The experiment with the given number of trials per model and per-solver limits (s)."""
    return Experiment(
        name="jaillet-scaled",
        description=(
            "SCALED variant of Jaillet et al.'s synthetic instances (docs/model.md §7.1): the paper's law with model 1 "
            "at n = 10-15 and model 2 with horizon T = 10-15 (not the paper's 40-60), small enough for the exact "
            f"search to prove optima; MC-SF against the proven optimum. The registered full mode plans {trials_per_model} trials per "
            f"model ({quick_trials} in quick mode), certify (search, CP-SAT, MILP) and the LP limited to {time_limit:g} s "
            f"({quick_time_limit:g} s in quick mode) each, 1 thread, hard-limited. Seeds: model 1 0..{trials_per_model - 1}, "
            f"model 2 {MODEL2_SEED_BASE}..{MODEL2_SEED_BASE + trials_per_model - 1}. Each run below states the command, limits "
            "and trials that really ran."),
        task=task,
        algorithms=(Algorithm("mcsf-vs-certified"),),
        grids=trials(trials_per_model),
        quick_grids=trials(quick_trials),
        limits={"time_limit": float(time_limit), "threads": 1},
        quick_limits={"time_limit": float(quick_time_limit), "threads": 1},
        summarize=summarize,
        notes=statements,
        plot=plot,
    )


EXPERIMENT = build()


def main(argv=None) -> None:
    """A full-mode run with other trial counts or limits, written to a new run folder, or with
    --update-reference to the reference results/jaillet-scaled/."""
    full_run(argv, "kvsched.experiments.jaillet_scaled", build, 12, 60.0, main.__doc__)


if __name__ == "__main__":
    main()
