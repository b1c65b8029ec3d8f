"""Run an :class:`~experiments.spec.Experiment`: plan, execute what is not cached, write tables.

1. Plan: every instance spec of the mode (``--quick`` or full) is generated in this process
   (to get its digest) and paired with every algorithm; each pair has a cache key.
2. Execute: pairs whose key is not in ``results/cache/<experiment>.jsonl`` go to the executor.
   In the worker, :func:`execute` runs the task and checks the returned schedule cheaply: a
   row built from a finished result carries the digest of the schedule validated at the
   boundary, which must match; a row without one is validated here (infeasible, or an
   objective that is not the schedule's TEL, makes the row an ``error``). Each finished record is appended to the
   cache at once (fsync'd), so an interrupted sweep resumes where it stopped. Error rows are
   reported but never cached, so a rerun retries them.
3. Write: ``results/<experiment>/`` (``results/<experiment>/quick/`` in quick mode) gets
   ``results.csv`` (one row per instance x algorithm, in plan order, built from the cached
   records only: a resumed sweep writes the same bytes as an uninterrupted one),
   ``summary.md``, ``summary.png`` (or the experiment's own plots) and ``run.json`` (command,
   git commit, versions, counts, wall time); see :mod:`experiments.report`.
"""

from __future__ import annotations

import functools
import importlib.metadata
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from tqdm import tqdm

from kvsched import paths
from kvsched.result import Result, gap, objective_of
from kvsched.schedule import Schedule
from kvsched.validator import validate

from .cache import ResultStore
from .executors import SerialExecutor
from .spec import Algorithm, Case, Experiment, cache_key, canonical

#: packages whose versions are recorded with every result
PACKAGES = ("numpy", "scipy", "pandas", "pyomo", "highspy", "ortools")


def row_from_result(result: Result) -> dict:
    """The row dict of a task that produced a :class:`~kvsched.result.Result` (already finished)."""
    return {
        "status": result.status,
        "bound": result.bound,
        **validated_schedule(result),
        "algo_seed": result.seed,
        "threads": result.threads,
        "solver_status": result.solver_status,
        "message": result.message,
        "deterministic": result.deterministic,
    }


def validated_schedule(result: Result) -> dict:
    """``objective``, ``schedule`` and, when the result was validated at its boundary,
    ``schedule_hash``: the fields by which :func:`execute` accepts a row without validating again."""
    out = {"objective": result.objective, "schedule": result.schedule}
    if result.schedule is not None and result.report is not None and result.report.feasible:
        out["schedule_hash"] = result.schedule.digest
    return out


@functools.lru_cache(maxsize=1)
def package_versions() -> dict:
    """Python, kvsched and the numerical packages installed where the task ran."""
    import kvsched

    out = {"python": platform.python_version(), "kvsched": kvsched.__version__}
    for pkg in PACKAGES:
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def execute(task, case: Case, algorithm: Algorithm) -> dict:
    """Run one task in a worker; return ``{"row": ..., "schedule": runs or None, "versions": ...}``.

    A task never reports a schedule the validator rejects or an objective other than the
    schedule's TEL: a schedule validated at its boundary is accepted by its digest
    (``schedule_hash``) and its objective recomputed from the completions; any other schedule
    is validated here."""
    t0 = time.perf_counter()
    try:
        row = dict(task(case, algorithm))
    except Exception as exc:  # a failing task becomes an error row, the sweep goes on
        row = {"status": "error", "message": f"{type(exc).__name__}: {exc}"}
    wall = time.perf_counter() - t0
    sched = row.pop("schedule", None)
    claimed = row.pop("schedule_hash", None)
    runs = None
    if sched is not None:
        if not isinstance(sched, Schedule):
            sched = Schedule(tuple(tuple(tuple(r) for r in rs) for rs in sched))
        if claimed is not None and claimed == sched.digest:
            value = objective_of(case.instance, sched)
        else:
            rep = validate(case.instance, sched)
            value = rep.objective
            if not rep.feasible:
                row.update(status="error", message=f"schedule rejected by the validator: {rep.message}")
        if row.get("status") != "error" and row.get("objective") != value:
            row.update(status="error", message=f"objective {row.get('objective')} != validated TEL {value}")
        row["cancelled_runs"] = sched.cancelled_runs
        row["schedule_hash"] = sched.digest
        runs = sched.runs_list()
    row["gap"] = gap(row.get("objective"), row.get("bound"))
    row["wall_time"] = wall
    return {"row": row, "schedule": runs, "versions": package_versions()}


@dataclass(frozen=True)
class PlannedTask:
    case: Case
    algorithm: Algorithm
    key: str


def plan(experiment: Experiment, quick: bool) -> list:
    """All (case, algorithm) pairs of the mode, in plan order."""
    limits = dict(experiment.quick_limits if quick and experiment.quick_limits is not None
                  else experiment.limits)
    out = []
    for spec in experiment.specs(quick):
        case = Case(spec, experiment.generate(spec), limits)
        for alg in experiment.algorithms:
            out.append(PlannedTask(case, alg, cache_key(case.instance.digest, alg, limits, experiment.version)))
    return out


def cache_path(experiment: Experiment, results_dir=None) -> Path:
    return Path(results_dir or paths.results_dir()) / "cache" / f"{experiment.name}.jsonl"


def output_dir(experiment: Experiment, quick: bool, results_dir=None) -> Path:
    out = Path(results_dir or paths.results_dir()) / experiment.name
    return out / "quick" if quick else out


@dataclass
class RunSummary:
    experiment: str
    quick: bool
    tasks: int          # distinct (instance, algorithm, params) results in the plan
    cached: int         # found in the cache at start
    computed: int       # computed and cached by this run
    errors: list        # messages of error rows (not cached)
    wall_time: float
    files: list = field(default_factory=list)

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["files"] = [str(f) for f in self.files]
        return d


def run_experiment(experiment: Experiment, quick: bool = False, executor=None,
                   results_dir=None, progress: bool = True, command: Optional[str] = None,
                   plots: bool = True, out_dir=None, say=None) -> RunSummary:
    """Run (or resume) ``experiment`` and write its outputs (PNGs only if ``plots``);
    returns what happened.

    The cache is ``cache/`` of ``results_dir``; the outputs go to ``out_dir`` (default
    :func:`output_dir` of ``results_dir``). ``say(text)``, if given, is told the task counts
    before the run and where the outputs went after it. ``executor`` defaults to running in
    this process. On Ctrl-C the finished results are already cached; the executor is closed
    and ``KeyboardInterrupt`` propagates."""
    t0 = time.perf_counter()
    code = paths.git_commit()  # the code that computes, recorded before anything can change it
    executor = executor or SerialExecutor()
    store = ResultStore(cache_path(experiment, results_dir))
    tasks = plan(experiment, quick)
    todo, seen = [], set()
    for t in tasks:
        if t.key not in store and t.key not in seen:
            seen.add(t.key)
            todo.append(t)
    distinct = len({t.key for t in tasks})
    cached = distinct - len(todo)
    if say:
        say(f"{experiment.name} ({'quick' if quick else 'full'} mode): {distinct} tasks, {cached} cached, "
            f"{len(todo)} to compute")
    failed: dict = {}
    aborted = False
    bar = tqdm(total=distinct, initial=cached, desc=experiment.name, unit="task", disable=not progress,
               file=sys.stderr, dynamic_ncols=True, mininterval=0.5)
    try:
        args = [(experiment.task, t.case, t.algorithm) for t in todo]
        for k, out in executor.unordered(execute, args):
            record = _record(experiment, todo[k], out)
            if record["row"].get("status") == "error":
                failed[record["key"]] = record
            else:
                store.append(record)
            bar.update(1)
    except KeyboardInterrupt:
        aborted = True
        bar.close()
        print(f"interrupted: {len(store)} results are cached in {store.path}; rerun to resume",
              file=sys.stderr)
        raise
    finally:
        executor.close(abort=aborted)
        bar.close()

    from .report import write_outputs  # pandas and matplotlib: needed here, not in workers

    rows = [flatten(store.get(t.key) or failed[t.key]) for t in tasks]
    summary = RunSummary(experiment.name, quick, distinct, cached, len(todo) - len(failed),
                         [r["row"].get("message", "") for r in failed.values()], 0.0)
    summary.wall_time = time.perf_counter() - t0
    outdir = Path(out_dir) if out_dir is not None else output_dir(experiment, quick, results_dir)
    summary.files = write_outputs(experiment, rows, outdir, _meta(experiment, quick, summary, command, code), plots)
    if say:
        say(f"{experiment.name}: {summary.computed} computed, {len(summary.errors)} errors in "
            f"{summary.wall_time:.1f} s; wrote {', '.join(Path(f).name for f in summary.files)} to {outdir}")
    return summary


def _record(experiment: Experiment, task: PlannedTask, out: dict) -> dict:
    spec = task.case.spec
    return {
        "key": task.key,
        "experiment": experiment.name,
        "version": experiment.version,
        "instance": {**spec.to_dict(), "hash": task.case.instance.digest, "M": task.case.instance.M},
        "algorithm": task.algorithm.name,
        "params": dict(task.algorithm.params),
        "limits": dict(task.case.limits),
        **out,
    }


def flatten(record: dict) -> dict:
    """One CSV row from a cache record."""
    inst = record["instance"]
    alg = Algorithm(record["algorithm"], record["params"])
    row = {
        "key": record["key"], "instance_hash": inst["hash"], "family": inst["family"], "n": inst["n"],
        "seed": inst["seed"], "instance_params": canonical(inst["params"]), "M": inst["M"],
        "algorithm": alg.name, "params": canonical(alg.params), "label": alg.label,
        "versions": canonical(record["versions"]),
    }
    for k, v in record["row"].items():
        row.setdefault("objective" if k == "incumbent" else k, v)  # caches written before the rename
    return row


def _meta(experiment: Experiment, quick: bool, summary: RunSummary, command: Optional[str],
          git_commit: Optional[str]) -> dict:
    return {
        "experiment": experiment.name,
        "description": experiment.description,
        "mode": "quick" if quick else "full",
        "command": command or f"kvsched experiment {experiment.name}" + (" --quick" if quick else ""),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "git_commit": git_commit,
        "versions": package_versions(),
        "limits": dict(experiment.quick_limits if quick and experiment.quick_limits is not None
                       else experiment.limits),
        "deterministic": bool((experiment.quick_limits if quick and experiment.quick_limits is not None
                               else experiment.limits).get("deterministic", False)),
        "tasks": summary.tasks, "cached": summary.cached, "computed": summary.computed,
        "errors": len(summary.errors), "wall_time": round(summary.wall_time, 3),
    }
