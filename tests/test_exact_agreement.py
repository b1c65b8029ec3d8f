"""Per-solver properties of the exact models (docs/model.md §5), each written once and run for
every solver of ``--solvers``: agreement with the brute force, window cut, time limit, warm
start, both libraries in one process; plus known optima and the hard limit."""

import pytest
from helpers import HARD10, WORKED, agreement_instance
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvsched import heuristics, models, validate
from kvsched.bounds import lower_bound
from kvsched.generators import FAMILIES, random_family
from kvsched.heuristics import best_of
from kvsched.heuristics.baselines import fcfs

LIMIT = 30.0
OTHER = {"milp": "cpsat", "cpsat": "milp"}


@pytest.mark.parametrize("seed", range(50))
def test_agrees_with_brute(solver, seed, optima):
    inst = agreement_instance(seed)
    brute = optima[seed]
    assert brute.status == "optimal"
    assert validate(inst, brute.schedule).objective == brute.objective
    res = models.solve(solver, inst, time_limit=LIMIT, threads=1)
    assert res.status == "optimal" and res.objective == brute.objective
    assert res.bound <= res.objective + 1e-6
    assert validate(inst, res.schedule).objective == res.objective


@pytest.mark.parametrize("seed", range(50))
def test_lp_bound_below_brute_optimum(seed, optima):
    inst = agreement_instance(seed)
    lp = models.solve("lp", inst, time_limit=LIMIT, threads=1)
    mcsf = heuristics.run("mcsf", inst).objective
    assert lp.bound <= optima[seed].objective + 1e-6 <= mcsf + 1e-6
    assert validate(inst, lp.schedule).objective == lp.objective


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10**6))
def test_window_cut_never_removes_the_optimum(solver, seed):
    inst = agreement_instance(seed)
    cut = models.solve(solver, inst, time_limit=LIMIT, threads=1, window_cut=True)
    uncut = models.solve(solver, inst, time_limit=LIMIT, threads=1, window_cut=False)
    assert cut.status == uncut.status == "optimal"
    assert cut.objective == uncut.objective
    if solver == "milp":  # the cut model is smaller
        assert cut.params["columns"] < uncut.params["columns"]


def test_time_limit_gives_validated_incumbent(solver):
    inst = random_family(40, seed=0)
    warm = best_of(inst).objective
    res = models.solve(solver, inst, time_limit=2.0)
    assert res.status == "time-limit"
    assert res.wall_time < 2.0 + 5.0  # generous: model building and a loaded machine
    assert res.report.feasible and validate(inst, res.schedule).objective == res.objective
    assert lower_bound(inst) <= res.bound <= res.objective <= warm
    if solver == "cpsat":
        assert res.solver_status != "OPTIMAL"
        assert res.params["time_indexed"] is False  # ~40,000 Booleans: above the automatic limit
    else:
        assert res.solver_status == "Time limit reached"


def test_warm_start_is_the_given_schedule(solver):
    inst = random_family(7, seed=9)
    worse = fcfs(inst)
    res = models.solve(solver, inst, time_limit=20, ub_schedule=worse)
    assert res.status == "optimal"
    assert res.objective == models.solve("brute", inst).objective < validate(inst, worse).objective
    sched = heuristics.run("mcsf", HARD10).schedule
    given_ub = models.solve(solver, HARD10, time_limit=0.0, ub_schedule=sched)
    assert given_ub.objective <= validate(HARD10, sched).objective and given_ub.report.feasible
    if solver == "milp":
        assert given_ub.params["ub_source"] == "given" and given_ub.params["ub"] == validate(HARD10, sched).objective


def test_both_solver_libraries_in_one_process(solver):
    """ortools and highspy imported and solving in one process (upstream bug
    google/or-tools#5246); ``solver``'s library solves first, the other's next, then again."""
    import highspy  # noqa: F401
    from ortools.sat.python import cp_model

    inst = agreement_instance(4)
    first = models.solve(solver, inst, time_limit=LIMIT, threads=1)
    second = models.solve(OTHER[solver], inst, time_limit=LIMIT, threads=1)
    third = models.solve(solver, inst, time_limit=LIMIT, threads=1)
    assert first.status == second.status == third.status == "optimal"
    assert first.objective == second.objective == third.objective
    by_name = {solver: first, OTHER[solver]: second}
    assert "highspy" in by_name["milp"].solver_version and "ortools" in by_name["cpsat"].solver_version
    assert models.solve("milp", WORKED, time_limit=LIMIT).status == "optimal"
    # the libraries' own interfaces still work side by side
    model = cp_model.CpModel()
    x = model.new_int_var(0, 10, "x")
    y = model.new_int_var(0, 10, "y")
    model.add(x + 2 * y <= 7)
    model.maximize(x + y)
    cp = cp_model.CpSolver()
    cp.parameters.num_workers = 1
    assert cp.solve(model) == cp_model.OPTIMAL and cp.objective_value == 7
    assert models.solve("milp", HARD10, time_limit=0.0).report.feasible  # HiGHS still runs afterwards


@pytest.mark.parametrize("m", [2, 3, 4])
def test_partition_optimum_is_known(solver, m):
    inst = FAMILIES["partition"](n=3 * m, seed=m)
    known = 3 * m * (m + 1) // 2
    res = models.solve(solver, inst, time_limit=LIMIT, threads=1)
    assert res.status == "optimal" and res.objective == known
    if inst.n <= 7:
        assert models.solve("brute", inst).objective == known


def test_hard_limit_runs_in_child_process():
    inst = agreement_instance(7)
    res = models.solve("cpsat", inst, hard_limit=True, time_limit=LIMIT, threads=1)
    assert res.status == "optimal"
    assert res.objective == models.solve("brute", inst).objective
    assert validate(inst, res.schedule).feasible


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**6), st.sampled_from(["milp", "cpsat", "lp", "brute"]))
def test_every_result_validates_and_bound_below_incumbent(seed, solver_name):
    inst = agreement_instance(seed)
    res = models.solve(solver_name, inst, time_limit=LIMIT, threads=1)
    assert res.schedule is not None and validate(inst, res.schedule).feasible
    assert res.bound is not None and res.bound <= res.objective + 1e-6
    assert res.objective == validate(inst, res.schedule).objective


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
def test_milp_and_cpsat_agree_beyond_brute(seed):
    """n = 10-12 (beyond the oracle): both models prove the same optimum. Minutes; by hand
    with ``python3 -m pytest -m slow``."""
    inst = FAMILIES["random"](n=10 + seed % 3, seed=seed)
    cpsat = models.solve("cpsat", inst, time_limit=300, threads=2)
    milp = models.solve("milp", inst, time_limit=300, threads=2)
    assert cpsat.status == milp.status == "optimal"
    assert cpsat.objective == milp.objective
    assert heuristics.run("mcsf", inst).objective >= cpsat.objective
