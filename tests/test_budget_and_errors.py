"""certify's --time-limit is the whole command's budget; --deterministic reproduces a
certificate; bad input never gives a traceback and gives one exit code everywhere."""

import json

import pytest
from helpers import last_json, run_cli

from kvsched import Instance
from kvsched.generators import random_family
from kvsched.io import read_schedule, write_instance
from kvsched.schedule import ScheduleError

VOLATILE = ("created", "wall_time")


def strip_times(obj):
    """The certificate without timestamps and measured times."""
    if isinstance(obj, dict):
        return {k: strip_times(v) for k, v in obj.items() if k not in VOLATILE}
    if isinstance(obj, list):
        return [strip_times(v) for v in obj]
    return obj


@pytest.fixture(scope="module")
def r30(tmp_path_factory):
    path = tmp_path_factory.mktemp("budget") / "r30.json"
    write_instance(random_family(n=30, seed=0), path)
    return path


def test_time_limit_is_the_whole_commands_budget(r30, tmp_path):
    out = tmp_path / "c.json"
    res = run_cli("certify", r30, "--time-limit", "5", "--out", out)
    assert res.returncode == 0, res.stderr
    cert = json.loads(out.read_text())
    # the solvers used to get 5 s each, one after the other (12.7-14.1 s in all)
    assert cert["wall_time"] < 5 + 2.5
    shares = {r["solver"]: r["params"].get("budget") for r in cert["records"] if r["solver"] in ("cpsat", "milp")}
    assert all(0 < s <= 5 for s in shares.values()) and set(shares) == {"cpsat", "milp"}
    assert cert["params"]["time_limit"] == 5 and cert["deterministic"] is False


def test_per_method_caps_stay_available(r30, tmp_path):
    out = tmp_path / "c.json"
    res = run_cli("certify", r30, "--time-limit", "6", "--cpsat-time-limit", "2", "--sequential", "--out", out)
    assert res.returncode == 0, res.stderr
    by = {r["solver"]: r for r in json.loads(out.read_text())["records"]}
    assert by["cpsat"]["params"]["budget"] == 2 and by["milp"]["params"]["budget"] > 2


def test_two_deterministic_certificates_are_identical(tmp_path):
    inst = tmp_path / "r12.json"
    write_instance(random_family(n=12, seed=1), inst)
    certs = []
    for k in range(2):
        out = tmp_path / f"c{k}.json"
        res = run_cli("certify", inst, "--deterministic", "--all-solvers", "--time-limit", "0.3", "--out", out)
        assert res.returncode == 0, res.stderr
        certs.append(json.loads(out.read_text()))
    assert certs[0]["deterministic"] is True and all(r["deterministic"] for r in certs[0]["records"])
    a, b = (json.dumps(strip_times(c), sort_keys=True) for c in certs)
    assert a == b
    assert {r["solver"]: r["termination"] for r in certs[0]["records"]}["cpsat"] in ("work-limit", "converged")


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0"])
def test_non_finite_time_limits_are_usage_errors(r30, value):
    for cmd in (("solve", r30, "--solver", "cpsat"), ("certify", r30)):
        res = run_cli(*cmd, "--time-limit", value)
        assert res.returncode == 2 and "Traceback" not in res.stderr
        assert "positive finite number of seconds" in res.stderr


def test_sorted_f_in_certify_falls_back_to_a_pool_that_fits():
    from kvsched.models.certify import SORTED_F_POOL, _heuristic

    inst = random_family(n=3000, seed=0, M=20000)
    res = _heuristic("sorted-f", inst, 0.0)
    assert res.report.feasible and res.params == {"pool": SORTED_F_POOL}
    assert res.message.startswith(f"pool={SORTED_F_POOL}: the DP over 3000 candidates")


def test_huge_files_are_refused_by_size_before_reading(tmp_path):
    big = tmp_path / "huge.json"
    with open(big, "wb") as f:
        f.truncate(300 * 2**20)  # sparse: nothing is written
    res = run_cli("solve", big, "--solver", "cpsat", "--json")
    assert res.returncode == 2 and "300 MiB is above the 256 MiB limit" in res.stderr
    assert last_json(res.stdout)["status"] == "error"


BAD = {"M": 4, "requests": [{"prompt": 3, "output": 2}]}  # s + o = 5 > M


@pytest.mark.parametrize("cmd", [("solve", "{i}", "--solver", "cpsat"), ("certify", "{i}"), ("run", "mcsf", "{i}"),
                                 ("simulate", "hsf", "{i}"), ("validate", "{i}", "{s}"), ("batches", "{i}")])
def test_bad_instance_one_exit_code_and_json_error_line(write_json, cmd):
    inst, sched = write_json(BAD, "bad.json"), write_json({"starts": [0]}, "s.json")
    res = run_cli(*(a.format(i=inst, s=sched) for a in cmd), "--json")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    line = last_json(res.stdout)
    assert line["status"] == "error" and "request 0" in line["message"]


def test_runs_and_starts_that_disagree_are_rejected(tmp_path):
    inst = Instance(10, (2, 2), (3, 3))
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"starts": [0, 5], "runs": [[[0, 3]], [[4, 7]]]}))
    with pytest.raises(ScheduleError, match="request 1: fields 'runs' and 'starts' disagree"):
        read_schedule(path, inst)
    path.write_text(json.dumps({"starts": [0, 4], "runs": [[[0, 3]], [[4, 7]]]}))
    assert read_schedule(path, inst).starts == [0, 4]


def test_concurrent_solvers_stop_once_optimality_is_proven(tmp_path):
    inst = tmp_path / "r8.json"
    write_instance(random_family(n=8, seed=0), inst)
    out = tmp_path / "c.json"
    res = run_cli("certify", inst, "--time-limit", "120", "--out", out)
    assert res.returncode == 0, res.stderr
    cert = json.loads(out.read_text())
    assert cert["status"] == "optimal" and cert["params"]["concurrent"] is True
    assert cert["wall_time"] < 60  # the other solver is stopped, not left to run out its 120 s share
    by = {r["solver"]: r for r in cert["records"]}
    assert {by["cpsat"]["status"], by["milp"]["status"]} & {"optimal", "skipped"}
