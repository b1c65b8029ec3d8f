"""certify: best validated incumbent, best proven bound, "optimal" only when they meet."""

import json

from helpers import last_json, run_cli

from kvsched import Instance, Schedule, validate
from kvsched.generators import FAMILIES
from kvsched.models.certify import certify


def test_certify_worked_instance_is_optimal(worked):
    cert = certify(worked, time_limit=20, hard_limit=False)
    assert cert.optimal and cert.status == "optimal" and cert.objective == 11 and cert.gap == 0
    assert validate(worked, cert.schedule).objective == 11
    by = {r.solver: r for r in cert.records}
    assert by["mcsf"].objective == 11 and by["brute"].status in ("optimal", "skipped")
    data = cert.to_json()
    assert data["instance_hash"] == worked.digest and data["ceil_bound"] == 11
    assert {"objective", "bound", "status", "gap", "starts", "runs", "wall_time", "records"} <= set(data)


def test_unproven_instance_is_not_called_optimal():
    inst = FAMILIES["random"](n=18, seed=1)
    cert = certify(inst, time_limit=1.0, threads=1, hard_limit=False)
    assert cert.bound <= cert.objective
    assert not cert.optimal and cert.status == "feasible" and cert.gap > 0
    assert validate(inst, cert.schedule).objective == cert.objective
    assert cert.objective <= min(r.objective for r in cert.records if r.objective is not None)


def test_certify_cli_writes_certificate(tmp_path, write_json):
    inst = write_json({"M": 10, "requests": [{"prompt": 4, "output": 2}, {"prompt": 5, "output": 3},
                                             {"prompt": 1, "output": 4}]})
    out_file = tmp_path / "cert.json"
    out = run_cli("certify", inst, "--time-limit", "20", "--out", out_file, "--json")
    assert out.returncode == 0, out.stderr
    cert = json.loads(out_file.read_text())
    assert cert == last_json(out.stdout)
    # tests/test_engine.py works out MC-SF = 15 and MC-SF with backfill = 13 by hand;
    # the exact models prove 13 optimal
    assert cert["objective"] == 13 and cert["status"] == "optimal"
    assert Instance.from_requests(cert["instance"]["M"], cert["instance"]["requests"]).digest == cert["instance_hash"]


def test_bound_above_a_validated_incumbent_is_an_error(worked):
    from kvsched.result import Result, finish

    sched = Schedule.from_starts(worked, [0, 0, 1, 3])  # TEL 11
    ok = finish(Result(solver="x", termination="converged", bound=10.0, schedule=sched), worked)
    assert ok.status == "feasible" and ok.objective == 11 and ok.gap == 1 / 11  # the label is not trusted
    up = finish(Result(solver="x", bound=10.2, schedule=sched), worked)
    assert up.status == "optimal" and up.gap == 0  # ceil(10.2) = 11
    tight = finish(Result(solver="x", bound=10.9999999, schedule=sched), worked)
    assert tight.status == "optimal"
    bad = finish(Result(solver="x", termination="converged", bound=11.5, schedule=sched), worked)
    assert bad.status == "error" and "bound 11.5 exceeds the validated objective 11" in bad.message


def test_invalid_schedule_from_a_hard_limited_child_is_raised():
    import pytest

    from kvsched.hardlimit import call_with_hard_limit
    from kvsched.result import InvalidScheduleError

    inst = Instance(10, (7, 1), (3, 4))
    with pytest.raises(InvalidScheduleError, match="round 2 holds 11"):
        call_with_hard_limit("kvsched.result", "checked", args=(inst, Schedule.from_starts(inst, [0, 1])), limit=60)
