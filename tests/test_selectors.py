"""Batch selectors for Sorted-F: exactness of the DP against enumeration, the scaled DP's
stated guarantee, feasibility of every selector, and the joint-start peak rule against
the independent validator."""

import itertools

import numpy as np
import pytest
from helpers import selector_pool

from kvsched.heuristics.selectors import (
    SELECTORS,
    DPScan,
    batch_peak,
    better,
    dp_select,
    greedy_select,
    longest_feasible_prefix,
    max_batch_size,
    scaled_dp_select,
    scaled_grid,
)
from kvsched.heuristics.sorted_f import batch_order
from kvsched.instance import Instance
from kvsched.schedule import Schedule
from kvsched.validator import validate


def _brute(s, o, M, margin=0):
    """Best (sum o, |X|) over all subsets whose every member's constraint, with ``margin``
    added per counted member, is <= M."""
    best = None
    for r in range(1, len(s) + 1):
        for X in itertools.combinations(range(len(s)), r):
            X = list(X)
            if batch_peak(s[X] + margin, o[X]) <= M and better((int(o[X].sum()), r), best):
                best = (int(o[X].sum()), r)
    return best


def _val(o, X):
    return int(o[X].sum()), len(X)


def test_batch_peak_is_the_validated_peak_of_a_joint_start():
    for k in range(60):
        s, o, M = selector_pool(300 + k, n_max=8, M_hi=200)
        inst = Instance(10**6, tuple(s.tolist()), tuple(o.tolist()))
        rep = validate(inst, Schedule.from_starts(inst, [0] * len(s)))
        assert rep.peak_memory == batch_peak(s, o)


def test_batch_peak_hand_cases():
    # equal o count each other: 3 requests (2, 2): peak 3 * 2 + 3 * 2 = 12 at round 2
    assert batch_peak(np.array([2, 2, 2]), np.array([2, 2, 2])) == 12
    # A (7, 3) and B (1, 4) together: round 3 holds 10 + 4 = 14; round 4 holds 5
    assert batch_peak(np.array([7, 1]), np.array([3, 4])) == 14


def test_exact_dp_equals_enumeration_on_120_pools():
    checked = 0
    for k in range(120):
        s, o, M = selector_pool(20250806 + k)
        if not len(s):
            continue
        X = dp_select(s, o, M)
        assert batch_peak(s[X], o[X]) <= M
        assert _val(o, X) == _brute(s, o, M)
        checked += 1
    assert checked >= 100


def test_exact_dp_hand_case():
    # M = 12: three (2, 2) fit (peak 12, F = 6/9); adding (1, 1) breaks nothing for o = 2
    # members but its own constraint is 6 + 1 + 4 * 1 = 11 <= 12: F = 7/16 is best
    s, o = np.array([2, 2, 2, 1, 9]), np.array([2, 2, 2, 1, 3])
    X = dp_select(s, o, 12)
    assert X.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("epsilon", [0.2, 0.5, 1.0])
def test_scaled_dp_guarantee(epsilon):
    """Feasible; never better than the exact DP; at least as good as every batch that
    fits with a margin of (delta - 1) per counted member (the stated guarantee)."""
    grids = set()
    for k in range(60):
        s, o, M = selector_pool(int(epsilon * 100) * 1000 + k, n_max=10, M_lo=40, M_hi=160, s_max=30, o_max=20)
        if not len(s):
            continue
        delta = scaled_grid(s, o, M, epsilon)
        grids.add(delta)
        assert (delta - 1) * max_batch_size(s, o, M) <= epsilon * M
        X = scaled_dp_select(s, o, M, epsilon=epsilon)
        assert len(X) and batch_peak(s[X], o[X]) <= M
        exact = _val(o, dp_select(s, o, M))
        got = _val(o, X)
        assert not better(got, exact)
        target = _brute(s, o, M, margin=delta - 1)
        if target is not None:
            assert not better(target, got)
        # resource augmentation: at least as good as the exact optimum with M - (delta - 1) K
        reduced = M - (delta - 1) * max_batch_size(s, o, M)
        ref = dp_select(s, o, reduced) if reduced >= 2 else []
        if len(ref):
            assert not better(_val(o, ref), got)
    assert max(grids) > 1  # the rounding was exercised


def test_scaled_dp_returns_a_lone_request_when_rounding_loses_everything():
    # delta = 1 + floor(0.5 * 20 / 1) = 11: s = 15 rounds to 22 > 20 - 5
    s, o = np.array([15]), np.array([5])
    assert scaled_grid(s, o, 20, 0.5) == 11
    assert scaled_dp_select(s, o, 20, epsilon=0.5).tolist() == [0]


@pytest.mark.parametrize("name", ["swap", "quantile", "scaled-dp"])
def test_heuristic_selectors_never_beat_exact_and_are_feasible(name):
    strictly_worse = 0
    for k in range(100):
        s, o, M = selector_pool(1100 + k)
        if not len(s):
            continue
        X = SELECTORS[name](s, o, M)
        assert len(X) and len(set(X.tolist())) == len(X)
        assert batch_peak(s[X], o[X]) <= M
        exact = _val(o, dp_select(s, o, M))
        assert not better(_val(o, X), exact)
        strictly_worse += better(exact, _val(o, X))
    if name == "swap":
        assert strictly_worse < 25  # a local optimum, usually the global one here


def test_swap_improves_on_its_start_and_stops_at_a_local_optimum():
    # start: ascending s + o = requests 2, 1, 0 (F = 7/9); removing request 0 gives F = 3/4
    s, o = np.array([3, 5, 2, 5]), np.array([4, 1, 2, 5])
    assert greedy_select(s, o, 14).tolist() == [0, 1, 2]
    assert SELECTORS["swap"](s, o, 14).tolist() == [1, 2]
    # M = 18: start A A B B (A = (1, 4), B = (5, 1)), F = 10/16; adding B or swapping an A
    # for B overflows (22, 20 > 18), removing an A gives 6/9: a local optimum, while the
    # global one is B B B (F = 3/9)
    s, o = np.array([1, 1, 5, 5, 5]), np.array([4, 4, 1, 1, 1])
    assert SELECTORS["swap"](s, o, 18).tolist() == [0, 1, 2, 3]
    assert dp_select(s, o, 18).tolist() == [2, 3, 4]


def test_longest_feasible_prefix_both_paths_agree_with_enumeration():
    rng = np.random.default_rng(5)
    for _ in range(80):
        n = int(rng.integers(1, 300))
        s = rng.integers(1, 6, n)
        o = rng.integers(1, 6, n)
        M = int(rng.integers(12, 400))
        order = rng.permutation(n)
        got = longest_feasible_prefix(s, o, M, order)
        m = 0
        while m < n and batch_peak(s[order[: m + 1]], o[order[: m + 1]]) <= M:
            m += 1
        assert len(got) == m
        base = got[: len(got) // 2]
        rest = np.setdiff1d(order, base)
        got2 = longest_feasible_prefix(s, o, M, rest, base=base)
        m2 = 0
        while m2 < len(rest) and batch_peak(s[np.r_[base, rest[: m2 + 1]]], o[np.r_[base, rest[: m2 + 1]]]) <= M:
            m2 += 1
        assert len(got2) == m2


def test_max_batch_size_bounds_every_batch():
    for k in range(50):
        s, o, M = selector_pool(800 + k, n_max=10)
        if not len(s):
            continue
        assert len(dp_select(s, o, M)) <= max_batch_size(s, o, M)
    # 200 requests (1, 1), M = 100: 2k <= 100
    assert max_batch_size(np.ones(200, int), np.ones(200, int), 100) == 50


def test_dp_session_reuse_gives_the_same_batches_as_fresh_dps():
    rng = np.random.default_rng(2)
    for _trial in range(6):
        n = 70
        s = rng.integers(1, 40, n)
        o = rng.integers(1, 30, n)
        M = 150
        scan = DPScan(M, every=8)
        with_reuse = batch_order(s, o, M, scan)
        fresh = batch_order(s, o, M, dp_select)
        assert [b.tolist() for b in with_reuse] == [b.tolist() for b in fresh]
        assert any(r0 > 0 for r0, _ in scan.restarts)  # the prefix was actually reused
        pooled = batch_order(s, o, M, DPScan(M, every=4), pool=20)
        pooled_fresh = batch_order(s, o, M, dp_select, pool=20)
        assert [b.tolist() for b in pooled] == [b.tolist() for b in pooled_fresh]


def test_dp_refuses_a_table_beyond_its_memory_cap(monkeypatch):
    monkeypatch.setattr(DPScan, "MAX_BYTES", 1000)
    s, o = np.ones(100, dtype=int), np.ones(100, dtype=int)
    with pytest.raises(ValueError, match="pool"):
        dp_select(s, o, 200)
