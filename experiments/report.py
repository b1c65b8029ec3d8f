"""The files of one experiment run: tidy CSV, Markdown summary, PNG plots, run metadata.

The default summary groups rows by (family, n, algorithm label) in plan order and reports
the mean objective, mean bound, mean objective / bound, worst gap, how many rows were proven
optimal, errors and mean wall time; the default plot draws the mean objective / bound and
the mean wall time against n. An experiment may supply its own ``summarize`` and ``plot``.
Figures use matplotlib's ``Figure`` directly (Agg canvas, no pyplot state).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .spec import Experiment, canonical

#: CSV columns in this order; a task's extra columns follow, sorted by name
COLUMNS = ("key", "instance_hash", "family", "n", "seed", "instance_params", "M", "algorithm",
           "params", "label", "status", "bound", "objective", "gap", "wall_time", "algo_seed",
           "threads", "solver_status", "cancelled_runs", "schedule_hash", "versions", "message")


def write_outputs(experiment: Experiment, rows: list, outdir: Path, meta: dict, plots: bool = True) -> list:
    """Write ``results.csv``, ``summary.md``, the plots (if ``plots``) and ``run.json``;
    return the paths."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    text = csv_text(rows)
    write_text_atomic(outdir / "results.csv", text)
    df = pd.read_csv(io.StringIO(text))
    table = (experiment.summarize or default_summary)(df)
    notes = experiment.notes(df) if experiment.notes is not None else ""
    write_text_atomic(outdir / "summary.md", markdown_report(meta, table) + (f"\n{notes}\n" if notes else ""))
    pngs = list((experiment.plot or default_plot)(df, outdir)) if plots else []
    write_json_atomic(outdir / "run.json", meta)
    return [outdir / "results.csv", outdir / "summary.md", *pngs, outdir / "run.json"]


def default_summary(df: pd.DataFrame) -> pd.DataFrame:
    ok = df["status"] != "error"
    d = df.assign(ratio=np.where(ok, df["objective"] / df["bound"], np.nan),
                  optimal=df["status"] == "optimal", error=~ok)
    g = d.groupby(["family", "n", "label"], sort=False)
    return pd.DataFrame({
        "instances": g.size(),
        "mean objective": g["objective"].mean(),
        "mean bound": g["bound"].mean(),
        "mean objective/bound": g["ratio"].mean(),
        "max gap": g["gap"].max(),
        "optimal": g["optimal"].sum(),
        "errors": g["error"].sum(),
        "mean wall time (s)": g["wall_time"].mean(),
    }).reset_index()


def default_plot(df: pd.DataFrame, outdir: Path) -> list:
    table = default_summary(df)
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax_ratio, ax_time = fig.subplots(1, 2)
    several = table["family"].nunique() > 1
    for (family, label), part in table.groupby(["family", "label"], sort=False):
        name = f"{family}: {label}" if several else label
        ax_ratio.plot(part["n"], part["mean objective/bound"], marker="o", label=name)
        ax_time.plot(part["n"], part["mean wall time (s)"], marker="o", label=name)
    ax_ratio.set(xlabel="n (requests)", ylabel="mean objective / bound", title="quality against the bound")
    ax_time.set(xlabel="n (requests)", ylabel="mean wall time (s)", title="wall time", yscale="log")
    for ax in (ax_ratio, ax_time):
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    path = Path(outdir) / "summary.png"
    fig.savefig(path, dpi=110)
    return [path]


#: tick values a log-scaled ratio axis may show, written plainly (1.5, not 1.5x10^0), in tiers:
#: the first tier that (with those before it) gives at least four ticks in range is used
RATIO_TICKS = ((0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000), (1.5, 3, 7, 15, 30, 70, 150, 300, 700),
               (0.8, 0.9, 1.05, 1.1, 1.2, 1.3, 1.4, 1.7, 2.5, 4))


def plain_log_axis(ax, values) -> None:
    """Log-scale the y axis of ``ax`` over ``values`` (positive ratios) with plain decimal
    ticks from :data:`RATIO_TICKS` and no minor tick labels."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

    vals = [float(v) for v in values if v is not None and np.isfinite(v) and v > 0]
    lo, hi = (min(vals), max(vals)) if vals else (1.0, 10.0)
    lo, hi = min(lo, 1.0) / 1.05, hi * 1.15
    ticks: list = []
    for tier in RATIO_TICKS:
        ticks = sorted(ticks + [t for t in tier if lo <= t <= hi])
        if len(ticks) >= 4:
            break
    ax.set_yscale("log")
    ax.set_ylim(lo, hi)
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_minor_formatter(NullFormatter())


def markdown_report(meta: dict, table: pd.DataFrame) -> str:
    lines = [
        f"# {meta['experiment']} ({meta['mode']} mode)",
        "",
        meta.get("description", ""),
        "",
        f"- command: `{meta['command']}`",
        f"- date (UTC): {meta['date_utc']}; git commit: {meta.get('git_commit') or 'unknown'}",
        f"- versions: {', '.join(f'{k} {v}' for k, v in meta['versions'].items())}",
        f"- solver limits: {json.dumps(meta['limits'], sort_keys=True)}",
        f"- tasks: {meta['tasks']} ({meta['cached']} from the cache, {meta['computed']} computed, "
        f"{meta['errors']} errors); wall time {meta['wall_time']:.1f} s",
        "",
        markdown_table(table),
        "",
    ]
    return "\n".join(lines)


def markdown_table(df: pd.DataFrame) -> str:
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "|".join("---:" if pd.api.types.is_numeric_dtype(df[c]) else "---" for c in df.columns) + "|"
    body = ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        if float(v).is_integer() and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.1f}" if abs(v) >= 1000 else f"{v:.4g}"
    return str(v)


def csv_text(rows: list) -> str:
    """Rows as CSV text: :data:`COLUMNS` first, then extra columns sorted; None is empty."""
    extras = sorted({k for r in rows for k in r} - set(COLUMNS))
    cols = list(COLUMNS) + extras
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow(["" if r.get(c) is None else _cell(r[c]) for c in cols])
    return buf.getvalue()


def _cell(v):
    if isinstance(v, (dict, list, tuple)):
        return canonical(v)
    return repr(v) if isinstance(v, float) else v


def write_json_atomic(path: Path, obj) -> None:
    write_text_atomic(path, json.dumps(obj, indent=1, sort_keys=True) + "\n")


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
