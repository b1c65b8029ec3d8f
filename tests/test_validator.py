"""The independent validator against hand-computed memory profiles."""

import numpy as np
import pytest

from kvsched import Instance, Schedule, validate
from kvsched.generators import random_family
from kvsched.validator import memory_profile


def test_worked_check_hsf_schedule(worked):
    rep = validate(worked, Schedule.from_starts(worked, [0, 0, 1, 3]))
    assert rep.feasible
    assert (rep.tct, rep.objective, rep.makespan, rep.peak_memory) == (11, 11, 6, 6)
    assert rep.avg_latency == pytest.approx(11 / 4)


def test_worked_infeasible_two_requests():
    # docs/model.md §1.3: A (s=7, o=3) at 0 and B (s=1, o=4) at 1 with M = 10: round 2 holds 9 + 2 = 11.
    inst = Instance(10, (7, 1), (3, 4))
    rep = validate(inst, Schedule.from_starts(inst, [0, 1]))
    assert not rep.feasible
    assert (rep.violation.round, rep.violation.memory, rep.violation.holders) == (2, 11, (0, 1))
    # by hand: rounds 1..5 hold 8, 11, 13, 4, 5
    assert memory_profile(inst, Schedule.from_starts(inst, [0, 1])).tolist() == [0, 8, 11, 13, 4, 5]
    assert rep.peak_memory == 13


def test_profile_with_cancelled_run():
    # request 0: s=3, o=4: run (0, 2) cancelled, then (3, 7); request 1: s=1, o=2 at 2.
    inst = Instance(9, (3, 1), (4, 2))
    sched = Schedule((((0, 2), (3, 7)), ((2, 4),)))
    # rounds: 1: 4, 2: 5, 3: 0 + (1+1)=2, 4: (3+1) + (1+2) = 7, 5: 5, 6: 6, 7: 7
    assert memory_profile(inst, sched).tolist() == [0, 4, 5, 2, 7, 5, 6, 7]
    rep = validate(inst, sched)
    assert rep.feasible and rep.cancelled_runs == 1 and rep.wasted_tokens == 2
    assert (rep.tct, rep.peak_memory, rep.makespan) == (11, 7, 7)
    tight = Instance(6, (3, 1), (3, 2))
    bad = validate(tight, Schedule((((0, 1), (2, 5)), ((2, 4),))))
    # round 3: (3+1) + (1+1) = 6 ok; round 4: (3+2) + (1+2) = 8 > 6
    assert not bad.feasible and bad.violation.round == 4 and bad.violation.memory == 8


@pytest.mark.parametrize("runs, message", [
    ((((0, 3),), ((0, 4),)), "request 0: last run (0, 3) must end at p + o = 2"),
    ((((0, 2),), ((0, 4), (4, 8))), "request 1: cancelled run 0 (0, 4) must satisfy"),
    ((((0, 2),), ((1, 2), (1, 5))), "request 1: run 1 starts at round 1 before run 0 ends at 2"),
])
def test_structural_errors(runs, message):
    inst = Instance(20, (1, 1), (2, 4))
    rep = validate(inst, Schedule(runs))
    assert not rep.feasible and message in rep.message


def test_start_before_arrival():
    inst = Instance(20, (1, 1), (2, 4), arrivals=(0, 3))
    rep = validate(inst, Schedule.from_starts(inst, [0, 2]))
    assert not rep.feasible and "request 1: run 0 starts at round 2 before its arrival 3" in rep.message
    ok = validate(inst, Schedule.from_starts(inst, [0, 3]))
    assert ok.feasible and ok.tct == 2 + 7 and ok.objective == 2 + 4


def test_vectorised_profile_matches_definition():
    rng = np.random.default_rng(5)
    for k in range(50):
        inst = random_family(int(rng.integers(1, 8)), seed=500 + k, M=1000, s_max=5, o_max=5)
        n, s, o = inst.n, inst.s, inst.o
        sched = Schedule.from_starts(inst, list(rng.integers(0, 8, n)))
        prof = memory_profile(inst, sched)
        rep = validate(inst, sched)
        assert rep.peak_memory == prof.max()
        small = Instance(int(prof.max()) - 1 if prof.max() - 1 >= (s + o).max() else 1000, tuple(s), tuple(o))
        if small.M < prof.max():
            r2 = validate(small, sched)
            assert not r2.feasible
            assert r2.violation.round == int(np.argmax(prof > small.M))


def test_first_violation_and_memory_match_dense_profile_with_cancellations():
    rng = np.random.default_rng(11)
    checked = 0
    for _ in range(300):
        n = int(rng.integers(1, 6))
        s, o = rng.integers(1, 5, n), rng.integers(1, 6, n)
        runs = []
        for i in range(n):
            p0 = int(rng.integers(0, 6))
            if rng.random() < 0.4:  # one cancelled run first
                cut = p0 + int(rng.integers(1, o[i])) if o[i] > 1 else p0 + 1
                if cut < p0 + o[i]:
                    p1 = cut + int(rng.integers(0, 3))
                    runs.append(((p0, cut), (p1, p1 + int(o[i]))))
                    continue
            runs.append(((p0, p0 + int(o[i])),))
        sched = Schedule(tuple(runs))
        M = int((s + o).max()) + int(rng.integers(0, 8))
        inst = Instance(M, tuple(s), tuple(o))
        prof = memory_profile(inst, sched)
        rep = validate(inst, sched)
        assert rep.peak_memory == prof.max()
        if (prof > M).any():
            t = int(np.argmax(prof > M))
            assert (rep.violation.round, rep.violation.memory) == (t, int(prof[t]))
            checked += 1
        else:
            assert rep.feasible
    assert checked > 50


def test_far_rounds_cost_nothing():
    inst = Instance(6, (2, 2, 2, 2), (1, 1, 2, 3))
    rep = validate(inst, Schedule.from_starts(inst, [0, 0, 1, 10**12]))
    assert rep.feasible and rep.tct == 1 + 1 + 3 + 10**12 + 3 and rep.peak_memory == 6


def test_out_of_range_rounds_rejected():
    from kvsched import ScheduleError

    inst = Instance(6, (2,), (1,))
    with pytest.raises(ScheduleError, match=r"request 0: field 'starts' = 1000000000000000000000000000000 is out of range"):
        Schedule.from_starts(inst, [10**30])
