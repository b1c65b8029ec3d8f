"""The main job never rewrites the reference tables: ``kvsched reproduce --quick`` run from a
clean checkout leaves ``git status`` clean, writes into ``results/runs/<UTC timestamp>/`` and
compares itself with the committed tables; ``--update-reference`` is the one way they change.

The checkout is a temporary git repository holding the repository's ``.gitignore`` and the
committed cr-small quick-mode tables (the smallest paper experiment, about 30 s)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from kvsched.experiments import reference as REF
from kvsched.experiments.cr_small import EXPERIMENT as CR_SMALL
from kvsched.paths import REPO_ROOT

QUICK = Path("results") / "cr-small" / "quick"


def git(repo: Path, *args) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


def kvsched(cwd: Path, *args, timeout=300):
    env = {k: v for k, v in os.environ.items() if k != "KVSCHED_RESULTS"}
    return subprocess.run([sys.executable, "-m", "kvsched", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """A clean checkout with the committed cr-small reference, after one main-job run."""
    repo = tmp_path_factory.mktemp("checkout")
    shutil.copyfile(REPO_ROOT / ".gitignore", repo / ".gitignore")
    shutil.copytree(REPO_ROOT / QUICK, repo / QUICK)
    for name in ("README.md", "timings.json"):
        shutil.copyfile(REPO_ROOT / "results" / name, repo / "results" / name)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "reference")
    proc = kvsched(repo, "reproduce", "--quick", "--only", "cr-small", "--no-plots", "--no-progress", "--json")
    return repo, proc


def test_main_job_leaves_the_checkout_clean(checkout):
    repo, proc = checkout
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""  # nothing changed, nothing new
    payload = json.loads(proc.stdout.strip().splitlines()[-1])
    run = Path(payload["run_dir"])
    assert run.parent == repo / "results" / "runs" and not payload["updated_reference"]
    assert (run / QUICK.relative_to("results") / "results.csv").exists() and (run / "README.md").exists()
    [exp] = payload["experiments"]
    assert exp["computed"] == exp["tasks"] == 200  # a fresh checkout has no cache
    ref = exp["reference"]
    assert ref["has_reference"] and ref["compared"] > 100 and ref["tolerance"] == REF.TOLERANCE
    # the console says what it does: experiment, task counts, where the outputs went
    assert "cr-small (quick mode): 200 tasks, 0 cached, 200 to compute" in proc.stderr
    assert f"this run's tables, README.md and reference.md: {run}" in proc.stderr
    assert "against the reference" in proc.stderr and "Sorted-F" in proc.stderr  # reference and paper


def test_an_altered_reference_is_flagged(checkout):
    repo, first = checkout
    csv = repo / QUICK / "results.csv"
    df = pd.read_csv(csv)
    row = df.index[(df["algorithm"] == "fcfs") & (df["denominator"] == "proven-optimum")][0]
    df.loc[row, "ratio"] = df.loc[row, "ratio"] * 1.5
    df.to_csv(csv, index=False)
    meta = json.loads((repo / QUICK / "run.json").read_text())
    meta["limits"] = {**meta["limits"], "time_limit": 999}
    (repo / QUICK / "run.json").write_text(json.dumps(meta))
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "altered reference")

    proc = kvsched(repo, "reproduce", "--quick", "--only", "cr-small", "--no-plots", "--no-progress", "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    [exp] = json.loads(proc.stdout.strip().splitlines()[-1])["experiments"]
    assert exp["cached"] == exp["tasks"]  # the second run comes from the cache
    ref = exp["reference"]
    flagged = {(d["row"], d["column"]) for d in ref["differences"]}
    assert ("fcfs proven-optimum all 0 n = 5-8", "ratio mean") in flagged
    assert all(d["row"].startswith("fcfs proven-optimum all 0") for d in ref["differences"])
    assert any(s.startswith("solver limits:") and "999" in s for s in ref["inputs"])
    assert "DIFFERS" in proc.stderr and "ratio mean" in proc.stderr
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""

    # the explicit act: the run's tables replace the reference, and only then does git see a change
    proc = kvsched(repo, "reproduce", "--quick", "--only", "cr-small", "--no-plots", "--no-progress",
                   "--update-reference")
    assert proc.returncode == 0, proc.stderr[-2000:]
    changed = set(git(repo, "status", "--porcelain").split())
    assert {"results/cr-small/quick/results.csv", "results/cr-small/quick/run.json"} <= changed
    fixed = pd.read_csv(csv)
    assert fixed.loc[row, "ratio"] == pytest.approx(df.loc[row, "ratio"] / 1.5)


def test_comparison_by_hand(tmp_path):
    """Tolerance, empty cells, timing columns and changed instances, on two tiny tables."""
    base = pd.read_csv(REPO_ROOT / QUICK / "results.csv")
    run, ref = tmp_path / "run", tmp_path / "ref"
    for d in (run, ref):
        d.mkdir()
    shutil.copyfile(REPO_ROOT / QUICK / "run.json", run / "run.json")
    shutil.copyfile(REPO_ROOT / QUICK / "run.json", ref / "run.json")
    base.to_csv(ref / "results.csv", index=False)
    moved = base.copy()
    moved["wall_time"] = moved["wall_time"] * 10  # timings are never compared
    first = moved.index[0]
    moved.loc[first, "instance_hash"] = "0" * 64  # one generated instance differs
    moved.to_csv(run / "results.csv", index=False)
    cmp = REF.compare_to_reference("cr-small", CR_SMALL, run, ref)
    assert cmp.differences == [] and not cmp.shape and cmp.compared > 100
    planned = len(base.drop_duplicates(REF.INSTANCE_ID))
    assert cmp.inputs == [f"instances: 1 of {planned} generated instances differ"]
    assert "all" in REF.render(cmp) and "within 0.001 relative" in REF.render(cmp)

    tiny = moved.copy()  # a 0.05 % change: inside the default tolerance, outside 1e-4
    tiny.loc[tiny["ratio"] > 1, "ratio"] *= 1.0005  # ALG = OPT counts stay
    tiny.to_csv(run / "results.csv", index=False)
    assert REF.compare_to_reference("cr-small", CR_SMALL, run, ref).differences == []
    strict = REF.compare_to_reference("cr-small", CR_SMALL, run, ref, tolerance=1e-4)
    assert {d.column for d in strict.differences} == {"ratio mean", "ratio worst"}
    assert all(1e-4 < d.relative <= 0.0005 * (1 + 1e-6) for d in strict.differences)
    assert all(d.relative == pytest.approx(0.0005 / 1.0005) for d in strict.differences if d.column == "ratio worst")

    assert not REF.compare_to_reference("cr-small", CR_SMALL, run, tmp_path / "none").has_reference


def test_trace_against_generator_is_named(tmp_path):
    """A run without the shared traces generates other conversation instances: the numbers
    that move are flagged and the comparison names both workload sources."""
    from kvsched.experiments.wang_workloads import EXPERIMENT as WANG

    quick = REPO_ROOT / "results" / "wang-workloads" / "quick"
    ref = pd.read_csv(quick / "results.csv")
    run = ref.copy()
    conv = (run["family"] == "conversation") & (run["n"] == 200)
    run.loc[conv, "instance_hash"] = "f" * 64
    run.loc[conv, "workload_source"] = "LMSYS-like generator"
    run.loc[conv, "objective"] = run.loc[conv, "objective"] * 2
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    run.to_csv(run_dir / "results.csv", index=False)
    shutil.copyfile(quick / "run.json", run_dir / "run.json")
    cmp = REF.compare_to_reference("wang-workloads", WANG, run_dir, quick)
    assert {d.row.split()[0] for d in cmp.differences} == {"conversation"}
    assert {d.column for d in cmp.differences} >= {"mean TCT", "mean TCT/bound", "worst TCT/bound"}
    [text] = [s for s in cmp.inputs if s.startswith("instances:")]
    src = sorted(set(ref.loc[conv, "workload_source"]))
    assert text == (f"instances: 1 of {len(ref.drop_duplicates(REF.INSTANCE_ID))} generated instances differ "
                    f"(workload source: LMSYS-like generator in this run, {'; '.join(src)} in the reference)")
    assert "DIFFERS" in REF.render(cmp)
