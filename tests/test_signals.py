"""Children die with their parent (SIGINT, SIGTERM, SIGKILL); an interrupted certify reports
and writes what it had; outputs are checked before solving; no leaked semaphores."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import run_cli

from kvsched.generators import random_family
from kvsched.io import write_instance


def descendants(pid: int) -> set:
    """Every live process below ``pid`` (from /proc)."""
    children: dict = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                children.setdefault(int(fields[1]), []).append(int(d.name))
    out, todo = set(), [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.add(c)
            todo.append(c)
    return out


def at_least(pid: int, k: int):
    """The descendants of ``pid`` once there are ``k`` of them, else None."""
    found = descendants(pid)
    return found if len(found) >= k else None


def alive(pids: set) -> set:
    left = set()
    for p in pids:
        try:
            state = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            left.add(p)
    return left


def wait_for(cond, timeout: float):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        time.sleep(0.1)
    return cond()


@pytest.fixture(scope="module")
def hard_instance(tmp_path_factory):
    path = tmp_path_factory.mktemp("sig") / "r40.json"
    write_instance(random_family(n=40, seed=3), path)
    return path


def start(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "kvsched", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_certify_stops_on_signal_reports_writes_and_leaves_no_child(tmp_path, hard_instance, sig):
    out = tmp_path / "c.json"
    proc = start("certify", hard_instance, "--time-limit", "120", "--out", out, "--json")
    # both exact solvers run in their children (the heuristics come first)
    kids = wait_for(lambda: at_least(proc.pid, 2), 60)
    assert kids, "the solver children never started"
    time.sleep(1.0)
    t0 = time.monotonic()
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=30)
    stopped = time.monotonic() - t0
    assert proc.returncode == 130, stderr
    assert stopped < 10 and "Traceback" not in stderr
    assert wait_for(lambda: not alive(kids), 5)
    cert = json.loads(out.read_text())
    assert cert["termination"] == "interrupted" and cert["objective"] is not None and cert["bound"] is not None
    by = {r["solver"]: r for r in cert["records"]}
    assert by["cpsat"]["termination"] == "interrupted" and by["milp"]["termination"] == "interrupted"
    assert "cpsat" in cert["message"] and "milp" in cert["message"]
    assert json.loads(stdout.strip().splitlines()[-1])["objective"] == cert["objective"]


def test_sigkill_of_certify_kills_its_children(hard_instance):
    proc = start("certify", hard_instance, "--time-limit", "120")
    kids = wait_for(lambda: at_least(proc.pid, 2), 60)
    assert kids
    proc.kill()
    proc.wait(10)
    assert wait_for(lambda: not alive(kids), 10)


def test_sigkill_of_an_experiment_with_two_jobs_kills_workers_and_their_solvers(tmp_path):
    proc = start("--results", tmp_path, "experiment", "jaillet-synthetic", "--quick", "--jobs", "2", "--no-progress")
    # two pool workers, each with a hard-limited solver child
    kids = wait_for(lambda: at_least(proc.pid, 4), 90)
    assert kids, f"expected workers and solver children, saw {descendants(proc.pid)}"
    proc.kill()
    proc.wait(10)
    assert wait_for(lambda: not alive(kids), 10)


def test_outputs_are_checked_before_solving(tmp_path, hard_instance):
    for args, option in [(("certify", hard_instance, "--out", "/no/such/dir/c.json"), "--out"),
                         (("certify", hard_instance, "--plot", "/no/such/dir/c.png"), "--plot"),
                         (("run", "mcsf", hard_instance, "--plot", "/no/such/dir/c.png"), "--plot")]:
        t0 = time.monotonic()
        res = run_cli(*args, "--time-limit", "60") if args[0] == "certify" else run_cli(*args)
        assert res.returncode == 2 and f"option '{option}'" in res.stderr and "Traceback" not in res.stderr
        assert time.monotonic() - t0 < 20  # refused before the 60 s solve
    blocker = tmp_path / "file"
    blocker.write_text("")
    res = run_cli("adversarial", "search", "fcfs", "--iterations", "1", "--out-dir", blocker / "worst")
    assert res.returncode == 2 and "option '--out-dir'" in res.stderr


@pytest.mark.parametrize("method", ["milp", "lp"])
def test_hard_limited_highs_solves_leak_no_semaphore(hard_instance, method):
    res = run_cli("solve", hard_instance, "--solver", method, "--time-limit", "2")
    assert res.returncode == 0, res.stderr
    assert "leaked semaphore" not in res.stderr


SCRIPT_WITHOUT_GUARD = """
from kvsched import Instance, models

inst = Instance(6, (2, 2, 2, 2), (1, 1, 2, 3))
res = models.solve("cpsat", inst, hard_limit=True, time_limit=5)
print("RESULT", res.status, res.objective, res.message)
"""


def test_hard_limited_solve_from_a_script_without_main_guard(tmp_path):
    script = tmp_path / "first_script.py"
    script.write_text(SCRIPT_WITHOUT_GUARD)
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path)
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("RESULT")]
    assert res.returncode == 0 and len(lines) == 1, res.stdout + res.stderr  # the script ran once
    assert lines[0].split()[1:3] == ["optimal", "11"]


def test_children_die_with_parent_in_process(tmp_path):
    """``die_with_parent`` in a grandchild: killing its parent with SIGKILL ends it."""
    code = ("import os, subprocess, sys, time\n"
            "p = subprocess.Popen([sys.executable, '-c', 'from kvsched.hardlimit import die_with_parent;"
            " die_with_parent(); import time; time.sleep(60)'])\n"
            "print(p.pid, flush=True); time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    time.sleep(1.0)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait(10)
    assert wait_for(lambda: not alive({child}), 5)
