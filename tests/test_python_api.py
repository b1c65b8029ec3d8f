"""The README's Python quick start, run as written (a script in a subprocess), and the lazy
top-level API: ``import kvsched`` loads no higher layer (see also tests/test_layers.py)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

import kvsched
from kvsched import Instance, InstanceError, Request
from kvsched.paths import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text()


def readme_example() -> str:
    section = README.split("\n## Python\n", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def run_script(tmp_path, code: str):
    script = tmp_path / "quick_start.py"
    script.write_text(code)
    env = {k: v for k, v in os.environ.items() if k != "KVSCHED_RESULTS"}
    return subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=240)


@pytest.fixture(scope="module")
def quick_start(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("quick_start")
    return tmp, run_script(tmp, readme_example())


def test_readme_example_runs_as_written(quick_start):
    tmp, proc = quick_start
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()[-3:]  # the script's own three lines
    assert lines == ["30 0.3 optimal 30 30.0", "optimal 30 30.0 mcsf [0, 6, 1, 3]", "True 30 14 12"]
    for line in lines:  # the README states what it prints
        assert f"`{line}`" in README
    assert (tmp / "schedule.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_readme_instance_optimum_agrees_across_solvers():
    """The quick start's optimum 30, independently: the exhaustive oracle and the MILP."""
    inst = Instance.from_requests(12, [Request(3, 5), Request(2, 8), Request(4, 2, arrival=1), Request(1, 6)])
    brute = kvsched.solve("brute", inst, time_limit=30)
    milp = kvsched.solve("milp", inst, time_limit=30, threads=1)
    assert (brute.status, brute.objective) == ("optimal", 30) and (milp.status, milp.objective) == ("optimal", 30)
    assert kvsched.run("fcfs", inst).objective >= 30


def test_readme_example_prints_each_line_once(quick_start):
    _, proc = quick_start
    assert len(proc.stdout.strip().splitlines()) == 3


def test_request_needs_no_index():
    r = Request(prompt=3, output=5)
    assert (r.prompt, r.output, r.arrival, r.lower, r.upper, r.index) == (3, 5, 0, None, None, None)
    inst = Instance.from_requests(8, [r, {"prompt": 2, "output": 1, "arrival": 4}, Request(1, 2, lower=1, upper=4)])
    assert inst.prompts == (3, 2, 1) and inst.arrivals == (0, 4, 0) and inst.uppers == (None, None, 4)
    assert inst.request(2) == Request(1, 2, 0, 1, 4, index=2)
    with pytest.raises(InstanceError, match=r"request 1: field 'output' must be >= 1, got 0"):
        Instance.from_requests(8, [r, Request(prompt=2, output=0)])


def test_top_level_api_is_lazy():
    code = ("import json, sys, kvsched\n"
            "before = sorted(m for m in sys.modules if m.startswith(('kvsched.heuristics', 'kvsched.models', "
            "'kvsched.experiments', 'kvsched.plot', 'matplotlib', 'pyomo', 'ortools')))\n"
            "names = {n: getattr(kvsched, n).__module__ for n in "
            "('run', 'simulate', 'solve', 'certify', 'generate', 'lower_bound', 'plot_schedule')}\n"
            "print(json.dumps({'before': before, 'names': names, 'dir': 'certify' in dir(kvsched)}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["before"] == [] and got["dir"]
    assert got["names"] == {"run": "kvsched.heuristics", "simulate": "kvsched.heuristics.online",
                            "solve": "kvsched.models", "certify": "kvsched.models.certify",
                            "generate": "kvsched.generators", "lower_bound": "kvsched.bounds",
                            "plot_schedule": "kvsched.plot"}
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        kvsched.nope  # noqa: B018
