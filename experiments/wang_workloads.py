"""``wang-workloads``: FCFS, SF, largest batch and Sorted-F (each selector) on Wang, Ye, Zhou's
three workloads and on the SF counterexample families (docs/model.md §3.3, §7.2).

Workloads (all arrivals at round 0, lengths in tokens unless the source says otherwise):

- ``conversation``: LMSYS-Chat-1M, preset ``lmsys-100k`` of the shared data folder, whose
  lengths are WORD counts of whole conversations, used as if they were tokens; without the
  trace, :func:`kvsched.workload.lmsys_like` (the generalised-gamma model of Chen et al.'s
  2,000-conversation token statistics).
- ``long-prompt``: arXiv summarisation (Cohan et al.), preset ``arxiv``, LLaMA-2 tokens;
  without the trace, :func:`long_prompt_like` (prompts normal, outputs lognormal, matched to
  the trace's published mean / median, not to its tails).
- ``mixed``: ``n // 2`` conversation requests followed by ``n - n // 2`` long-prompt ones
  (the papers give no mixing ratio; 1:1 is ours).

Sampling: ``n`` rows drawn without replacement with the instance seed (rows with a zero
length are dropped first). Every row records its source in ``workload_source``.

Two tiers, because the time-indexed LP is only tractable for short lengths:

- *token tier* (``unit = 1``, M = 16,492 tokens, Llama-2-70B on two A100s): the closed-form sorted-volume
  bound (:func:`kvsched.bounds.lower_bound`); ratios overstate the distance to the optimum.
- *LP tier* (small n, lengths in coarse units of ``unit`` tokens, ``ceil(len / unit)``, and
  M in the same units): the LP relaxation of the time-indexed model (:mod:`models.lp`), or the
  closed-form bound when the LP fails; ``bound_kind`` says which bound each row carries.

Families: the talk's ``sf-lower-bound`` (M requests (sqrt(M) - 1, 1), M^1.5 requests
(1, 2)) and :func:`kvsched.theory.families.sf_blocker_family` (sqrt(M) blockers (M - 1, 1), M requests
(1, 2)), on which SF / Sorted-F grows like sqrt(M).
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

from kvsched import heuristics
from kvsched.bounds import lower_bound
from kvsched.generators import generate as generate_family
from kvsched.instance import Instance
from kvsched.paths import shared_trace
from kvsched.theory.families import sf_blocker_family
from kvsched.traces import PRESETS, load_trace
from kvsched.workload import lmsys_like

from .report import plain_log_axis
from .runner import row_from_result
from .spec import Algorithm, Case, Experiment, Grid, InstanceSpec

M_TOKENS = 16_492
CONVERSATION_TRACE = "lmsys-100k"
LONG_PROMPT_TRACE = "arxiv"
WORKLOADS = ("conversation", "long-prompt", "mixed")
LP_TIME_LIMIT = 60.0

#: published statistics of the arXiv summarisation trace (LLaMA-2 tokens, shared data README)
ARXIV_STATS = {"prompt": (1, 4054, 2588.08, 2730, 892_549.7), "output": (5, 4056, 291.43, 167, 281_468.3)}


def long_prompt_like(n: int, seed: int = 0) -> tuple:
    """``n`` arXiv-like (prompt, output) token lengths: prompts ``N(mean, sd)`` of the trace
    clipped to its range; outputs lognormal with the trace's median 167 and mean 291
    (``sigma^2 / 2 = ln(291 / 167)``), clipped to its range. Tails are not matched."""
    rng = np.random.default_rng(seed)
    lo_s, hi_s, mean_s, _, var_s = ARXIV_STATS["prompt"]
    lo_o, hi_o, mean_o, med_o, _ = ARXIV_STATS["output"]
    s = np.clip(np.rint(rng.normal(mean_s, math.sqrt(var_s), n)), lo_s, hi_s).astype(np.int64)
    sigma = math.sqrt(2 * math.log(mean_o / med_o))
    o = np.clip(np.rint(rng.lognormal(math.log(med_o), sigma, n)), lo_o, hi_o).astype(np.int64)
    return s, o


def _trace_available(preset: str) -> bool:
    return shared_trace(PRESETS[preset].filename) is not None


def _use_trace(preset: str, source: str) -> bool:
    if source not in ("auto", "trace", "builtin"):
        raise ValueError(f"source must be auto, trace or builtin, got {source!r}")
    return source == "trace" or (source == "auto" and _trace_available(preset))


_TRACE_LABEL = {"conversation": f"{CONVERSATION_TRACE} trace (LMSYS-Chat-1M WORD counts)",
                "long-prompt": f"{LONG_PROMPT_TRACE} trace (LLaMA-2 tokens)"}
_BUILTIN_LABEL = {"conversation": "lmsys-like generator (tokens)",
                  "long-prompt": "long-prompt-like generator (tokens)"}
_TRACE = {"conversation": CONVERSATION_TRACE, "long-prompt": LONG_PROMPT_TRACE}


def source_label(kind: str, source: str = "auto", unit: int = 1) -> str:
    """Where the lengths of workload ``kind`` come from (and their unit)."""
    if kind == "mixed":
        label = f"1:1 of {source_label('conversation', source)} + {source_label('long-prompt', source)}"
    elif kind in _TRACE:
        label = (_TRACE_LABEL if _use_trace(_TRACE[kind], source) else _BUILTIN_LABEL)[kind]
    else:
        raise ValueError(f"unknown workload {kind!r}; known: {', '.join(WORKLOADS)}")
    return label + (f", in units of {unit}" if unit > 1 else "")


def _lengths(kind: str, n: int, seed: int, source: str) -> tuple:
    """(prompts, outputs) of ``n`` requests of one workload, in tokens (words for LMSYS)."""
    if kind == "mixed":
        s1, o1 = _lengths("conversation", n // 2, seed, source)
        s2, o2 = _lengths("long-prompt", n - n // 2, seed, source)
        return np.concatenate([s1, s2]), np.concatenate([o1, o2])
    if kind not in _TRACE:
        raise ValueError(f"unknown workload {kind!r}; known: {', '.join(WORKLOADS)}")
    if _use_trace(_TRACE[kind], source):
        inst = load_trace(_TRACE[kind], M=10 ** 9, n=n, seed=seed, drop_invalid=True).instance
        return inst.s, inst.o
    if kind == "conversation":
        inst = lmsys_like(n, seed=seed)
        return inst.s, inst.o
    return long_prompt_like(n, seed)


def workload(kind: str, n: int, seed: int = 0, M: int = M_TOKENS, unit: int = 1,
             source: str = "auto") -> tuple:
    """(Instance, source label): ``n`` requests of workload ``kind``, lengths ``ceil(len / unit)``.
    ``source``: ``auto`` (trace when present), ``trace`` or ``builtin``."""
    s, o = _lengths(kind, n, seed, source)
    if unit > 1:
        s, o = -(-np.asarray(s) // unit), -(-np.asarray(o) // unit)
    name = f"{kind}-n{n}-seed{seed}-M{M}" + (f"-unit{unit}" if unit > 1 else "")
    return (Instance(M, tuple(int(x) for x in s), tuple(int(x) for x in o), name=name),
            source_label(kind, source, unit))


def generate(spec: InstanceSpec) -> Instance:
    """The instance of one spec: a workload, ``sf-lower-bound`` or ``sf-blockers``."""
    p = dict(spec.params)
    p.pop("bound", None)
    if spec.family in WORKLOADS:
        return workload(spec.family, spec.n, spec.seed, **p)[0]
    if spec.family == "sf-lower-bound":
        return generate_family("sf-lower-bound", spec.n, spec.seed, **p)
    if spec.family == "sf-blockers":
        inst = sf_blocker_family(p["M"], small=p["M"])
        if inst.n != spec.n:
            raise ValueError(f"sf-blockers with M = {p['M']} has n = {inst.n}, spec says {spec.n}")
        return inst
    raise ValueError(f"unknown family {spec.family!r}")


_BOUNDS: dict = {}  # (instance digest, kind) -> bound_for's answer, per worker process


def bound_for(instance: Instance, kind: str) -> tuple:
    """(bound, bound_kind, message): with ``kind == "lp"`` the LP relaxation's value when HiGHS
    solves it to optimality (never below the closed-form bound), with ``kind == "lagrangian"``
    the Lagrangian bound of :mod:`kvsched.models.lagrangian`, else the closed-form bound.
    Computed once per instance and process (every algorithm of a case shares it)."""
    key = (instance.digest, kind)
    if key not in _BOUNDS:
        closed = float(lower_bound(instance))
        if kind == "lagrangian":  # the LP's value without the Pyomo model (fits large instances)
            from kvsched import models

            lag = models.solve("lagrangian", instance, time_limit=LP_TIME_LIMIT, window_cut=False)
            _BOUNDS[key] = (max(float(lag.bound), closed), "lagrangian" if lag.bound > closed else "closed-form",
                            lag.message)
        elif kind != "lp":
            _BOUNDS[key] = (closed, "closed-form", "")
        else:
            from kvsched import models  # pyomo + highspy only where an LP is asked for

            lp = models.solve("lp", instance, time_limit=LP_TIME_LIMIT, hard_limit=True, threads=1)
            if lp.status in ("feasible", "optimal") and lp.solver_status == "Optimal" and lp.bound is not None:
                _BOUNDS[key] = (max(float(lp.bound), closed), "lp", lp.message)
            else:
                _BOUNDS[key] = (closed, "closed-form (LP failed)", lp.message or lp.status)
    return _BOUNDS[key]


def task(case: Case, algorithm: Algorithm) -> dict:
    """One heuristic on one instance; bound per the spec's ``bound`` param (``lp`` or closed form).
    ``heuristic_time`` is the heuristic's own time; ``bound_time`` the bound's (nonzero only for
    the first algorithm of an instance in a process; ``wall_time`` includes both)."""
    t0 = time.perf_counter()
    bound, bound_kind, note = bound_for(case.instance, case.spec.params.get("bound", "closed-form"))
    bound_time = time.perf_counter() - t0
    result = heuristics.run(algorithm.name, case.instance, bound=bound, **algorithm.params)
    row = row_from_result(result)
    p = case.spec.params
    unit = int(p.get("unit", 1))
    src = (source_label(case.spec.family, p.get("source", "auto"), unit) if case.spec.family in WORKLOADS
           else f"{case.spec.family} family (exact construction)")
    row.update(bound_kind=bound_kind, workload_source=src, unit=unit, ratio=row["objective"] / bound,
               heuristic_time=result.wall_time, bound_time=bound_time, message=note or row["message"])
    return row


ALGORITHMS = (
    Algorithm("fcfs"),
    Algorithm("mcsf"),
    Algorithm("largest-batch"),
    Algorithm("sorted-f", {"selector": "dp"}),
    Algorithm("sorted-f", {"selector": "scaled-dp", "epsilon": 0.1}),
    Algorithm("sorted-f", {"selector": "swap"}),
    Algorithm("sorted-f", {"selector": "quantile"}),
)

#: LP tier: (workload, unit tokens, M in units). Conversation: M = 1,408 tokens (memory binds at
#: n = 12-20 and every conversation fits); the others 16,384 tokens.
LP_TIER = (("conversation", 8, 176), ("long-prompt", 64, 256), ("mixed", 64, 256))


def _grids(token_sizes, token_seeds, lp_sizes, lp_seeds, sf_M, blockers_M, source="auto") -> tuple:
    grids = [Grid(w, token_sizes, token_seeds, {"M": M_TOKENS, "source": source}) for w in WORKLOADS]
    grids += [Grid(w, lp_sizes, lp_seeds, {"M": M, "unit": u, "source": source, "bound": "lp"})
              for w, u, M in LP_TIER]
    grids += [Grid("sf-lower-bound", (M + math.isqrt(M) ** 3,), (0,), {"M": M, "bound": "lp"}) for M in sf_M]
    grids += [Grid("sf-blockers", (M + math.isqrt(M),), (0,), {"M": M, "bound": "lp"}) for M in blockers_M]
    return tuple(grids)


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    """Per (family, n, M, unit, algorithm): mean TCT, mean bound, mean and worst TCT / bound."""
    ok = df["status"] != "error"
    d = df.assign(r=np.where(ok, df["objective"] / df["bound"], np.nan), optimal=df["status"] == "optimal",
                  error=~ok)
    g = d.groupby(["family", "n", "M", "unit", "label"], sort=False)
    out = pd.DataFrame({
        "instances": g.size(),
        "mean TCT": g["objective"].mean(),
        "mean bound": g["bound"].mean(),
        "bound": g["bound_kind"].agg(lambda s: "/".join(sorted(set(map(str, s))))),
        "mean TCT/bound": g["r"].mean(),
        "worst TCT/bound": g["r"].max(),
        "optimal": g["optimal"].sum(),
        "errors": g["error"].sum(),
        "mean heuristic time (s)": g["heuristic_time"].mean(),
    }).reset_index()
    return out


def summary_figure(df: pd.DataFrame):
    """Grouped bars of the mean TCT / bound of every algorithm, one group per (family, n, M),
    each group labelled with its bound (``lp``: the LP relaxation; ``closed-form``: the
    sorted-volume bound): the workloads in the top panel, the SF families (log scale, plain
    ticks) in the bottom one; one legend below the panels."""
    from matplotlib.figure import Figure

    table = summarize(df)
    unit = np.where(table["unit"] > 1, "\nunit: " + table["unit"].astype(str) + " tokens", "")
    table["group"] = (table["family"] + "\nn=" + table["n"].astype(str) + " M=" + table["M"].astype(str) + unit
                      + "\nbound: " + table["bound"].astype(str))
    labels = list(dict.fromkeys(table["label"]))
    panels = [(table[table["family"].isin(WORKLOADS)], "workloads", "linear"),
              (table[~table["family"].isin(WORKLOADS)], "SF counterexample families", "log")]
    panels = [p for p in panels if len(p[0])]
    widest = max(p[0]["group"].nunique() for p in panels)
    fig_width = min(20, max(10, 1.35 * widest))
    fig = Figure(figsize=(fig_width, 4.4 * len(panels) + 0.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(panels), 1))
    width = 0.8 / len(labels)
    for ax, (part, title, scale) in zip(axes, panels):
        groups = list(dict.fromkeys(part["group"]))
        for k, label in enumerate(labels):
            by = part[part["label"] == label].set_index("group")["mean TCT/bound"]
            ax.bar(np.arange(len(groups)) + k * width, [by.get(g, np.nan) for g in groups], width, label=label,
                   color=f"C{k}")
        ax.set_xticks(np.arange(len(groups)) + 0.4 - width / 2, groups, fontsize="x-small")
        if scale == "log":
            plain_log_axis(ax, part["mean TCT/bound"])
        else:
            ax.set_ylim(0, part["mean TCT/bound"].max() * 1.08)
        ax.set(ylabel="mean TCT / bound" + (" (log scale)" if scale == "log" else ""),
               title=f"wang-workloads, {title}: TCT / proven lower bound (bound under each group)")
        ax.axhline(1.0, color="black", lw=0.8)
        ax.grid(alpha=0.3, axis="y")
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncol=max(1, min(len(labels), int(fig_width / 2.8))),
               fontsize="small", frameon=False)
    return fig


def plot(df: pd.DataFrame, outdir) -> list:
    """``summary.png``: :func:`summary_figure`."""
    from pathlib import Path

    path = Path(outdir) / "summary.png"
    summary_figure(df).savefig(path, dpi=110)
    return [path]


#: what the paper reports (``source``: where; ``reported``: the claims, in words)
PAPER = {
    "source": "Wang, Ye, Zhou 2025, \"LLM Serving Optimization with Variable Prefill and Decode "
              "Lengths\" (arXiv 2508.06133), numerical experiments as presented in the authors' talk",
    "reported": (
        "Wang, Ye, Zhou (2025), as presented in the authors' talk: Sorted-F (batches minimising "
        "F(X) = sum o_i / |X|^2, four selectors: exact DP, scaled DP, local swap, quantile greedy) "
        "against FCFS and SF on a conversation workload (LMSYS-Chat-1M), a long-prompt workload "
        "(arXiv summarisation) and their mixture; Sorted-F is reported to reduce total completion "
        "time on all three. The material available here gives no numbers for these runs, so the "
        "comparison is qualitative. The talk also claims SF is Omega(sqrt(M))-competitive on its "
        "counterexample family (ratio >= (2/13) sqrt(M)); docs/model.md §7.2 computes only 1.10 / 1.21 / "
        "1.27 at M = 100 / 400 / 1600 for that family. Those are SF against the slide's own comparison "
        "schedule (all type-2 requests first; `tests/test_sorted_f.py::test_seed_sf_family_ratio_is_small` "
        "reproduces the reference values), "
        "not against OPT: Sorted-F and the witness schedules of `results/theory/families.md` are better "
        "than that schedule, so SF / Sorted-F and SF / witness come out higher, still far below the claim."
    ),
}


def compare(df: pd.DataFrame) -> str:
    """Markdown: per workload and family, Sorted-F's best selector against FCFS and SF, and
    whether the paper's qualitative claim (Sorted-F beats both) holds."""
    ok = df[df["status"] != "error"]
    lines = ["| family | n | M | bound | FCFS / bound | SF / bound | best Sorted-F (selector) / bound "
             "| SF / best Sorted-F | Sorted-F beats FCFS and SF? |", "|---|---:|---:|---|---:|---:|---|---:|---|"]
    for (family, n, M), part in ok.groupby(["family", "n", "M"], sort=False):
        mean = part.groupby("label", sort=False)["ratio"].mean()
        sf_rows = {k: v for k, v in mean.items() if k.startswith("sorted-f")}
        if not sf_rows or "fcfs" not in mean or "mcsf" not in mean:
            continue
        best = min(sf_rows, key=sf_rows.get)
        kind = "/".join(sorted(set(part["bound_kind"])))
        beats = sf_rows[best] < min(mean["fcfs"], mean["mcsf"])
        ties = sf_rows[best] == mean["mcsf"]
        verdict = "yes" if beats else ("tie with SF" if ties else "no")
        lines.append(f"| {family} | {n} | {M} | {kind} | {mean['fcfs']:.3f} | {mean['mcsf']:.3f} | "
                     f"{sf_rows[best]:.3f} ({best}) | {mean['mcsf'] / sf_rows[best]:.3f} | {verdict} |")
    lines += ["", "Ratios are means over seeds of TCT / bound; `lp` is the LP relaxation of the time-indexed "
              "model (rows with unit > 1 count lengths in units of that many tokens), `closed-form` the "
              "sorted-volume bound, which overstates every ratio. SF is `mcsf`."]
    claim = ok[(ok["family"] == "sf-lower-bound") & (ok["algorithm"] == "mcsf")]
    for row in claim.itertuples():
        target = 2 / 13 * math.sqrt(row.M)
        ratio = row.objective / row.bound
        if ratio < target:
            lines.append(f"- sf-lower-bound, M = {row.M}: SF / bound ({row.bound_kind}) = {ratio:.3f} < "
                         f"(2/13) sqrt(M) = {target:.3f}; the bound is at most OPT, so SF / OPT <= {ratio:.3f}: "
                         "this family does not attain the talk's claimed ratio at this M.")
    return "\n".join(lines)


EXPERIMENT = Experiment(
    name="wang-workloads",
    description=(
        "Wang, Ye, Zhou's workloads, all arrivals at 0: conversation (LMSYS-Chat-1M WORD counts from the "
        "shared `lmsys-100k` trace, else the LMSYS-like token generator), long-prompt (arXiv summarisation, "
        "LLaMA-2 tokens, else a long-prompt generator) and their 1:1 mixture; `workload_source` in "
        "results.csv says which was used. FCFS, SF (mcsf), largest batch, Sorted-F with each selector. "
        f"Token tier: M = {M_TOKENS:,} tokens, closed-form sorted-volume bound. LP tier (unit > 1: lengths "
        f"in units of {' or '.join(str(u) for u in sorted({u for _, u, _ in LP_TIER}))} tokens, M in the "
        "same units): LP relaxation of the time-indexed model "
        "(column `bound`). Families: sf-lower-bound (the talk's) and sf-blockers (sqrt(M) growth), LP bound."),
    task=task,
    generate=generate,
    algorithms=ALGORITHMS,
    grids=_grids((200, 1000), (0, 1, 2), (12, 20, 30), (0, 1, 2, 3, 4), (16, 100, 400), (100, 400, 1600)),
    quick_grids=_grids((200,), (0,), (20,), (0, 1), (16, 100), (100, 400)),
    version=1,
    summarize=summarize,
    plot=plot,
)
