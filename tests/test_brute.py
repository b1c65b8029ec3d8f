"""The exhaustive oracle: hand-computed optima and agreement with plain enumeration."""

import functools
import itertools

import pytest
from helpers import small_instance

from kvsched import Instance, models
from kvsched.bounds import lower_bound
from kvsched.generators import random_family
from kvsched.heuristics import best_of
from kvsched.models.windows import start_windows
from kvsched.validator import validate

# the solvers return raw results; ``models.solve`` validates them (once): tests go through it
solve_brute = functools.partial(models.solve, "brute")


def test_spec_worked_instance_optimum_is_11(worked):
    # By hand: the o=3 request can share only its first round (3 tokens) with an o=1
    # request; the o=2 request's second round (4 tokens) is shared with nobody; so rounds
    # D1, D2, D3, C1, C2 are distinct, the makespan is >= 5 and every order of them gives
    # TCT >= 11, which H-SF's starts (0, 0, 1, 3) attain.
    res = solve_brute(worked)
    assert res.status == "optimal"
    assert res.objective == 11 and res.bound == 11
    assert validate(worked, res.schedule).tct == 11


def test_optimum_delays_a_request_that_fits_now():
    # A (s=3, o=4, a=0) holds 4..7, B (s=6, o=1, a=1) holds 7: they never share a round.
    # Greedy starts A at 0 (C_A = 4) and B at 4 (latency 4): TEL 8. Waiting with A for B
    # (B in round 2, A in rounds 3..6): TEL 6 + 1 = 7, the unique optimum.
    inst = Instance(10, (3, 6), (4, 1), (0, 1))
    assert best_of(inst).objective == 8
    res = solve_brute(inst)
    assert res.status == "optimal"
    assert res.objective == 7
    assert res.schedule.starts == [2, 1]


def test_identical_requests_alone_at_a_time():
    # Three copies of s=5, o=5 with M=10: at most one at a time, completions 5, 10, 15.
    inst = Instance(10, (5, 5, 5), (5, 5, 5))
    res = solve_brute(inst)
    assert res.objective == 30 and res.status == "optimal"


def enumerate_optimum(inst):
    """Plain enumeration of every start vector in the cut windows (no pruning)."""
    ub = best_of(inst).objective
    windows = start_windows(inst, ub)
    s, o, a = inst.prompts, inst.outputs, inst.arrivals
    best = None
    for starts in itertools.product(*[range(lo, hi + 1) for lo, hi in windows]):
        memory = {}
        for p, si, oi in zip(starts, s, o):
            for k in range(1, oi + 1):
                memory[p + k] = memory.get(p + k, 0) + si + k
        if max(memory.values()) <= inst.M:
            tel = sum(p + oi - ai for p, oi, ai in zip(starts, o, a))
            best = tel if best is None else min(best, tel)
    return best


@pytest.mark.parametrize("seed", range(30))
def test_agrees_with_plain_enumeration(seed):
    inst = small_instance(seed)
    res = solve_brute(inst)
    assert res.status == "optimal"
    assert res.objective == enumerate_optimum(inst)
    assert validate(inst, res.schedule).feasible


def test_plain_enumeration_sees_heuristic_suboptimality():
    # the cross-check above is not vacuous: on 5 of the 30 instances the best heuristic loses
    # (the Poisson-arrival ones drawn with kvsched.generators.poisson_arrivals)
    instances = [small_instance(seed) for seed in range(30)]
    worse = [seed for seed, inst in enumerate(instances) if enumerate_optimum(inst) < best_of(inst).objective]
    assert worse == [5, 8, 14, 17, 29]


def test_refuses_more_than_seven_requests():
    with pytest.raises(ValueError, match="n = 8"):
        solve_brute(random_family(8, seed=0))


def test_time_limit_returns_a_validated_incumbent():
    inst = random_family(7, seed=9)  # about 33,000 nodes
    full = solve_brute(inst)
    cut = solve_brute(inst, time_limit=0.0)
    assert cut.status == "time-limit"
    assert cut.bound == lower_bound(inst) <= full.objective <= cut.objective
    assert validate(inst, cut.schedule).feasible


def test_ub_schedule_is_the_incumbent_to_beat():
    inst = random_family(6, seed=4, rate=0.5)
    opt = solve_brute(inst)
    again = solve_brute(inst, ub_schedule=opt.schedule)
    assert again.objective == opt.objective and again.status == "optimal"
