"""The CLI contract of run / solve / certify / validate: --json fields and bad input."""


import pytest
from helpers import last_json, run_cli

WORKED = {"M": 6, "requests": [{"prompt": 2, "output": o} for o in (1, 1, 2, 3)]}
CONTRACT = {"objective", "bound", "status", "gap", "starts", "runs", "wall_time"}


def test_run_mcsf_json(write_json):
    out = run_cli("run", "mcsf", write_json(WORKED), "--json")
    assert out.returncode == 0, out.stderr
    data = last_json(out.stdout)
    assert CONTRACT <= set(data)
    assert data["objective"] == 11 and data["starts"] == [0, 0, 1, 3]
    assert data["runs"] == [[[0, 1]], [[0, 1]], [[1, 3]], [[3, 6]]]
    assert data["status"] == "feasible" and data["bound"] <= 11


BAD = [
    ({"M": 6, "requests": [{"prompt": 0, "output": 1}]}, "request 0: field 'prompt' must be >= 1, got 0"),
    ({"M": 6, "requests": [{"prompt": 2, "output": 1}, {"prompt": 5, "output": 3}]},
     "request 1: field 'prompt'+'output' = 5 + 3 = 8 exceeds M = 6"),
    ({"M": 6, "requests": [{"prompt": 2, "output": 1.5}]}, "request 0: field 'output' must be an integer"),
    ({"M": 6, "requests": [{"prompt": 2, "output": 2, "lower": 3, "upper": 2}]},
     "request 0: field 'lower' = 3 exceeds field 'upper' = 2"),
    ({"requests": []}, "field 'M' is missing"),
]


@pytest.mark.parametrize("command", [
    ["run", "mcsf"], ["run", "fcfs"], ["solve", "--solver", "cpsat"], ["certify"],
])
@pytest.mark.parametrize("bad, message", BAD)
def test_bad_input_one_line_no_traceback(write_json, command, bad, message):
    out = run_cli(*command, write_json(bad))
    assert out.returncode != 0
    assert "Traceback" not in out.stderr and "Traceback" not in out.stdout
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and message in lines[0]


def test_validate_command(write_json):
    inst = write_json({"M": 10, "requests": [{"prompt": 7, "output": 3}, {"prompt": 1, "output": 4}]}, "i.json")
    bad = run_cli("validate", inst, write_json({"starts": [0, 1]}, "s.json"), "--json")
    assert bad.returncode == 1
    data = last_json(bad.stdout)
    assert data["feasible"] is False and data["violation"] == {"round": 2, "memory": 11, "requests": [0, 1]}
    good = run_cli("validate", inst, write_json({"starts": [0, 3]}, "s2.json"), "--json")
    assert good.returncode == 0 and last_json(good.stdout)["objective"] == 3 + 7
    cancelled = run_cli("validate", inst, write_json({"runs": [[[0, 1], [2, 5]], [[5, 9]]]}, "s3.json"), "--json")
    assert cancelled.returncode == 0 and last_json(cancelled.stdout)["cancelled_runs"] == 1
    short = run_cli("validate", inst, write_json({"starts": [0]}, "s4.json"))
    assert short.returncode == 2 and "field 'starts': 1 values for 2 requests" in short.stderr
    assert "Traceback" not in short.stderr
    for bad, message in [({"runs": [[0, 1], [0, 1]]}, "request 0: run 0 must be [start, last round], got 0"),
                         ({"runs": None}, "field 'starts' or 'runs'"),
                         ({"starts": [0, "1"]}, "request 1: field 'starts' must be an integer, got '1'")]:
        out = run_cli("validate", inst, write_json(bad, "bad.json"))
        assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr
    assert CONTRACT <= set(last_json(good.stdout))


def test_missing_file_is_one_line():
    out = run_cli("run", "mcsf", "/nonexistent/x.json")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "cannot read instance file /nonexistent/x.json" in out.stderr


def test_cli_run_sorted_f_selector_options(write_json):
    # the talk's two-batch example: M = 24, one request (22, 2) and six requests (1, 3);
    # Sorted-F gives TCT 23 with every selector (hand-computed in tests/test_sorted_f.py)
    path = write_json({"M": 24, "requests": [{"prompt": 22, "output": 2}] + [{"prompt": 1, "output": 3}] * 6})
    for sel in ("dp", "scaled-dp", "swap", "quantile"):
        cp = run_cli("run", "sorted-f", path, "--selector", sel, "--epsilon", "0.5", "--pool", "3", "--json")
        assert cp.returncode == 0, cp.stderr
        out = last_json(cp.stdout)
        assert out["objective"] == 23 and out["params"] == {"selector": sel, "epsilon": 0.5, "pool": 3}
    cp = run_cli("run", "sorted-f", path, "--epsilon", "0")
    assert cp.returncode == 2 and "Traceback" not in cp.stderr
    assert run_cli("run", "mcsf", path, "--selector", "dp").returncode == 2
