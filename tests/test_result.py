"""The one result shape: termination and solution enums, derived status / gap / optimal /
ceil_bound, one serialisation for every command, one validator call per solve."""

import pytest
from click.testing import CliRunner
from helpers import last_json, run_cli

from kvsched import Instance, Schedule, heuristics, models, result
from kvsched.experiments.cli import cli
from kvsched.heuristics.online import run_policy
from kvsched.io import write_instance
from kvsched.result import Result, SolutionStatus, Termination, ceil_bound, finish

SCHED = [0, 0, 1, 3]  # the worked instance's optimum, TEL 11


def test_ceil_bound_is_the_one_rounding_with_tolerance():
    assert [ceil_bound(b) for b in (10.0, 10.2, 10.9999999, 11.0, None)] == [10, 11, 11, 11, None]


@pytest.mark.parametrize("termination, bound, status, solution", [
    (Termination.CONVERGED, None, "feasible", SolutionStatus.FEASIBLE),
    (Termination.CONVERGED, 10.0, "feasible", SolutionStatus.FEASIBLE),
    (Termination.CONVERGED, 10.5, "optimal", SolutionStatus.OPTIMAL),
    (Termination.TIME_LIMIT, 9.0, "time-limit", SolutionStatus.FEASIBLE),
    (Termination.TIME_LIMIT, 11.0, "optimal", SolutionStatus.OPTIMAL),   # proven by us despite the limit
    (Termination.WORK_LIMIT, 9.0, "time-limit", SolutionStatus.FEASIBLE),
    (Termination.INTERRUPTED, 9.0, "time-limit", SolutionStatus.FEASIBLE),
    (Termination.CONVERGED, 11.5, "error", SolutionStatus.OPTIMAL),      # bound above the objective
])
def test_status_is_derived_from_termination_and_solution(worked, termination, bound, status, solution):
    res = finish(Result("x", termination, bound=bound, schedule=Schedule.from_starts(worked, SCHED)), worked)
    assert (res.status, res.solution, res.objective) == (status, solution, 11)
    assert res.optimal == (status == "optimal")
    assert res.gap == (None if bound is None else max(0.0, (11 - ceil_bound(bound)) / 11))


def test_raw_results_are_not_optimal_until_validated(worked):
    raw = Result("x", objective=11, bound=11.0, schedule=Schedule.from_starts(worked, SCHED))
    assert raw.solution is SolutionStatus.UNVALIDATED and not raw.optimal and raw.status == "feasible"
    assert Result("x").solution is SolutionStatus.NO_SOLUTION
    assert Result("x", "skipped").status == "skipped" and Result("x", "infeasible").status == "infeasible"


def test_a_finished_result_is_never_finished_again(worked):
    res = finish(Result("x", schedule=Schedule.from_starts(worked, SCHED)), worked)
    with pytest.raises(RuntimeError, match="already finished"):
        finish(res, worked)


def test_certificate_is_a_result_with_records(worked):
    from kvsched.models.certify import certify

    cert = certify(worked, time_limit=5, hard_limit=False)
    assert isinstance(cert, Result) and cert.solver == "certify" and cert.records
    assert all(isinstance(r, Result) for r in cert.records)
    assert (cert.best_solver, cert.bound_solver) == ("fcfs", "search")  # first of the best (search runs first)
    data = cert.to_json()
    assert data["records"][0]["solver"] == "closed-form" and "starts" not in data["records"][0]
    assert {r["status"] for r in data["records"]} <= set(result.STATUSES)


class CountingValidator:
    def __init__(self, monkeypatch):
        self.calls = 0
        real = result.validate

        def counting(*args, **kwargs):
            self.calls += 1
            return real(*args, **kwargs)
        monkeypatch.setattr(result, "validate", counting)


@pytest.mark.parametrize("method", ["brute", "cpsat", "milp", "lp", "search"])
def test_one_validator_call_per_exact_solve(monkeypatch, worked, method):
    counter = CountingValidator(monkeypatch)
    res = models.solve(method, worked, time_limit=10)
    assert counter.calls == 1 and res.report is not None and res.objective == 11


def test_one_validator_call_per_hard_limited_solve_and_raw_child(monkeypatch, worked):
    from kvsched.hardlimit import call_with_hard_limit

    raw = call_with_hard_limit("kvsched.models.cpsat", "solve_cpsat", args=(worked,), kwargs={"time_limit": 5})
    assert raw.report is None and raw.solution is SolutionStatus.UNVALIDATED  # the child returns raw results
    counter = CountingValidator(monkeypatch)
    res = models.solve("cpsat", worked, hard_limit=True, time_limit=5)
    assert counter.calls == 1 and res.status == "optimal"


def test_one_validator_call_per_heuristic_and_policy_and_runner_task(monkeypatch, worked):
    from kvsched.experiments import demo_baselines
    from kvsched.experiments.runner import execute, plan

    counter = CountingValidator(monkeypatch)
    heuristics.run("mcsf", worked)
    assert counter.calls == 1
    run_policy("amax", worked, seed=0)
    assert counter.calls == 2
    task = plan(demo_baselines.EXPERIMENT, quick=True)[0]
    import kvsched.experiments.runner as runner

    runner_calls = []
    monkeypatch.setattr(runner, "validate", lambda *a: runner_calls.append(a))
    out = execute(demo_baselines.task, task.case, task.algorithm)
    assert counter.calls == 3 and runner_calls == []  # the runner only checks the digest
    assert out["row"]["status"] in ("feasible", "optimal") and out["row"]["schedule_hash"]


CORE = {"objective", "bound", "ceil_bound", "status", "termination", "solution", "gap", "starts", "runs",
        "wall_time"}


def test_every_command_serialises_one_shape(tmp_path, worked):
    inst = tmp_path / "w.json"
    write_instance(worked, inst)
    sched = tmp_path / "s.json"
    sched.write_text('{"starts": [0, 0, 1, 3]}')
    runner = CliRunner()
    outs = {}
    for name, args in {"solve": ["solve", str(inst), "--solver", "brute"],
                       "run": ["run", "mcsf", str(inst)],
                       "certify": ["certify", str(inst), "--time-limit", "5"],
                       "validate": ["validate", str(inst), str(sched)],
                       "simulate": ["simulate", "hsf", str(inst)]}.items():
        res = runner.invoke(cli, [*args, "--json"])
        assert res.exit_code == 0, res.output
        outs[name] = last_json(res.output)
        assert CORE <= set(outs[name]), name
        assert outs[name]["objective"] == 11 and "tel" not in outs[name], name
    assert outs["validate"]["status"] == "feasible" and outs["validate"]["feasible"] is True
    assert outs["certify"]["status"] == "optimal" and outs["certify"]["ceil_bound"] == 11
    assert outs["simulate"]["summary"]["objective"] == 11


def test_validate_json_of_an_infeasible_schedule(tmp_path):
    inst = tmp_path / "i.json"
    write_instance(Instance(10, (7, 1), (3, 4)), inst)
    sched = tmp_path / "s.json"
    sched.write_text('{"starts": [0, 1]}')
    res = run_cli("validate", inst, sched, "--json")
    out = last_json(res.stdout)
    assert res.returncode == 1 and out["status"] == "infeasible" and out["solution"] == "infeasible"
    assert out["objective"] is None and out["violation"]["round"] == 2
