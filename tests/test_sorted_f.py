"""Sorted-F and largest batch first: hand-computed examples, placement against a naive
round-by-round reference, validation of every schedule, OPT from the exhaustive oracle,
and the SF lower-bound families."""

import math
from collections import defaultdict

import numpy as np
import pytest
from helpers import heuristic_instance, last_json, run_cli

from kvsched import heuristics
from kvsched.generators import sf_lower_bound
from kvsched.heuristics.engine import admission_schedule
from kvsched.heuristics.largest_batch import largest_batch_order
from kvsched.heuristics.selectors import SELECTORS
from kvsched.heuristics.sorted_f import RoundProfile, place, promise_order, sorted_f, sorted_f_order
from kvsched.instance import Instance
from kvsched.theory.families import sf_blocker_family
from kvsched.validator import validate

# the talk's two-batch example with numbers: batch 1 = one (s, o) = (22, 2), batch 2 =
# six (1, 3); M = 24, each batch alone fills M. o1/n1 = 2 > o2/n2 = 1/2, so batch 2 first:
# TCT = o2 n2 + (o2 + o1) n1 = 18 + 5 = 23; batch 1 first (what SF does, o1 < o2):
# o1 n1 + (o1 + o2) n2 = 2 + 30 = 32.
TWO_BATCH = Instance(24, (22,) + (1,) * 6, (2,) + (3,) * 6)


def _naive_place(inst, order, backfill=False):
    """Round-by-round reference: try p = lo, lo + 1, ... checking every round of the window."""
    mem = defaultdict(int)
    starts = [None] * inst.n
    prev = 0
    for i in order:
        s, o, a = inst.prompts[i], inst.outputs[i], inst.arrivals[i]
        p = a if backfill else max(a, prev)
        while any(mem[p + d] + s + d > inst.M for d in range(1, o + 1)):
            p += 1
        for d in range(1, o + 1):
            mem[p + d] += s + d
        starts[i] = prev = p
    return starts


def test_two_batch_example_prioritises_by_o_over_n():
    order = sorted_f_order(TWO_BATCH)
    assert [b.tolist() for b in order] == [[1, 2, 3, 4, 5, 6], [0]]
    res = heuristics.run("sorted-f", TWO_BATCH)
    assert res.objective == 6 * 3 + (3 + 2) * 1 == 23
    assert res.schedule.starts == [3, 0, 0, 0, 0, 0, 0]
    assert heuristics.run("mcsf", TWO_BATCH).objective == 1 * 2 + (2 + 3) * 6 == 32
    for sel in SELECTORS:
        assert heuristics.run("sorted-f", TWO_BATCH, selector=sel).objective == 23


def test_spec_worked_infeasible_example_is_avoided():
    # A (7, 3) at 0; B (1, 4) may not start at 1 (round 2: 9 + 2 = 11) nor 2 (round 3:
    # 10 + 2 = 12) although B's own completion round would hold only 5; p = 3 is free
    prof = RoundProfile(10, 4)
    prof.add(0, 7, 3)
    assert prof.earliest(1, 4, 1) == 3
    assert prof.earliest(1, 4, 0) == 3  # p = 0: round 2 holds 9 + 3 = 12
    assert prof.earliest(1, 1, 0) == 0  # o = 1: round 1 holds 8 + 2 = 10
    inst = Instance(10, (7, 1), (3, 4))
    sched = place(inst, [0, 1])
    assert sched.starts == [0, 3] and validate(inst, sched).feasible


def test_spec_worked_check_instance():
    # M = 6, s = 2, o = (1, 1, 2, 3): Sorted-F takes {0, 1} (F = 2/4) first, then {2}
    # (F = 2), then {3}: starts 0, 0, 1, 3 as H-SF: TCT 11
    inst = Instance(6, (2, 2, 2, 2), (1, 1, 2, 3))
    assert [b.tolist() for b in sorted_f_order(inst)] == [[0, 1], [2], [3]]
    assert heuristics.run("sorted-f", inst).objective == 11


@pytest.mark.parametrize("backfill", [False, True])
def test_placement_matches_naive_reference(backfill):
    rng = np.random.default_rng(7)
    for trial in range(25):
        inst = heuristic_instance(700 + trial, int(rng.integers(2, 25)), arrivals=trial % 2 == 1)
        order = rng.permutation(inst.n)
        sched = place(inst, order, backfill=backfill)
        assert sched.starts == _naive_place(inst, order, backfill)
        assert validate(inst, sched).feasible


def test_placement_matches_naive_reference_on_long_horizons():
    # long horizons exercise the chunked sliding-maximum search and the full-round cache
    rng = np.random.default_rng(17)
    for _trial in range(4):
        n, M = 120, 70
        s = rng.integers(1, 40, n)
        o = np.minimum(rng.integers(1, 60, n), M - s)
        inst = Instance(M, tuple(s.tolist()), tuple(o.tolist()), tuple(rng.integers(0, 300, n).tolist()))
        order = rng.permutation(n)
        for backfill in (False, True):
            assert place(inst, order, backfill=backfill).starts == _naive_place(inst, order, backfill)


def test_every_sorted_f_schedule_validates():
    rng = np.random.default_rng(42)
    for trial in range(12):
        inst = heuristic_instance(4200 + trial, int(rng.integers(3, 40)), arrivals=trial % 3 == 0)
        for sel in SELECTORS:
            for backfill in (False, True):
                res = heuristics.run("sorted-f", inst, selector=sel, backfill=backfill)  # finish validates
                assert res.report.feasible and res.objective >= sum(inst.outputs)
        res = heuristics.run("sorted-f", inst, pool=5)
        assert res.report.feasible
        assert heuristics.run("largest-batch", inst).report.feasible


def test_sorted_f_order_is_a_partition_into_batches_by_ascending_o():
    inst = heuristic_instance(9, 60)
    for sel in SELECTORS:
        order = sorted_f_order(inst, selector=sel)
        flat = np.concatenate(order)
        assert sorted(flat.tolist()) == list(range(inst.n))
        for X in order:
            assert (np.diff(inst.o[X]) >= 0).all()


def test_pool_of_one_is_the_promise_order():
    inst = heuristic_instance(1, 30)
    order = np.concatenate(sorted_f_order(inst, pool=1))
    assert order.tolist() == promise_order(inst.s, inst.o).tolist()
    key = inst.o * (inst.s + inst.o)
    assert (np.diff(key[order]) >= 0).all()


def test_bad_parameters():
    with pytest.raises(ValueError, match="unknown selector"):
        sorted_f(TWO_BATCH, selector="nope")
    with pytest.raises(ValueError, match="pool"):
        sorted_f(TWO_BATCH, pool=0)
    with pytest.raises(ValueError, match="epsilon"):
        sorted_f(TWO_BATCH, selector="scaled-dp", epsilon=0)


def test_largest_batch_first_packs_by_ascending_size():
    # sizes s + o: 4 (x3), 6, 10; M = 14. Three (2, 2): 12 <= 14; adding (3, 3) makes the
    # (2, 2) constraint 6 + 3 + 4 * 2 = 17 > 14. Then (3, 3) + (1, 9): the (3, 3)
    # constraint is 3 + 1 + 2 * 3 = 10, the (1, 9) one 1 + 9 = 10: both fit
    inst = Instance(14, (2, 2, 2, 3, 1), (2, 2, 2, 3, 9))
    assert [b.tolist() for b in largest_batch_order(inst)] == [[0, 1, 2], [3, 4]]
    assert heuristics.run("largest-batch", inst).report.feasible


def test_sorted_f_is_never_below_opt():
    from kvsched.generators import tiny
    from kvsched.models import solve

    checked = 0
    for seed in range(8):
        inst = tiny(5, seed=seed)
        opt = solve("brute", inst, time_limit=20)
        if opt.status != "optimal":
            continue
        for sel in ("dp", "quantile"):
            sf = heuristics.run("sorted-f", inst, selector=sel).objective
            assert sf >= opt.objective
        checked += 1
    assert checked >= 6


def test_seed_sf_family_ratio_is_small():
    """The talk's family (docs/model.md §7.2): SF / Sorted-F is 1.21 and 1.27 at M = 100, 400,
    far below the slide's (2/13) sqrt(M) = 1.54, 3.08. The reference 1.10, 1.21 is SF
    against "type 2 first" (the slide's algorithm A); Sorted-F does better than A because
    its batches mix type-1 requests (o = 1) into the type-2 batches."""
    o_of = lambda inst: inst.outputs  # noqa: E731
    expect = {100: (41860, 34622, 37907), 400: (653420, 515687, 541517)}
    for M, (sf_tct, sorted_tct, a_tct) in expect.items():
        inst = sf_lower_bound(M=M)
        o = o_of(inst)
        assert heuristics.run("mcsf", inst).objective == sf_tct
        assert heuristics.run("sorted-f", inst, selector="quantile").objective == sorted_tct
        type2_first = admission_schedule(inst, lambda i: (-o[i], i))  # noqa: B023 (called in this iteration)
        assert validate(inst, type2_first).tct == a_tct
    assert heuristics.run("sorted-f", sf_lower_bound(M=100), selector="dp").objective == 34622
    assert round(41860 / 34622, 3) == 1.209 and round(653420 / 515687, 3) == 1.267
    assert round(41860 / 37907, 2) == 1.10 and round(653420 / 541517, 2) == 1.21


@pytest.mark.slow
def test_seed_sf_family_ratio_at_1600():
    inst = sf_lower_bound(M=1600)
    assert heuristics.run("mcsf", inst).objective == 10341640
    assert heuristics.run("sorted-f", inst, selector="quantile").objective == 7945682  # ratio 1.302


def test_blockers_family_ratio_grows_like_sqrt_m():
    """kvsched.theory.families.sf_blocker_family: SF / Sorted-F = 1.34, 2.30, 4.12, 7.71 at M = 16, 64,
    256, 1024: it doubles when M quadruples, ~ 0.24 sqrt(M)."""
    expect = {16: (142, 106), 64: (808, 352), 256: (5260, 1276), 1024: (37396, 4852)}
    ratios = []
    for M, (sf_tct, sorted_tct) in expect.items():
        inst = sf_blocker_family(M, small=M)
        assert inst.n == M + math.isqrt(M)
        assert heuristics.run("mcsf", inst).objective == sf_tct
        sel = "dp" if M <= 256 else "quantile"
        assert heuristics.run("sorted-f", inst, selector=sel).objective == sorted_tct
        # SF runs the sqrt(M) blockers first: every small request waits sqrt(M) rounds
        assert sf_tct >= math.isqrt(M) * M
        ratios.append(sf_tct / sorted_tct)
    for M, r in zip(expect, ratios):
        assert 0.24 <= r / math.sqrt(M) <= 0.34
    for r1, r2 in zip(ratios, ratios[1:]):
        assert r2 / r1 >= 1.7


def test_cli_run_sorted_f_json(write_json):
    path = write_json(TWO_BATCH.to_dict())
    cp = run_cli("run", "sorted-f", path, "--json")
    assert cp.returncode == 0, cp.stderr
    out = last_json(cp.stdout)
    assert out["objective"] == 23 and out["starts"] == [3, 0, 0, 0, 0, 0, 0]


def test_cli_batches(write_json):
    path = write_json(TWO_BATCH.to_dict())
    cp = run_cli("batches", path, "--selector", "swap", "--json")
    assert cp.returncode == 0, cp.stderr
    out = last_json(cp.stdout)
    assert out["batches"] == [[1, 2, 3, 4, 5, 6], [0]] and out["F"] == [0.5, 2.0]
    assert out["objective"] == 23 and out["status"] in ("feasible", "optimal")
    cp = run_cli("batches", path, "--largest", "--json")
    assert cp.returncode == 0 and last_json(cp.stdout)["objective"] == 23
    cp = run_cli("batches", path, "--pool", "0")
    assert cp.returncode == 2 and "Traceback" not in cp.stderr
