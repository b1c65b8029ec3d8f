"""The Lagrangian bound (models.lagrangian): weak duality against proven optima, equality with
the Pyomo LP at optimal multipliers, and the smoothed dual's gradient."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvsched import Instance, models
from kvsched.bounds import lower_bound
from kvsched.generators import jaillet, random_family, tiny
from kvsched.heuristics import best_of
from kvsched.models.lagrangian import lagrangian_bound, relaxation, smoothed, value
from kvsched.models.timeindexed import optimality_windows
from kvsched.models.windows import start_windows


def _windows(inst):
    return optimality_windows(inst, best_of(inst).objective)


def test_hand_computed_value():
    """One request (s, o) = (1, 2), M = 4, window [0, 1]: started at 0 it holds 2 then 3
    tokens in rounds 1, 2; started at 1 it holds 2, 3 in rounds 2, 3. Rows: the completion
    rounds 2, 3. With lam_2 = 0.5, lam_3 = 0: start 0 costs 2 + 0.5 * 3 = 3.5, start 1 costs 3 + 0.5 * 2 = 4;
    L = 3.5 - 4 * 0.5 = 1.5."""
    inst = Instance(4, (1,), (2,))
    rel = relaxation(inst, [(0, 1)])
    assert rel.rows.tolist() == [2, 3]
    L, starts = value(rel, np.array([0.5, 0.0]))
    assert L == pytest.approx(1.5, abs=1e-6) and L < 1.5
    assert starts.tolist() == [0]


@pytest.mark.parametrize("inst", [random_family(8, seed=3), random_family(10, seed=1, rate=0.5),
                                  jaillet(12, seed=2), tiny(6, seed=4)], ids=lambda i: i.name)
def test_lp_multipliers_give_the_lp_value(inst):
    """At the LP's own duals (full horizon) L equals the Pyomo LP without core rows."""
    lp = models.solve("lp", inst, core=False, time_limit=60, threads=1)
    lb = lagrangian_bound(inst, _windows(inst), H=None, method="lp")
    assert lb.bound == pytest.approx(lp.bound, rel=1e-7, abs=1e-5)
    assert lb.bound <= lp.bound + 1e-6


def test_smooth_multipliers_converge_to_the_lp_value():
    inst = jaillet(15, seed=5)
    lp = lagrangian_bound(inst, _windows(inst), method="lp")
    smooth = lagrangian_bound(inst, _windows(inst), method="smooth")
    assert smooth.bound <= lp.bound + 1e-6
    assert smooth.bound >= lp.bound - 1e-3 * lp.bound


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), scale=st.floats(0, 2), data=st.data())
def test_any_multipliers_give_a_bound_below_lp_and_optimum(seed, scale, data):
    """Weak duality: for arbitrary lam >= 0, L(lam) <= LP value <= proven optimum (brute)."""
    inst = tiny(int(seed % 4) + 3, seed=seed, rate=0.7 if seed % 3 == 0 else None)
    opt = models.solve("brute", inst, time_limit=30)
    assert opt.status == "optimal"
    lp = models.solve("lp", inst, core=False, time_limit=30, threads=1)
    rel = relaxation(inst, _windows(inst), H=data.draw(st.integers(1, 40)))
    lam = np.random.default_rng(seed).exponential(scale / inst.M, len(rel.rows))
    L, _ = value(rel, lam)
    assert L <= lp.bound + 1e-6 <= opt.objective + 1e-6


def test_uncut_windows_give_a_valid_bound():
    inst = random_family(9, seed=7)
    opt = models.solve("cpsat", inst, time_limit=30, threads=1)
    assert opt.status == "optimal"
    lb = lagrangian_bound(inst, start_windows(inst, None, cut=False), method="lp")
    assert lb.bound <= opt.objective


def test_smoothed_gradient_matches_finite_differences():
    inst = random_family(7, seed=11)
    rel = relaxation(inst, _windows(inst))
    lam = np.random.default_rng(0).uniform(0, 0.05, len(rel.rows))
    beta, eps = 2.0, 1e-6
    val, grad = smoothed(rel, lam, beta)
    for k in (0, len(lam) // 2, len(lam) - 1):
        step = np.zeros_like(lam)
        step[k] = eps
        num = (smoothed(rel, lam + step, beta)[0] - smoothed(rel, lam - step, beta)[0]) / (2 * eps)
        assert num == pytest.approx(grad[k], rel=1e-4, abs=1e-4)
    assert val <= value(rel, lam)[0] + 1e-6  # soft-min <= min


def test_solver_result_is_validated_and_beats_closed_form_on_a_binding_instance():
    inst = jaillet(20, seed=1)
    res = models.solve("lagrangian", inst, time_limit=30)
    assert res.status in ("feasible", "optimal") and res.schedule is not None
    lp = models.solve("lp", inst, core=False, time_limit=30, threads=1)
    assert res.params["method"] == "lp" and res.params["H"] < res.params["horizon_full"]
    # rows up to the UB schedule's makespan only: still the LP value on this instance
    assert res.bound == pytest.approx(lp.bound, rel=1e-7) and res.bound <= lp.bound + 1e-6
    assert res.bound > lower_bound(inst) + 1 and res.bound <= res.objective


def test_certify_option_records_the_lagrangian_bound():
    from kvsched.models.certify import certify

    inst = jaillet(9, seed=2)
    cert = certify(inst, time_limit=10, threads=1, lagrangian=True)
    rec = {r.solver: r for r in cert.records}["lagrangian"]
    lp = models.solve("lp", inst, core=False, time_limit=30, threads=1)
    assert rec.bound == pytest.approx(max(lp.bound, lower_bound(inst)), rel=1e-7)
    assert cert.bound >= rec.bound - 1e-9 and rec.bound <= cert.objective
