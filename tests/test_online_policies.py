"""Online policies (docs/model.md §4): H-SF, A_max, A_min (W and V1), MC-SF / FCFS on predictions."""

import numpy as np
import pytest
from helpers import online_instance
from hypothesis import given, settings
from hypothesis import strategies as st

from kvsched import predictions
from kvsched.bounds import lower_bound
from kvsched.heuristics.baselines import fcfs, mcsf
from kvsched.heuristics.online import amin, run_policy
from kvsched.instance import Instance
from kvsched.simulator import PolicyView

WORKED = Instance(6, (2, 2, 2, 2), (1, 1, 2, 3), lowers=(1,) * 4, uppers=(4,) * 4)


# ------------------------------------------------------------------ worked checks (docs/model.md §1.8)
def test_hsf_worked_check():
    res = run_policy("hsf", WORKED)
    assert res.schedule.starts == [0, 0, 1, 3]
    assert res.objective == 11 and res.report.cancelled_runs == 0


def test_amax_worked_check_injected_order():
    # admission order o = 2, 1, 3, 1 -> requests 2, 0, 3, 1; one at a time (2 + 4 = 6 = M)
    ranks = np.empty(4, dtype=int)
    ranks[[2, 0, 3, 1]] = range(4)
    res = run_policy("amax", WORKED, tie_break=ranks)
    assert res.schedule.completions == [3, 7, 2, 6]
    assert res.objective == 18


def test_amax_random_ties_run_one_at_a_time():
    for seed in range(10):
        res = run_policy("amax", WORKED, seed=seed)
        ends = sorted(res.schedule.completions)
        starts = sorted(res.schedule.starts)
        assert starts[1:] == ends[:-1]  # each starts when the previous one finishes


# ------------------------------------------------------------------ H-SF and point predictions
def test_hsf_equals_engine_mcsf():
    for k in range(60):
        inst = online_instance(7000 + k)
        assert run_policy("hsf", inst).schedule.runs == mcsf(inst).runs


def test_exact_point_predictions_equal_offline_baselines():
    for k in range(40):
        inst = predictions.exact(online_instance(8000 + k))
        assert run_policy("mcsf", inst).schedule.runs == mcsf(inst).runs
        assert run_policy("fcfs", inst).schedule.runs == fcfs(inst).runs


def test_underestimating_points_cancel_and_margin_protects():
    cancels = 0
    for k in range(30):
        inst = online_instance(9000 + k, n_max=30, arrivals=False)
        low = predictions.noisy_points(inst, 0.2, bias=-0.5, seed=k)  # predictions 0.4-0.6 o
        cancels += run_policy("mcsf", low).report.cancelled_runs  # validated inside
        # a margin lifting every prediction to at least o_i: a safe upper bound, no cancel
        margin = float(max(np.asarray(inst.outputs) / np.asarray(low.uppers))) - 1
        assert run_policy("mcsf", low, margin=margin).report.cancelled_runs == 0
        assert run_policy("fcfs", low, margin=margin).report.cancelled_runs == 0
    assert cancels > 0


# ------------------------------------------------------------------ A_max
def test_amax_never_cancels_when_upper_ends_hold():
    for seed in range(60):
        inst = online_instance(10_000 + seed)
        for reuse in (True, False):
            res = run_policy("amax", inst, seed=seed, reuse_freed=reuse)
            assert res.report.cancelled_runs == 0


# ------------------------------------------------------------------ A_min
def test_amin_with_exact_intervals_equals_hsf():
    for k in range(40):
        inst = predictions.exact(online_instance(11_000 + k))
        for conv in ("W", "V1"):
            res = run_policy("amin", inst, tie_break="arrival", convention=conv)
            assert res.schedule.runs == mcsf(inst).runs
    # random ties: the same TEL when equal lengths come with equal prompts
    inst = Instance(30, (3,) * 12, (1, 4, 2, 2, 7, 1, 3, 3, 9, 4, 2, 5))
    for seed in range(5):
        assert run_policy("amin", predictions.exact(inst), seed=seed).objective == run_policy("hsf", inst).objective


def test_amin_must_cancel_two_requests():
    # M = 8, s = 3, o = (2, 2), l = 1: both start at 0 (believed 3 + 1 each); at round 1 both are
    # overdue and the next round would hold 5 + 5 = 10 > 8: the smaller tie (request 0) is cut
    # after round 1 with o~ = 2, restarts when request 1 finishes at round 2
    inst = Instance(8, (3, 3), (2, 2), lowers=(1, 1), uppers=(5, 5))
    res = run_policy("amin", inst, tie_break="index")
    assert res.schedule.runs == (((0, 1), (2, 4)), ((0, 2),))
    assert (res.objective, res.report.cancelled_runs, res.report.wasted_tokens) == (6, 1, 1)


def test_amin_worked_instance_convention_w():
    # t=0: requests 0, 1 (o~ = 1). t=1: 2, 3. t=2: both overdue (g = 1 = o~); 2 * (2+1+1) = 8 > 6:
    # cancel request 2 (tie), o~ = 2. t=3: request 3 is overdue (g = 2), charged 2 + 2 at round 4,
    # request 2 would add 2 + 1: 7 > 6, not admitted. t=4: request 3 finishes, 2 starts, ends at 6.
    res = run_policy("amin", WORKED, tie_break="index", convention="W")
    assert res.schedule.runs == (((0, 1),), ((0, 1),), ((1, 2), (4, 6)), ((1, 4),))
    assert res.objective == 12


def test_amin_starts_from_the_lower_end_of_each_requests_interval():
    inst = predictions.buckets(Instance(2000, (1, 2, 3), (50, 150, 999)))
    pol = amin(inst)
    pol.reset(PolicyView(inst))
    assert pol.est == [1, 101, 901]
    assert run_policy("amin", inst).report.feasible


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), conv=st.sampled_from(["W", "V1"]), wrong=st.booleans(),
       arrivals=st.booleans())
def test_amin_schedules_always_validate(seed, conv, wrong, arrivals):
    inst = online_instance(seed, arrivals=arrivals, intervals="wrong" if wrong else "containing")
    res = run_policy("amin", inst, seed=seed, convention=conv)  # finish() validates
    assert res.report.feasible and res.objective >= lower_bound(inst)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_amax_with_wrong_intervals_still_validates(seed):
    inst = online_instance(seed, intervals="wrong")
    assert run_policy("amax", inst, seed=seed).report.feasible


# ------------------------------------------------------------------ the A_max lower-bound family
def batch_starts(n, K, period, start=0):
    """Sum of start rounds of n identical-looking jobs run in full batches of K every period."""
    B = n // K
    assert B * K == n
    return K * (B * start + period * B * (B - 1) // 2)


def lb_instance(r, s, l, M, Nu):
    """N_l = r N_u jobs of length l and N_u of length u = l r^2 (alpha = 1 / r^2), interval [l, u]."""
    u = l * r * r
    o = [l] * (r * Nu) + [u] * Nu
    return Instance(M, (s,) * len(o), tuple(o), lowers=(l,) * len(o), uppers=(u,) * len(o))


def batch_model(r, s, l, M, Nu):
    """TEL of H-SF and of three A_max readings when every batch is full (M a multiple of
    s + l and s + u, counts multiples of the batch sizes)."""
    u, Nl = l * r * r, r * Nu
    Kl, Ku = M // (s + l), M // (s + u)
    total_o = Nl * l + Nu * u
    hsf = batch_starts(Nl, Kl, l) + batch_starts(Nu, Ku, u, start=Nl // Kl * l) + total_o
    no_reuse = batch_starts(Nl + Nu, Ku, u) + total_o  # any order: every batch holds for u rounds
    longs_first = batch_starts(Nu, Ku, u) + batch_starts(Nl, Ku, l, start=Nu // Ku * u) + total_o
    return hsf, no_reuse, longs_first


@pytest.mark.parametrize("r, s, l, M, Nu", [(2, 1, 3, 260, 260), (3, 1, 3, 280, 70)])
def test_amax_lower_bound_family_matches_the_batch_model(r, s, l, M, Nu):
    inst = lb_instance(r, s, l, M, Nu)
    hsf_tel, no_reuse, longs_first = batch_model(r, s, l, M, Nu)
    longs = np.argsort(np.argsort(-inst.o, kind="stable"), kind="stable")
    assert run_policy("hsf", inst).objective == hsf_tel
    assert run_policy("amax", inst, reuse_freed=False, seed=1).objective == no_reuse
    assert run_policy("amax", inst, reuse_freed=False, tie_break=longs).objective == no_reuse
    assert run_policy("amax", inst, tie_break=longs).objective == longs_first
    # random order with reuse does better than the adversarial order
    assert run_policy("amax", inst, seed=1).objective < longs_first


@pytest.mark.parametrize("r", [2, 3, 4])
def test_amax_lower_bound_limits(r):
    """Large M, many batches, s / l -> 0: the batch model tends to closed forms. Without reuse
    of early finishers' memory: (r+1)^2 r^3 / (r^3 + r + 2), which equals the stated bound
    alpha^-1 (1 + alpha^-1/2) / 2 = r^2 (1 + r) / 2 at alpha = 1/4 (6) but not at 1/9, 1/16
    (13.5 < 18, 22.9 < 40). Reuse with the adversarial order (long jobs first):
    2 r^3 (r + 1) / (r^3 + r + 2) = 4 at alpha = 1/4: the reconstruction's "about 4"."""
    s, l = 1, 10**4
    u = l * r * r
    M = (s + l) * (s + u) * 1000
    Nu = (s + l) * (s + u) * 10**6
    hsf_tel, no_reuse, longs_first = batch_model(r, s, l, M, Nu)
    stated = r * r * (1 + r) / 2
    assert no_reuse / hsf_tel == pytest.approx((r + 1) ** 2 * r ** 3 / (r ** 3 + r + 2), rel=2e-3)
    assert longs_first / hsf_tel == pytest.approx(2 * r ** 3 * (r + 1) / (r ** 3 + r + 2), rel=2e-3)
    if r == 2:
        assert no_reuse / hsf_tel == pytest.approx(stated, rel=2e-3) and stated == 6
    else:
        assert no_reuse / hsf_tel < 0.8 * stated


def test_amin_stays_under_its_competitive_ratio_at_u2():
    # lengths 1 and 2 in the proportion of the top eigenvector (1, 1/2) of (A_2, B_2): CR = 1.25
    o = [1] * 3000 + [2] * 1500
    inst = Instance(600, (1,) * len(o), tuple(o), lowers=(1,) * len(o), uppers=(2,) * len(o))
    hsf_tel = run_policy("hsf", inst).objective
    for conv in ("W", "V1"):
        ratio = run_policy("amin", inst, seed=0, convention=conv).objective / hsf_tel
        assert 1.1 < ratio < 1.25


def test_default_convention_is_v1():
    """The default reading of refinement is V1 (o~ = g + 1 once overdue): the fluid-regime sweep
    (amin-fluid) measures the same limit for W and V1, and V1 keeps o~ a valid lower bound."""
    from kvsched.heuristics.online import DEFAULT_CONVENTION, amax, amin, fcfs_predicted, mcsf_predicted

    assert DEFAULT_CONVENTION == "V1"
    assert {f(WORKED).convention for f in (amin, amax, mcsf_predicted, fcfs_predicted)} == {"V1"}
