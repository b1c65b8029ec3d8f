"""The experiment runner: resume after kill -9 / Ctrl-C, corrupted cache lines, executors that
agree (serial, processes, Dask LocalCluster), re-validation of stored schedules, the CLI."""

import csv
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import last_json

from kvsched import experiments
from kvsched.experiments.cache import CacheWarning, ResultStore
from kvsched.experiments.cli import cli
from kvsched.experiments.demo_baselines import task as demo_task
from kvsched.experiments.executors import DaskExecutor, ProcessExecutor, SerialExecutor, make_executor
from kvsched.experiments.runner import cache_path, output_dir, run_experiment
from kvsched.experiments.spec import Algorithm, Experiment, Grid, InstanceSpec
from kvsched.schedule import Schedule
from kvsched.validator import validate

TESTS_DIR = Path(__file__).resolve().parent
REPO = TESTS_DIR.parent
ALGS = (Algorithm("fcfs"), Algorithm("mcsf"))
QUIET = {"progress": False, "plots": False}


def sleepy_task(case, algorithm):
    """The demo task, slowed down, logging every execution to $KVSCHED_TEST_MARKER."""
    with open(os.environ["KVSCHED_TEST_MARKER"], "a") as f:
        f.write(f"{case.spec.seed} {algorithm.label}\n")
    time.sleep(case.limits["sleep"])
    return demo_task(case, algorithm)


SLEEPY = Experiment(name="test-sleepy", description="demo task with a sleep", task=sleepy_task,
                    algorithms=ALGS, grids=(Grid("random", (8,), tuple(range(5))),),
                    quick_grids=(), limits={"sleep": 0.25})

SMALL = Experiment(name="test-small", description="demo task on small instances", task=demo_task,
                   algorithms=ALGS + (Algorithm("mcsf", {"backfill": True}),),
                   grids=(Grid("random", (6, 12), (0, 1, 2)),), quick_grids=(Grid("random", (6,), (0,)),))


def run_sleepy(results_dir, jobs=1):
    """Entry point of the subprocess that gets killed."""
    run_experiment(SLEEPY, results_dir=results_dir, executor=make_executor("local", jobs), **QUIET)


def read_csv(path, drop=("wall_time",)):
    rows = list(csv.DictReader(io.StringIO(Path(path).read_text())))
    return [{k: v for k, v in r.items() if k not in drop} for r in rows]


def csv_path(exp, results_dir, quick=False):
    return output_dir(exp, quick, results_dir) / "results.csv"


def start_sleepy(results_dir, marker, jobs=1):
    code = f"import sys; sys.path[:0] = [{str(TESTS_DIR)!r}, {str(REPO)!r}]; import test_runner; " \
           f"test_runner.run_sleepy({str(results_dir)!r}, {jobs})"
    env = {**os.environ, "KVSCHED_TEST_MARKER": str(marker)}
    return subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)


def wait_for_records(path, k, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= k:
            return
        assert proc.poll() is None, f"sweep ended early: {proc.stderr.read()}"
        time.sleep(0.02)
    raise AssertionError("sweep made no progress")


def marker_lines(marker):
    return Path(marker).read_text().splitlines() if Path(marker).exists() else []


def test_resume_after_kill9_recomputes_nothing_and_matches_uninterrupted_run(tmp_path, monkeypatch):
    interrupted, marker = tmp_path / "interrupted", tmp_path / "marker"
    proc = start_sleepy(interrupted, marker)
    wait_for_records(cache_path(SLEEPY, interrupted), 3, proc)
    proc.kill()  # SIGKILL: no cleanup at all
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # whole records only: fsync'd single writes
        done_before = {(r["instance"]["seed"], r["algorithm"]) for r in
                       ResultStore(cache_path(SLEEPY, interrupted)).records.values()}
    assert 3 <= len(done_before) < 10
    runs_before = len(marker_lines(marker))

    monkeypatch.setenv("KVSCHED_TEST_MARKER", str(marker))
    summary = run_experiment(SLEEPY, results_dir=interrupted, **QUIET)
    assert (summary.tasks, summary.cached, summary.computed) == (10, len(done_before), 10 - len(done_before))
    executions = [tuple(line.split()) for line in marker_lines(marker)]
    assert len(executions) == runs_before + 10 - len(done_before)
    for seed, alg in done_before:  # finished before the kill: executed exactly once, never again
        assert executions.count((str(seed), alg)) == 1

    fresh = tmp_path / "fresh"
    monkeypatch.setenv("KVSCHED_TEST_MARKER", str(tmp_path / "marker2"))
    assert run_experiment(SLEEPY, results_dir=fresh, **QUIET).computed == 10
    resumed_rows = read_csv(csv_path(SLEEPY, interrupted))
    assert len(resumed_rows) == 10
    assert resumed_rows == read_csv(csv_path(SLEEPY, fresh))
    assert [(r["seed"], r["algorithm"]) for r in resumed_rows] == \
        [(str(s), a) for s in range(5) for a in ("fcfs", "mcsf")]  # plan order


def children(pid):
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def alive(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_process_pool_workers_exit_when_the_sweep_is_killed(tmp_path):
    proc = start_sleepy(tmp_path, tmp_path / "marker", jobs=2)
    wait_for_records(cache_path(SLEEPY, tmp_path), 1, proc)
    workers = children(proc.pid)
    assert len(workers) >= 2
    proc.kill()
    proc.wait(timeout=30)
    deadline = time.monotonic() + 20
    while any(map(alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    orphans = [w for w in workers if alive(w)]
    for w in orphans:  # clean up before failing
        os.kill(w, signal.SIGKILL)
    assert not orphans, "pool workers outlived the killed sweep"


def test_ctrl_c_keeps_finished_results(tmp_path):
    marker = tmp_path / "marker"
    proc = start_sleepy(tmp_path, marker)
    wait_for_records(cache_path(SLEEPY, tmp_path), 2, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode != 0
    assert "interrupted:" in err and "rerun to resume" in err
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        store = ResultStore(cache_path(SLEEPY, tmp_path))
    assert 2 <= len(store) < 10


def test_rerun_from_full_cache_writes_identical_csv_bytes(tmp_path):
    first = run_experiment(SMALL, results_dir=tmp_path, **QUIET)
    text = csv_path(SMALL, tmp_path).read_text()
    again = run_experiment(SMALL, results_dir=tmp_path, **QUIET)
    assert (first.computed, again.cached, again.computed) == (18, 18, 0)
    assert csv_path(SMALL, tmp_path).read_text() == text
    assert len(read_csv(csv_path(SMALL, tmp_path))) == 18


def test_truncated_and_corrupted_cache_lines_are_ignored_with_a_warning(tmp_path):
    run_experiment(SMALL, results_dir=tmp_path, **QUIET)
    before = read_csv(csv_path(SMALL, tmp_path))
    path = cache_path(SMALL, tmp_path)
    lines = path.read_bytes().splitlines(keepends=True)
    assert len(lines) == 18
    # a garbage line in the middle, and the last record cut mid-write (no newline)
    path.write_bytes(b"".join(lines[:5]) + b"{not json\n" + b"".join(lines[5:-1]) + lines[-1][:40])
    with pytest.warns(CacheWarning) as caught:
        store = ResultStore(path)
    messages = [str(w.message) for w in caught]
    assert any("corrupted line 6" in m for m in messages)
    assert any("truncated last line 19" in m for m in messages)
    assert len(store) == 17

    with pytest.warns(CacheWarning):
        summary = run_experiment(SMALL, results_dir=tmp_path, **QUIET)
    assert (summary.cached, summary.computed) == (17, 1)
    assert read_csv(csv_path(SMALL, tmp_path)) == before
    # the cut tail was dropped before appending: the new record sits on a line of its own
    assert path.read_bytes().endswith(b"}\n")
    with pytest.warns(CacheWarning) as caught:  # only the garbage line in the middle is left
        assert len(ResultStore(path)) == 18
    assert len(caught) == 1 and "corrupted line 6" in str(caught[0].message)


@pytest.mark.parametrize("kind", ["processes", "dask"])
def test_parallel_executors_give_the_same_rows_as_serial(tmp_path, kind):
    run_experiment(SMALL, results_dir=tmp_path / "serial", executor=SerialExecutor(), **QUIET)
    if kind == "processes":
        executor = ProcessExecutor(2)
        summary = run_experiment(SMALL, results_dir=tmp_path / kind, executor=executor, **QUIET)
    else:
        distributed = pytest.importorskip("distributed")
        with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp",
                                      host="127.0.0.1", dashboard_address=None) as cluster:
            assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
            executor = make_executor("dask", scheduler=cluster.scheduler_address)
            assert isinstance(executor, DaskExecutor)
            summary = run_experiment(SMALL, results_dir=tmp_path / kind, executor=executor, **QUIET)
    assert (summary.computed, summary.errors) == (18, [])
    assert read_csv(csv_path(SMALL, tmp_path / kind)) == read_csv(csv_path(SMALL, tmp_path / "serial"))


def test_csv_schedule_hashes_match_revalidated_stored_schedules(tmp_path):
    run_experiment(SMALL, results_dir=tmp_path, **QUIET)
    rows = read_csv(csv_path(SMALL, tmp_path), drop=())
    store = ResultStore(cache_path(SMALL, tmp_path))
    for row in random.Random(0).sample(rows, 5):
        rec = store.get(row["key"])
        inst = SMALL.generate(InstanceSpec.from_dict(rec["instance"]))
        assert inst.digest == row["instance_hash"]
        sched = Schedule(tuple(tuple(tuple(r) for r in rs) for rs in rec["schedule"]))
        rep = validate(inst, sched)
        assert rep.feasible
        assert sched.digest == row["schedule_hash"]
        assert str(rep.objective) == row["objective"]
        assert int(row["bound"]) <= rep.objective


def lying_task(case, algorithm):
    """Claims an overflowing schedule, raises, or reports an incumbent off by one."""
    if algorithm.name == "raise":
        raise ValueError("boom")
    if algorithm.name == "off-by-one":
        sched = Schedule.from_starts(case.instance, [sum(case.instance.outputs[:i]) for i in range(case.instance.n)])
        return {"status": "feasible", "objective": validate(case.instance, sched).objective - 1, "schedule": sched}
    sched = Schedule.from_starts(case.instance, [0] * case.instance.n)
    return {"status": "feasible", "objective": sum(case.instance.outputs), "schedule": sched}


def test_invalid_schedules_and_exceptions_become_uncached_error_rows(tmp_path):
    bad = Experiment(name="test-bad", description="", task=lying_task,
                     algorithms=(Algorithm("overflow"), Algorithm("raise"), Algorithm("off-by-one")),
                     grids=(Grid("random", (20,), (0,)),), quick_grids=())
    summary = run_experiment(bad, results_dir=tmp_path, **QUIET)
    assert summary.computed == 0 and len(summary.errors) == 3
    rows = read_csv(csv_path(bad, tmp_path))
    assert [r["status"] for r in rows] == ["error", "error", "error"]
    assert rows[0]["message"].startswith("schedule rejected by the validator: memory violation: round 1")
    assert rows[1]["message"] == "ValueError: boom"
    tel = int(rows[2]["objective"]) + 1  # one request at a time: a feasible schedule, misreported
    assert rows[2]["message"] == f"objective {tel - 1} != validated TEL {tel}"
    assert not cache_path(bad, tmp_path).exists()


def test_registry_and_demo_spec():
    demo = experiments.get("demo-baselines")
    assert demo.name == "demo-baselines"
    assert len(demo.specs(quick=True)) == 9 and len(demo.specs(quick=False)) == 60
    with pytest.raises(KeyError, match="unknown experiment 'nope'"):
        experiments.get("nope")


def test_cli_quick_demo(tmp_path):
    from helpers import run_cli

    res = run_cli("experiment", "demo-baselines", "--quick", "--results", tmp_path, "--no-progress", "--json")
    assert res.returncode == 0, res.stderr
    out = last_json(res.stdout)
    assert (out["tasks"], out["computed"], out["errors"]) == (27, 27, [])
    outdir = Path(out["out_dir"])  # a run folder of its own: results/runs/<UTC timestamp>/NAME/quick
    assert outdir.parent.name == "demo-baselines" and outdir.parents[2] == tmp_path / "runs"
    assert not (tmp_path / "demo-baselines").exists()  # the reference folder is untouched
    rows = read_csv(outdir / "results.csv")
    assert len(rows) == 27 and {r["status"] for r in rows} <= {"feasible", "optimal"}
    for r in rows:  # the closed-form bound never exceeds a validated schedule
        assert int(r["bound"]) <= int(r["objective"])
    assert (outdir / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (outdir / "summary.md").read_text()
    assert "kvsched experiment demo-baselines --quick" in md and "| random | 50 | mcsf | 3 |" in md
    assert json.loads((outdir / "run.json").read_text())["tasks"] == 27

    res = CliRunner().invoke(cli, ["experiment", "demo-baselines", "--executor", "dask"])
    assert res.exit_code == 2 and "--executor dask needs --scheduler ADDRESS" in res.output
