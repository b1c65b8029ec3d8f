"""A run's tables against the reference tables: which numbers differ, and which inputs.

The reference of experiment NAME is ``NAME/`` (full mode) or ``NAME/quick/`` of the results
folder; in the repository these are the committed tables, rewritten only by
``kvsched reproduce --update-reference``. A run writes the same files into its own folder.

Numbers. Both ``results.csv`` files are summarised with the experiment's ``summarize`` (the
table of ``summary.md``) and compared row by row in plan order: a numeric cell differs when
``|run - ref| > tolerance * max(|run|, |ref|)`` (or exactly one side is empty). Timing columns
(a name containing "time") are never compared. Rows whose labels (the text columns) disagree
are reported as a changed table shape.

Inputs. From ``run.json``: mode, solver limits, package versions and git commit. From
``results.csv``: per planned instance (family, n, seed, parameters) whether the generated
instance is the same (``instance_hash``), with the ``workload_source`` of each side when the
experiment records one (a real trace against its generator); and per row whose inputs are
identical (same cache ``key``) whether the result still differs, which time-limited exact
solvers do under different load.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pandas as pd

from .report import default_summary

#: default relative tolerance of a number against its reference (the tables print 3-4 digits)
TOLERANCE = 1e-3
#: identity of a planned instance in results.csv
INSTANCE_ID = ["family", "n", "seed", "instance_params"]


@dataclass
class Difference:
    row: str          # the row's labels, e.g. "conversation 200 16492 1 fcfs"
    column: str
    run: object
    reference: object

    @property
    def relative(self) -> Optional[float]:
        try:
            a, b = float(self.run), float(self.reference)
        except (TypeError, ValueError):
            return None
        if math.isnan(a) or math.isnan(b):
            return None
        scale = max(abs(a), abs(b))
        return 0.0 if scale == 0 else abs(a - b) / scale


@dataclass
class ReferenceComparison:
    """One experiment's run (``run_dir``) against its reference (``reference_dir``)."""

    name: str
    run_dir: Path
    reference_dir: Path
    tolerance: float
    has_reference: bool = True
    compared: int = 0                       # numeric cells compared
    differences: list = field(default_factory=list)
    shape: str = ""                         # non-empty if the tables' rows do not line up
    inputs: list = field(default_factory=list)  # which inputs differ, in words

    @property
    def differs(self) -> bool:
        return bool(self.differences or self.shape)

    def to_dict(self) -> dict:
        return {"reference": str(self.reference_dir), "has_reference": self.has_reference,
                "tolerance": self.tolerance, "compared": self.compared, "differs": len(self.differences),
                "shape": self.shape, "inputs": list(self.inputs),
                "differences": [{"row": d.row, "column": d.column, "run": _plain(d.run),
                                 "reference": _plain(d.reference)} for d in self.differences]}


def compare_to_reference(name: str, experiment, run_dir, reference_dir,
                         tolerance: float = TOLERANCE) -> ReferenceComparison:
    """Compare the outputs in ``run_dir`` with those in ``reference_dir`` (see the module doc)."""
    run_dir, reference_dir = Path(run_dir), Path(reference_dir)
    out = ReferenceComparison(name, run_dir, reference_dir, tolerance)
    if not (reference_dir / "results.csv").exists():
        out.has_reference = False
        return out
    run_df, ref_df = pd.read_csv(run_dir / "results.csv"), pd.read_csv(reference_dir / "results.csv")
    summarize = experiment.summarize or default_summary
    _compare_tables(out, summarize(run_df), summarize(ref_df))
    out.inputs = _meta_inputs(_read_meta(run_dir), _read_meta(reference_dir)) + _row_inputs(run_df, ref_df)
    return out


def _compare_tables(out: ReferenceComparison, run: pd.DataFrame, ref: pd.DataFrame) -> None:
    if list(run.columns) != list(ref.columns):
        out.shape = (f"the summary's columns changed: run has {', '.join(map(str, run.columns))}; "
                     f"reference has {', '.join(map(str, ref.columns))}")
        return
    numeric = [c for c in run.columns if "time" not in str(c) and _numeric(run[c]) and _numeric(ref[c])]
    labels = [c for c in run.columns if not (_numeric(run[c]) and _numeric(ref[c]))]
    if len(run) != len(ref):
        out.shape = f"the summary has {len(run)} rows in this run and {len(ref)} in the reference"
    for k in range(min(len(run), len(ref))):
        a, b = run.iloc[k], ref.iloc[k]
        row, ref_row = _row_label(a, labels), _row_label(b, labels)
        if row != ref_row:
            out.shape = out.shape or f"row {k + 1} is '{row}' in this run and '{ref_row}' in the reference"
            continue
        row = row or f"row {k + 1}"
        for c in numeric:
            out.compared += 1
            x, y = pd.to_numeric(a[c], errors="coerce"), pd.to_numeric(b[c], errors="coerce")
            if pd.isna(x) and pd.isna(y):
                continue
            if pd.isna(x) or pd.isna(y) or abs(x - y) > out.tolerance * max(abs(x), abs(y)):
                out.differences.append(Difference(row, str(c), a[c], b[c]))


def _numeric(col: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(col):
        return False
    if pd.api.types.is_numeric_dtype(col):
        return True
    conv = pd.to_numeric(col, errors="coerce")
    return bool(conv.notna().sum() == col.notna().sum() and col.notna().any())


def _row_label(row: pd.Series, labels: list) -> str:
    return " ".join(x for x in (_label(row[c]) for c in labels) if x)


def _label(v) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def _plain(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return v.item() if hasattr(v, "item") else v


def _read_meta(outdir: Path) -> dict:
    path = outdir / "run.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _meta_inputs(run: dict, ref: dict) -> list:
    out = []
    if run.get("limits") != ref.get("limits"):
        out.append(f"solver limits: {json.dumps(run.get('limits'), sort_keys=True)} in this run, "
                   f"{json.dumps(ref.get('limits'), sort_keys=True)} in the reference")
    rv, fv = run.get("versions", {}), ref.get("versions", {})
    changed = [f"{k} {rv.get(k, 'absent')} (reference {fv.get(k, 'absent')})"
               for k in sorted(set(rv) | set(fv)) if rv.get(k) != fv.get(k)]
    if changed:
        out.append("versions: " + ", ".join(changed))
    if run.get("git_commit") != ref.get("git_commit"):
        out.append(f"code: git commit {run.get('git_commit') or 'unknown'} "
                   f"(reference {ref.get('git_commit') or 'unknown'})")
    return out


def _row_inputs(run: pd.DataFrame, ref: pd.DataFrame) -> list:
    out = []
    ids = [c for c in INSTANCE_ID if c in run.columns and c in ref.columns]
    a = run.drop_duplicates(ids).set_index(ids)
    b = ref.drop_duplicates(ids).set_index(ids)
    common = a.index.intersection(b.index)
    only_run, only_ref = len(a.index.difference(b.index)), len(b.index.difference(a.index))
    if only_run or only_ref:
        out.append(f"instance plan: {only_run} planned instances only in this run, {only_ref} only in the reference")
    changed = [i for i in common if a.at[i, "instance_hash"] != b.at[i, "instance_hash"]]
    if changed:
        text = f"instances: {len(changed)} of {len(common)} generated instances differ"
        if "workload_source" in a.columns and "workload_source" in b.columns:
            src_run = sorted({str(a.at[i, "workload_source"]) for i in changed})
            src_ref = sorted({str(b.at[i, "workload_source"]) for i in changed})
            text += f" (workload source: {'; '.join(src_run)} in this run, {'; '.join(src_ref)} in the reference)"
        out.append(text)
    same = run.merge(ref, on="key", suffixes=("", "_ref"))
    moved = same[~(_same(same["objective"], same["objective_ref"]) & _same(same["bound"], same["bound_ref"]))]
    if len(moved):
        out.append(f"results: {len(moved)} of {len(same)} rows with identical inputs (same cache key) have a "
                   "different incumbent or bound (time-limited solvers depend on load)")
    return out


def _same(a: pd.Series, b: pd.Series) -> pd.Series:
    """Elementwise equality of two numeric columns, empty equal to empty."""
    x, y = pd.to_numeric(a, errors="coerce"), pd.to_numeric(b, errors="coerce")
    return (x == y) | (x.isna() & y.isna())


def render(cmp: ReferenceComparison, limit: int = 20) -> str:
    """The console / Markdown text of one comparison."""
    head = f"### {cmp.name}: this run against the reference `{cmp.reference_dir}`"
    if not cmp.has_reference:
        return (f"{head}\n\nno reference tables there (make them with `kvsched reproduce --update-reference`); "
                "only the paper's numbers above apply.")
    tol = f"{cmp.tolerance:g} relative"
    lines = [head, ""]
    if cmp.shape:
        lines.append(f"- DIFFERS: {cmp.shape}")
    if cmp.differences:
        lines.append(f"- DIFFERS: {len(cmp.differences)} of {cmp.compared} numbers differ from the reference "
                     f"by more than {tol}:")
        lines += ["", "| row | column | this run | reference | relative difference |", "|---|---|---:|---:|---:|"]
        for d in cmp.differences[:limit]:
            rel = d.relative
            lines.append(f"| {d.row} | {d.column} | {_cell(d.run)} | {_cell(d.reference)} | "
                         f"{'' if rel is None else f'{rel:.2%}'} |")
        if len(cmp.differences) > limit:
            lines.append(f"| ... {len(cmp.differences) - limit} more (see the run's reference.md) | | | | |")
        lines.append("")
    elif not cmp.shape:
        lines.append(f"- all {cmp.compared} numbers agree with the reference within {tol}")
    if cmp.inputs:
        lines.append("- inputs that differ from the reference: " + "; ".join(cmp.inputs))
    else:
        lines.append("- inputs: same instances, solver limits, versions and code as the reference")
    return "\n".join(lines)


def _cell(v) -> str:
    v = _plain(v)
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)
