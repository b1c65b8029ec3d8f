"""``kvsched reproduce``: which experiments take part, timings kept across runs, and the CLI
end to end (a subprocess) writing README.md with the paper's numbers.

The end-to-end test pre-fills the cache of a temporary results folder with jaillet-synthetic
rows built by a cheap task (MC-SF against the closed-form bound, no exact solver) under the
quick plan's real cache keys, so the CLI run resumes from the cache and only renders."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest

from kvsched import heuristics
from kvsched.bounds import lower_bound
from kvsched.experiments import jaillet_synthetic as J
from kvsched.experiments import reproduce as R
from kvsched.experiments.runner import RunSummary, row_from_result, run_experiment
from kvsched.paths import REPO_ROOT


def cheap_task(case, algorithm):
    """The jaillet row shape with MC-SF as the best schedule and the closed-form bound."""
    res = heuristics.run("mcsf", case.instance, bound=float(lower_bound(case.instance)))
    row = row_from_result(res)
    row.update(model=case.spec.params["model"], requests=case.instance.n, mcsf=res.objective,
               verdict=J.verdict(res.objective, res.objective, res.bound),
               optimum="proven-optimal" if res.status == "optimal" else "gap-only",
               mcsf_over_best=1.0, mcsf_over_ceil_bound=res.objective / J.ceil_bound(res.bound),
               best_solver="mcsf", bound_solver="closed-form")
    return row


def test_paper_experiments_are_those_declaring_paper():
    mods = R.paper_experiments()
    assert "jaillet-synthetic" in mods
    assert "demo-baselines" not in mods  # no PAPER: not a reproduction
    assert all(hasattr(m, "PAPER") and hasattr(m, "EXPERIMENT") for m in mods.values())


def test_unknown_only_name_is_rejected(tmp_path):
    with pytest.raises(KeyError, match="not a paper experiment: nope"):
        R.reproduce(quick=True, only=["nope"], results_dir=tmp_path, progress=False)


def test_timings_keep_a_computed_run_over_a_fully_cached_one(tmp_path):
    def summary(computed, wall):
        return RunSummary("x", True, tasks=6, cached=6 - computed, computed=computed, errors=[], wall_time=wall)

    R.record_timing(tmp_path, "x", "full", summary(6, 3600.0), "cmd full", 2)
    R.record_timing(tmp_path, "x", "quick", summary(6, 120.0), "cmd quick", 2)
    R.record_timing(tmp_path, "x", "quick", summary(0, 0.5), "cmd quick", 2)  # all cached: ignored
    R.record_timing(tmp_path, "y", "quick", summary(0, 0.5), "cmd quick", 2)
    assert "y" not in R.load_timings(tmp_path)
    t = R.load_timings(tmp_path)["x"]
    assert t["full"]["wall_time"] == 3600.0 and t["quick"]["wall_time"] == 120.0
    R.record_timing(tmp_path, "x", "quick", summary(2, 40.0), "cmd quick", 1)
    t = R.load_timings(tmp_path)["x"]
    assert t["quick"]["wall_time"] == 40.0 and t["quick"]["computed"] == 2 and t["full"]["wall_time"] == 3600.0


def test_seed_ranges():
    assert R._ranges([0, 1, 2, 5, 7, 8]) == "0-2, 5, 7-8"
    assert R._ranges([1000]) == "1000"


def test_cli_reproduce_quick_only_jaillet_writes_readme(tmp_path):
    cheap = dataclasses.replace(J.EXPERIMENT, task=cheap_task)
    run_experiment(cheap, quick=True, results_dir=tmp_path, progress=False, plots=False)
    # a full-mode timing from an earlier run must survive the quick run
    (tmp_path / R.TIMINGS_FILE).write_text(json.dumps({"jaillet-synthetic": {"full": {
        "wall_time": 36000.0, "tasks": 400, "computed": 400, "cached": 0, "errors": 0, "jobs": 2,
        "command": "kvsched reproduce --only jaillet-synthetic", "date_utc": "2026-11-27T00:00:00Z"}}}))
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run([sys.executable, "-m", "kvsched", "reproduce", "--quick", "--only", "jaillet-synthetic",
                           "--results", str(tmp_path), "--no-progress", "--no-plots", "--json", "--update-reference"],
                          capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    payload = json.loads(proc.stdout.strip().splitlines()[-1])
    [exp] = payload["experiments"]
    assert exp["name"] == "jaillet-synthetic" and exp["ok"]
    assert exp["tasks"] == 6 and exp["cached"] == 6 and exp["computed"] == 0  # served from the cache
    assert payload["updated_reference"] and payload["run_dir"].startswith(str(tmp_path / "runs"))

    readme = (tmp_path / "README.md").read_text()
    assert "## jaillet-synthetic" in readme and "### Quick mode" in readme
    for number in ("1.005", "1.074", "114 of 200", "1.047", "1.227"):  # the paper's numbers
        assert number in readme
    assert "Gurobi" in readme  # the differences are explained
    assert "kvsched reproduce --quick --only jaillet-synthetic" in readme  # the command
    assert 'jaillet {"model":1}: 0-2' in readme and 'jaillet {"model":2}: 1000-1002' in readme  # seeds
    assert "ortools" in readme and "highspy" in readme  # versions
    assert "36000 s (400 of 400 tasks computed" in readme  # the earlier full-mode timing is kept
    # every cheap row: MC-SF is the best known (ratio 1) and the closed-form bound is far below
    assert "| mean ratio | 1.005 | 1.000 |" in readme
    # the final table is printed (on stderr with --json)
    assert "## Summary" in proc.stderr and "jaillet-synthetic" in proc.stderr


def test_timing_falls_back_to_a_run_made_outside_reproduce(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps({"wall_time": 12.5, "tasks": 4, "computed": 3, "cached": 1,
                                                   "command": "kvsched experiment x --quick",
                                                   "date_utc": "2026-11-28T07:00:00Z"}))
    t = R.timing_from_run(tmp_path)
    assert R._timing(t) == "12 s (3 of 4 tasks computed, 2026-11-28, `kvsched experiment x --quick`)"
    (tmp_path / "run.json").write_text(json.dumps({"wall_time": 0.1, "tasks": 4, "computed": 0}))
    assert R.timing_from_run(tmp_path) is None and R._timing(None) == "no timed run"
