"""Time-indexed MILP and LP (models.milp, models.lp, models.timeindexed): known optima,
exhaustive cross-checks, the MIP start, bounds, optimality windows, aggregation, core rows
and the nonzero budget (per-solver window cut, time limit, warm start and both libraries in one
process: tests/test_exact_agreement.py)."""

from __future__ import annotations

import functools
import random

import pytest
from helpers import HARD10, WORKED, small_instance

from kvsched import models
from kvsched.bounds import lower_bound
from kvsched.generators import random_family
from kvsched.heuristics import best_of, run
from kvsched.instance import Instance
from kvsched.models.milp import run_highs, upper_bound
from kvsched.models.structure import RequestClass, core_families, request_classes
from kvsched.models.timeindexed import build_model, class_counts, disaggregate, optimality_windows
from kvsched.models.windows import start_windows
from kvsched.validator import validate

# the solvers return raw results; ``models.solve`` validates them (once): tests go through it
solve_lp = functools.partial(models.solve, "lp")
solve_milp = functools.partial(models.solve, "milp")


def exhaustive_optimum(inst: Instance) -> int:
    """Least TEL by depth-first search over start rounds (memory profile checked round by
    round, partial TEL pruned); independent of the model code."""
    n, M = inst.n, inst.M
    s, o, a = inst.prompts, inst.outputs, inst.arrivals
    horizon = max(a) + 2 * sum(o) + 1
    mem = [0] * (horizon + max(o) + 2)
    best = [sum(o) * n + max(a) * n + horizon * n]  # loose initial value

    def place(i: int, tel: int) -> None:
        if i == n:
            best[0] = min(best[0], tel)
            return
        rest = sum(o[i + 1:])
        for p in range(a[i], horizon):
            lat = p + o[i] - a[i]
            if tel + lat + rest >= best[0]:
                break
            rounds = range(p + 1, p + o[i] + 1)
            if all(mem[t] + s[i] + t - p <= M for t in rounds):
                for t in rounds:
                    mem[t] += s[i] + t - p
                place(i + 1, tel + lat)
                for t in rounds:
                    mem[t] -= s[i] + t - p

    place(0, 0)
    return best[0]


#: two 7-request instances where the MILP beats both heuristics: (instance, optimum, mcsf, fcfs)
BEATS_BOTH = [
    (Instance(40, (3, 4, 7, 9, 8, 1, 4), (11, 5, 4, 10, 4, 1, 1)), 40, 44, 53),
    (Instance(40, (11, 3, 11, 7, 1, 3, 6), (4, 4, 8, 11, 8, 2, 5)), 50, 57, 62),
]


def test_spec_worked_instance_optimum():
    # by hand: any two running requests in one round hold >= 3 + 3 = 6 = M, so a round is
    # shared only by two age-1 requests; o=2 and o=3 need their later rounds alone, which
    # gives TCT 11 (H-SF's value) as the optimum; the enumeration confirms it
    assert exhaustive_optimum(WORKED) == 11
    res = solve_milp(WORKED, time_limit=30)
    assert res.status == "optimal" and res.objective == 11
    assert res.report.feasible and res.report.tct == 11
    assert res.solver == "milp" and res.solver_version.startswith("highspy ")
    lp = solve_lp(WORKED, time_limit=30)
    assert lp.bound <= 11 + 1e-6 and lp.objective == 11


@pytest.mark.parametrize("seed", range(8))
def test_milp_equals_exhaustive(seed):
    inst = small_instance(100 + seed, n=4 + seed % 2)
    res = solve_milp(inst, time_limit=30)
    assert res.status == "optimal"
    assert res.objective == exhaustive_optimum(inst)
    assert validate(inst, res.schedule).objective == res.objective


def test_mip_start_is_what_highs_reports_when_time_runs_out():
    ub_sched, ub, source = upper_bound(HARD10)
    assert (ub, source) == (131, "fcfs")
    model = build_model(HARD10, start_windows(HARD10, ub))
    start = class_counts(model.classes, ub_sched.starts)
    with_start = run_highs(model, start, time_limit=0.0)
    assert with_start.start_accepted is True and "MIP start solution is feasible" in with_start.log
    assert with_start.time_limit_hit and with_start.incumbent == pytest.approx(131)
    without = run_highs(build_model(HARD10, start_windows(HARD10, ub)), None, time_limit=0.0)
    assert without.start_accepted is None and without.incumbent is None
    res = solve_milp(HARD10, time_limit=0.0)
    assert res.status == "time-limit" and res.objective == 131 and "MIP start accepted" in res.message


@pytest.mark.parametrize("inst, optimum, mcsf, fcfs", BEATS_BOTH)
def test_milp_beats_both_heuristics(inst, optimum, mcsf, fcfs):
    assert (run("mcsf", inst).objective, run("fcfs", inst).objective) == (mcsf, fcfs)
    assert exhaustive_optimum(inst) == optimum
    res = solve_milp(inst, time_limit=30)
    assert res.status == "optimal" and res.objective == optimum


@pytest.mark.parametrize("seed", range(20))
def test_lp_bound_below_optimum_below_mcsf(seed):
    inst = random_family(3 + seed % 4, seed=seed)
    milp = solve_milp(inst, time_limit=30)
    lp = solve_lp(inst, time_limit=30)
    mcsf = run("mcsf", inst)
    assert milp.status == "optimal"
    assert lp.bound <= milp.objective + 1e-6
    assert milp.objective <= mcsf.objective
    assert milp.bound <= milp.objective + 1e-6
    assert lp.objective == best_of(inst).objective and lp.report.feasible


def test_optimality_windows_by_hand():
    # worked instance (docs/model.md §1.8), UB 11: the UB cut alone gives p <= 11 - 7 = 4; the volume cut gives
    # p_i <= 11 - o_i - LB(others) with sorted-volume LB(others) = 7, 7, 5, 5 (o = 1, 1, 2, 3);
    # no idle round: p_i <= 7 - o_i
    assert optimality_windows(WORKED, 11) == [(0, 3), (0, 3), (0, 4), (0, 3)]
    # with arrivals only the trivial bound applies; no idle round after max a = 5: p_i <= 12 - o_i
    late = Instance(6, (2, 2, 2, 2), (1, 1, 2, 3), (0, 0, 5, 0))
    assert optimality_windows(late, 30) == [(0, 11), (0, 11), (5, 10), (0, 9)]


def test_disaggregate_assigns_class_starts_to_members():
    classes = [RequestClass(2, 3, 0, (0, 4), (0, 2, 5)), RequestClass(1, 1, 0, (0, 4), (1,))]
    starts = disaggregate(classes, {(0, 0): 1.0, (0, 3): 1.9999999, (1, 4): 1.0}, 6)
    assert starts == [0, 4, 3, None, None, 3]
    with pytest.raises(ValueError):
        disaggregate(classes, {(0, 0): 1.0}, 6)


def test_aggregated_model_is_smaller_same_optimum_and_lp_bound():
    rng = random.Random(7)
    inst = Instance(20, (2,) * 9, tuple(rng.choice((1, 2, 4)) for _ in range(9)))
    classes = request_classes(inst, start_windows(inst, 1000))
    assert len(classes) == 3 and sorted(c.size for c in classes) == sorted(
        inst.outputs.count(v) for v in (1, 2, 4))
    agg = solve_milp(inst, time_limit=30, aggregate=True)
    per_request = solve_milp(inst, time_limit=30, aggregate=False)
    assert agg.status == per_request.status == "optimal"
    assert agg.objective == per_request.objective and agg.report.feasible
    assert agg.params["columns"] * 3 == per_request.params["columns"]
    lp_agg, lp_req = solve_lp(inst, aggregate=True), solve_lp(inst, aggregate=False)
    assert lp_agg.bound == pytest.approx(lp_req.bound, abs=1e-6)


def test_core_rows_are_valid_and_never_weaken_the_lp():
    # one prompt size: the regime the core inequalities are made for
    inst = Instance(30, (3,) * 7, (20, 15, 12, 9, 5, 3, 2))
    classes = request_classes(inst, start_windows(inst, 1000))
    # L = all 7 requests (o* = 2), k = 1: h = max(0, 30 - 3 - 2 - 3) = 22 >= max o: dropped;
    # k = 2: h = floor(25 / 2) - 3 = 9 is kept
    assert (tuple(range(7)), 2, 9) in core_families(classes, inst.M)
    plain, core = solve_milp(inst, time_limit=30, core=False), solve_milp(inst, time_limit=30, core=True)
    assert plain.status == core.status == "optimal" and plain.objective == core.objective
    lp, lp_all, lp_sep = solve_lp(inst, core=False), solve_lp(inst, core=True), solve_lp(inst, core="separate")
    # the core rows bite here (LP values measured: 80.25 without, 80.75 with; optimum 84)
    assert lp.bound == pytest.approx(80.25, abs=1e-6) and lp_all.bound == pytest.approx(80.75, abs=1e-6)
    # the cut loop reaches the all-rows bound with a fraction of the rows
    assert lp_sep.bound == pytest.approx(lp_all.bound, abs=1e-6)
    assert 0 < lp_sep.params["core_rows"] < lp_all.params["core_rows"] / 5
    assert plain.objective == 84


def test_model_above_nonzero_budget_is_not_built():
    res = solve_milp(HARD10, max_nonzeros=100)
    assert res.status == "error" and "max_nonzeros" in res.message
    assert res.objective == 131 and res.report.feasible  # the heuristic incumbent
    lp = solve_lp(HARD10, max_nonzeros=100)
    assert lp.status == "error" and lp.bound == lower_bound(HARD10)


@pytest.mark.parametrize("seed", range(4))
def test_core_rows_keep_the_optimum_with_mixed_prompts(seed):
    inst = random_family(5, seed=400 + seed, M=14, s_max=6, o_max=6)
    optimum = exhaustive_optimum(inst)
    res = solve_milp(inst, time_limit=30, core=True)
    assert res.status == "optimal" and res.objective == optimum
    assert res.params["core_rows"] > 0 and res.params["rows"] > solve_lp(inst, core=False).params["rows"]
    sep = solve_milp(inst, time_limit=30, core="separate")
    assert sep.status == "optimal" and sep.objective == optimum
