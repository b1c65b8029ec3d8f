"""Deterministic mode's HiGHS work limits (docs/model.md §6.3): the LP stops on simplex
iterations, the MILP's root on counted limit checks, the Lagrangian on evaluations, CP-SAT on deterministic time; two runs
give the same numbers."""

from __future__ import annotations

import pytest

from kvsched import models
from kvsched.generators import random_family
from kvsched.models.highs import CHECKS_PER_SECOND, ITERATIONS_PER_SECOND
from kvsched.result import Termination

R30 = random_family(n=30, seed=0)  # its LP needs about 390 simplex iterations


def _twice(name, inst, **kw):
    return [models.solve(name, inst, deterministic=True, **kw) for _ in range(2)]


def test_lp_stops_on_its_iteration_budget_and_repeats():
    budget = 0.2
    runs = _twice("lp", R30, time_limit=budget)
    for r in runs:
        assert r.termination is Termination.WORK_LIMIT and r.deterministic
        assert 0 < r.params["lp_iterations"] <= ITERATIONS_PER_SECOND * budget
    assert runs[0].bound == runs[1].bound and runs[0].objective == runs[1].objective


def test_lp_with_enough_work_converges_to_the_lp_value():
    det = models.solve("lp", R30, time_limit=10, deterministic=True)
    free = models.solve("lp", R30, time_limit=60)
    assert det.termination is Termination.CONVERGED and abs(det.bound - free.bound) < 1e-6


def test_milp_root_stops_on_counted_limit_checks_and_repeats():
    budget = 1.0
    runs = _twice("milp", R30, time_limit=budget, threads=1)
    for r in runs:
        assert r.termination is Termination.WORK_LIMIT and r.solver_status == "Interrupted by user"
        assert r.params["mip_checks"] == CHECKS_PER_SECOND * budget
        assert r.params["lp_iterations"] <= ITERATIONS_PER_SECOND * budget / 2
        assert "not reproducible" not in r.message
    assert (runs[0].bound, runs[0].objective) == (runs[1].bound, runs[1].objective)


def test_lagrangian_smoothing_stops_on_its_evaluation_budget():
    from kvsched.models.lagrangian import EVALUATIONS_PER_SECOND

    runs = _twice("lagrangian", R30, time_limit=0.1, method="smooth")
    for r in runs:
        assert r.deterministic and 0 < r.params["evaluations"] <= EVALUATIONS_PER_SECOND * 0.1 + 1
    assert runs[0].bound == runs[1].bound


def test_cpsat_stopped_by_the_wall_clock_safety_is_marked_not_reproducible(monkeypatch):
    from kvsched.models import cpsat
    from kvsched.result import NOT_REPRODUCIBLE

    monkeypatch.setattr(cpsat, "safety_wall_time", lambda work: 0.2)  # the safety comes long before 100 units
    r = models.solve("cpsat", R30, time_limit=100, deterministic=True, threads=1)
    assert r.termination is Termination.WORK_LIMIT and NOT_REPRODUCIBLE in r.message
    ok = models.solve("cpsat", random_family(n=6, seed=0), time_limit=1, deterministic=True, threads=1)
    assert NOT_REPRODUCIBLE not in ok.message


def test_cpsat_with_two_workers_stops_on_deterministic_time_and_repeats():
    from kvsched.generators import jaillet

    inst = jaillet(model=1, n=15, seed=3)  # no time-indexed layer; CP-SAT proves nothing in 2 units
    runs = _twice("cpsat", inst, time_limit=2, threads=2)
    for r in runs:
        assert r.termination is Termination.WORK_LIMIT and "not reproducible" not in r.message
        assert float(r.message.split()[2].rstrip(";")) >= 2.0  # "deterministic time X": the work limit stopped it
    assert (runs[0].objective, runs[0].bound, runs[0].schedule.starts) == \
        (runs[1].objective, runs[1].bound, runs[1].schedule.starts)


@pytest.mark.slow
def test_cpsat_reaches_its_deterministic_time_on_a_large_jaillet_model():
    """At n = 50 10 units take 55-190 s of wall clock (docs/model.md §6.3): the safety must not
    come first (with 4 x + 30 s it stopped CP-SAT at 6.7 units)."""
    from kvsched.generators import jaillet

    r = models.solve("cpsat", jaillet(model=1, seed=0), time_limit=10, deterministic=True, threads=2)
    assert r.termination is Termination.WORK_LIMIT and "not reproducible" not in r.message
    assert float(r.message.split()[2].rstrip(";")) >= 8.0
