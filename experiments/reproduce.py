"""``kvsched reproduce``: run every paper experiment, compare it with the reference tables.

Where a run writes. The results folder (``./results`` or ``--results DIR``) holds the task
cache (``cache/``) and the reference tables (``NAME/``, ``NAME/quick/``, ``README.md``,
``timings.json``; in the repository: the committed ones). A run writes its tables, its own
``README.md``, ``timings.json`` and ``reference.md`` into a run folder (``runs/<UTC
timestamp>/``, git-ignored, or ``--run-dir DIR``) and ends by comparing each experiment with
its reference (:mod:`experiments.reference`). ``--update-reference`` then copies the run's
tables over the reference ones and rebuilds the reference ``README.md`` described below.

Which experiments. Every experiment of :data:`experiments.REGISTRY` whose module defines
``PAPER = {"source": str, "reported": text or mapping}`` takes part, in registry order. An
optional module-level ``compare(df) -> str`` (``df``: the experiment's ``results.csv``) returns
Markdown that puts our numbers next to the paper's and explains the differences; without it
the README shows the experiment's summary table.

What the README shows. It is rebuilt from the files on disk, never from one run only: for each
paper experiment its full-mode outputs (``results/NAME/``) when present and its quick-mode
outputs (``results/NAME/quick/``), each with command, date, git commit, versions, solver
limits, seeds, task counts and wall time. So a quick run keeps the committed full-mode tables.

Timings. ``results/timings.json`` keeps, per experiment and mode, the last run that computed
something (a run served entirely from the cache does not replace it): wall time, tasks
computed and cached, jobs, command, date. Without such an entry the README falls back to the
``run.json`` of the outputs on disk (a run made by ``kvsched experiment NAME``).
"""

from __future__ import annotations

import importlib
import json
import shutil
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pandas as pd

from kvsched import paths

from . import REGISTRY
from .executors import make_executor
from .reference import TOLERANCE, ReferenceComparison, compare_to_reference
from .reference import render as render_reference
from .report import markdown_table, write_json_atomic, write_text_atomic
from .runner import RunSummary, package_versions, run_experiment

TIMINGS_FILE = "timings.json"
MODES = ("full", "quick")


def paper_experiments(broken: Optional[dict] = None) -> dict:
    """Name -> module of every registered experiment that declares ``PAPER``, registry order.
    A module that fails to import is left out; its error goes to ``broken`` (name -> message)."""
    out = {}
    for name, module_name in REGISTRY.items():
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            if broken is not None:
                broken[name] = f"cannot import {module_name}: {type(exc).__name__}: {exc}"
            continue
        if hasattr(module, "PAPER"):
            out[name] = module
    return out


@dataclass
class Outcome:
    """What happened to one experiment in a reproduce run."""

    name: str
    summary: Optional[RunSummary] = None
    error: Optional[str] = None  # the exception that stopped the experiment
    outdir: Optional[Path] = None  # where this run wrote the experiment's tables
    reference: Optional[ReferenceComparison] = None  # those tables against the reference

    @property
    def ok(self) -> bool:
        return self.error is None and self.summary is not None and not self.summary.errors


def reproduce(quick: bool = False, only=None, jobs: int = 1, results_dir=None,
              progress: bool = True, plots: bool = True, say=print, run_dir=None,
              update_reference: bool = False, tolerance: float = TOLERANCE) -> list:
    """Run the paper experiments (all, or the names in ``only``); returns one :class:`Outcome`
    per experiment. An experiment that fails is reported and the others still run.

    ``results_dir`` (default :func:`kvsched.paths.results_dir`) holds the task cache and the
    reference tables. The run writes its tables, ``timings.json`` and ``README.md`` into
    ``run_dir`` (default a new ``runs/<UTC timestamp>/`` of ``results_dir``) and compares each
    experiment with its reference (:mod:`experiments.reference`, ``tolerance`` relative). With
    ``update_reference`` the run's tables then replace the reference ones, and the reference
    ``timings.json`` and ``README.md`` are rebuilt: the one way the reference changes."""
    broken: dict = {}
    modules = paper_experiments(broken)
    names = list(only) if only else list(modules)
    unknown = [n for n in names if n not in modules and n not in broken]
    if unknown:
        raise KeyError(f"not a paper experiment: {', '.join(unknown)}; known: {', '.join(modules)}")
    results_dir = Path(results_dir or paths.results_dir())
    run_dir = Path(run_dir) if run_dir else paths.new_run_dir(results_dir)
    mode = "quick" if quick else "full"
    say(f"results folder {results_dir} (task cache {results_dir / 'cache'}); this run writes to {run_dir}")
    outcomes = [Outcome(n, error=broken[n]) for n in broken if not only or n in only]
    names = [n for n in names if n in modules]
    for k, name in enumerate(names, 1):
        command = (f"kvsched reproduce{' --quick' if quick else ''} --only {name} --jobs {jobs}"
                   + (" --update-reference" if update_reference else ""))
        say(f"== [{k}/{len(names)}] {name} ({mode} mode)")
        outdir = output_dir_for(name, mode, run_dir)
        try:
            summary = run_experiment(modules[name].EXPERIMENT, quick=quick, executor=make_executor("local", jobs=jobs),
                                     results_dir=results_dir, progress=progress, command=command, plots=plots,
                                     out_dir=outdir, say=say)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # one broken experiment must not stop the others
            outcomes.append(Outcome(name, error=f"{type(exc).__name__}: {exc}"))
            say(traceback.format_exc(limit=3))
            continue
        record_timing(run_dir, name, mode, summary, command, jobs)
        ref = compare_to_reference(name, modules[name].EXPERIMENT, outdir, output_dir_for(name, mode, results_dir),
                                   tolerance)
        outcomes.append(Outcome(name, summary=summary, outdir=outdir, reference=ref))
    ran = {o.name: modules[o.name] for o in outcomes if o.summary is not None}
    write_text_atomic(run_dir / "reference.md", "# This run against the reference tables\n\n" + "\n\n".join(
        render_reference(o.reference) for o in outcomes if o.reference) + "\n")
    write_text_atomic(run_dir / "README.md", render_readme(run_dir, ran))
    if update_reference:
        for o in outcomes:
            if o.ok:
                refdir = output_dir_for(o.name, mode, results_dir)
                replace_tables(o.outdir, refdir)
                record_timing(results_dir, o.name, mode, o.summary, f"kvsched reproduce{' --quick' if quick else ''} "
                              f"--only {o.name} --jobs {jobs} --update-reference", jobs)
                say(f"{o.name}: the reference {refdir} now holds this run's tables")
        write_text_atomic(results_dir / "README.md", render_readme(results_dir, modules))
        say(f"rebuilt {results_dir / 'README.md'}")
    return outcomes


def replace_tables(src: Path, dest: Path) -> None:
    """Copy the files of one run's output folder over a reference folder (subfolders, such as a
    full-mode folder's ``quick/``, are left alone)."""
    dest.mkdir(parents=True, exist_ok=True)
    for f in sorted(Path(src).iterdir()):
        if f.is_file():
            shutil.copyfile(f, dest / f.name)


def record_timing(results_dir, name: str, mode: str, summary: RunSummary, command: str, jobs: int) -> None:
    """Keep this run's wall time in ``timings.json`` if it computed something (a run served
    from the cache times nothing)."""
    if summary.computed == 0:
        return
    path = Path(results_dir) / TIMINGS_FILE
    timings = load_timings(results_dir)
    entry = timings.setdefault(name, {})
    entry[mode] = {
        "wall_time": round(summary.wall_time, 1), "tasks": summary.tasks, "computed": summary.computed,
        "cached": summary.cached, "errors": len(summary.errors), "jobs": jobs, "command": command,
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    write_json_atomic(path, timings)


def load_timings(results_dir) -> dict:
    path = Path(results_dir) / TIMINGS_FILE
    return json.loads(path.read_text()) if path.exists() else {}


# ----------------------------------------------------------------------------- README
def render_readme(results_dir, modules: dict) -> str:
    """The whole ``README.md`` from the outputs and timings on disk."""
    results_dir = Path(results_dir or paths.results_dir())
    timings = load_timings(results_dir)
    lines = [
        "# Reproducing the papers' experiments",
        "",
        "Generated by `kvsched reproduce` (do not edit by hand). `kvsched reproduce --quick` runs every "
        "experiment below in quick mode (minutes on 2 cores); `kvsched reproduce` runs the full mode "
        "(hours; run it by hand). `--only NAME` runs one experiment, `--jobs J` uses J worker processes. "
        "Finished tasks are cached in `results/cache/`, so an interrupted run resumes. Each experiment's "
        "CSV (one row per instance x algorithm), summary and plots are in `results/NAME/` (full mode) and "
        "`results/NAME/quick/` (quick mode).",
        "",
        f"Environment of this rendering: {_versions(package_versions())}.",
        "",
        "## Overview",
        "",
        "| experiment | quick mode: wall time | full mode: wall time | outputs |",
        "|---|---|---|---|",
    ]
    for name in modules:
        t = {m: timings.get(name, {}).get(m) or timing_from_run(output_dir_for(name, m, results_dir)) for m in MODES}
        outs = [f"`{_rel(output_dir_for(name, m, results_dir), results_dir)}`" for m in MODES
                if (output_dir_for(name, m, results_dir) / "results.csv").exists()]
        lines.append(f"| [{name}](#{name}) | {_timing(t.get('quick'))} | {_timing(t.get('full'))} | "
                     f"{', '.join(outs) or 'not run yet'} |")
    lines += ["", "Wall times are of the last run that computed something, with the number of tasks it "
              "computed (the rest came from the cache), its `--jobs` and, when it was not made by "
              "`kvsched reproduce`, its command; a run whose tasks all came from the cache times nothing.", ""]
    for name, module in modules.items():
        lines += experiment_section(name, module, results_dir, timings.get(name, {}))
    return "\n".join(lines).rstrip() + "\n"


def timing_from_run(outdir: Path) -> Optional[dict]:
    """A timing entry from ``run.json`` of a run made outside ``kvsched reproduce``
    (e.g. ``kvsched experiment NAME``), if that run computed something."""
    path = Path(outdir) / "run.json"
    if not path.exists():
        return None
    meta = json.loads(path.read_text())
    if not meta.get("computed"):
        return None
    return {"wall_time": meta["wall_time"], "tasks": meta["tasks"], "computed": meta["computed"],
            "cached": meta.get("cached"), "command": meta.get("command", ""), "date_utc": meta.get("date_utc", "")}


def output_dir_for(name: str, mode: str, results_dir) -> Path:
    out = Path(results_dir) / name
    return out / "quick" if mode == "quick" else out


def experiment_section(name: str, module, results_dir: Path, timings: dict) -> list:
    exp = module.EXPERIMENT
    paper = module.PAPER
    lines = [f"## {name}", "", exp.description, "", f"**Paper.** {paper['source']}.", ""]
    reported = paper.get("reported")
    if isinstance(reported, str):
        lines += [f"**Reported.** {reported}", ""]
    elif reported:
        lines += ["**Reported.**", ""] + [f"- {k}: {_reported(v)}" for k, v in reported.items()] + [""]
    ran = False
    for mode in MODES:
        outdir = output_dir_for(name, mode, results_dir)
        if not (outdir / "results.csv").exists():
            continue
        ran = True
        lines += mode_section(name, module, mode, outdir, results_dir, timings.get(mode))
    if not ran:
        lines += ["Not run yet: `kvsched reproduce --quick --only " + name + "`.", ""]
    return lines


def mode_section(name: str, module, mode: str, outdir: Path, results_dir: Path, timing: Optional[dict]) -> list:
    df = pd.read_csv(outdir / "results.csv")
    meta_path = outdir / "run.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    lines = [f"### {mode.capitalize()} mode (`{_rel(outdir, results_dir)}/`)", ""]
    if meta:
        lines += [
            f"- command: `{meta.get('command')}`",
            f"- date (UTC): {meta.get('date_utc')}; git commit: {meta.get('git_commit') or 'unknown'}",
            f"- versions: {_versions(meta.get('versions', {}))}",
            f"- solver limits: `{json.dumps(meta.get('limits', {}), sort_keys=True)}`",
            f"- tasks: {meta.get('tasks')} ({meta.get('computed')} computed, {meta.get('cached')} from the cache, "
            f"{meta.get('errors')} errors); wall time of this run {meta.get('wall_time', 0):.1f} s"
            + (f"; last timed run: {_timing(timing)}" if timing else ""),
        ]
    lines += [f"- seeds: {seeds_text(df)}", ""]
    return lines + [comparison(module, df), ""]


def comparison(module, df: pd.DataFrame) -> str:
    """The module's ``compare(df)``, else its summary table; an error message if either fails
    (a table that cannot be built must not hide the others)."""
    try:
        if hasattr(module, "compare"):
            return module.compare(df)
        return markdown_table((module.EXPERIMENT.summarize or _default_summary)(df))
    except Exception as exc:
        return f"(comparison failed: {type(exc).__name__}: {exc})"


def _default_summary(df):
    from .report import default_summary

    return default_summary(df)


def seeds_text(df: pd.DataFrame) -> str:
    """Seeds per (family, instance parameters), as ranges: ``jaillet {"model":1}: 0-2``."""
    parts = []
    for (family, params), part in df.groupby(["family", "instance_params"], sort=False):
        seeds = sorted({int(s) for s in part["seed"]})
        label = family if params in ("{}", "") else f"{family} {params}"
        parts.append(f"{label}: {_ranges(seeds)}")
    return "; ".join(parts)


def _ranges(values: list) -> str:
    out, start = [], None
    for k, v in enumerate(values):
        if start is None:
            start = v
        if k + 1 == len(values) or values[k + 1] != v + 1:
            out.append(str(start) if start == v else f"{start}-{v}")
            start = None
    return ", ".join(out)


def _timing(t: Optional[dict]) -> str:
    if not t:
        return "no timed run"
    via = "" if t.get("command", "").startswith("kvsched reproduce") else f", `{t['command']}`"
    jobs = f", --jobs {t['jobs']}" if "jobs" in t else ""
    return f"{t['wall_time']:.0f} s ({t['computed']} of {t['tasks']} tasks computed{jobs}, {t['date_utc'][:10]}{via})"


def _versions(v: dict) -> str:
    return ", ".join(f"{k} {x}" for k, x in v.items())


def _reported(v) -> str:
    if isinstance(v, dict):
        return ", ".join(f"{k} {_reported(x)}" for k, x in v.items())
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def _rel(path: Path, results_dir: Path) -> str:
    try:
        return str(Path("results") / Path(path).relative_to(results_dir))
    except ValueError:
        return str(path)


def overview(outcomes: list) -> str:
    """The table printed at the end of a reproduce run."""
    rows = []
    for o in outcomes:
        s = o.summary
        rows.append({
            "experiment": o.name,
            "mode": ("quick" if s.quick else "full") if s else "",
            "tasks": s.tasks if s else None,
            "computed": s.computed if s else None,
            "cached": s.cached if s else None,
            "error rows": len(s.errors) if s else None,
            "wall time (s)": round(s.wall_time, 1) if s else None,
            "result": "ok" if o.ok else (o.error or "error rows (see above)"),
        })
    return markdown_table(pd.DataFrame(rows))
