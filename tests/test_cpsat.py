"""CP-SAT model: agreement with the exhaustive oracle per formulation and variant, hint,
symmetry, validity of cuts (time limit and warm start: tests/test_exact_agreement.py)."""

import functools

import pytest
from helpers import agreement_instance

from kvsched import Instance, Schedule, models
from kvsched.bounds import lower_bound
from kvsched.generators import jaillet, random_family
from kvsched.heuristics import best_of
from kvsched.heuristics.baselines import fcfs
from kvsched.models.cpsat import add_hint, build_model
from kvsched.models.structure import core_families, request_classes
from kvsched.models.windows import start_windows
from kvsched.validator import validate

# the solvers return raw results; ``models.solve`` validates them (once): tests go through it
solve_brute = functools.partial(models.solve, "brute")
solve_cpsat = functools.partial(models.solve, "cpsat")


@pytest.mark.parametrize("formulation", ["unit", "staircase"])
@pytest.mark.parametrize("seed", range(50))
def test_agrees_with_brute_force(seed, formulation, optima):
    inst = agreement_instance(seed)
    res = solve_cpsat(inst, time_limit=20, formulation=formulation)
    assert optima[seed].status == "optimal"
    assert res.status == "optimal", res.message
    assert res.objective == optima[seed].objective
    assert res.bound <= res.objective
    rep = validate(inst, res.schedule)
    assert rep.feasible and rep.objective == res.objective
    assert (res.solver, res.threads, res.seed) == ("cpsat", 2, 0)
    assert res.params["time_indexed"] is True  # small windows: the layer is on
    assert res.solver_version.startswith("ortools 9.")


def test_agreement_set_is_not_vacuous(optima):
    # memory binds (optimum above sum o) on most instances; the warm start is beaten on some
    insts = [agreement_instance(s) for s in range(50)]
    binding = sum(optima[s].objective > sum(insts[s].outputs) for s in range(50))
    beaten = sum(optima[s].objective < best_of(insts[s]).objective for s in range(50))
    assert binding >= 30 and beaten >= 5


@pytest.mark.parametrize("seed", range(6))
def test_variants_agree(seed, optima):
    """Without the time-indexed layer, with core cuts, and with uncut windows."""
    inst = agreement_instance(seed)
    for opts in ({"time_indexed": False}, {"core": True}, {"window_cut": False}, {"symmetry": False},
                 {"portfolio": "prove"}, {"portfolio": "prove", "threads": 1}):
        res = solve_cpsat(inst, time_limit=20, **opts)
        assert (res.status, res.objective) == ("optimal", optima[seed].objective), opts


def test_hint_is_the_warm_start_and_satisfies_the_model():
    from ortools.sat.python import cp_model

    inst = random_family(10, seed=1)
    warm = best_of(inst)
    windows = start_windows(inst, warm.objective)
    model, starts, x = build_model(inst, windows, "unit", True, False, True, lower_bound(inst), warm.objective)
    add_hint(model, inst, starts, x, warm.schedule, True)
    hint = model.proto.solution_hint
    by_var = dict(zip(hint.vars, hint.values))
    assert [by_var[p.index] for p in starts] == warm.schedule.starts  # no identical requests here
    assert all(by_var[v.index] == (t == warm.schedule.starts[i]) for (i, t), v in x.items())
    solver = cp_model.CpSolver()
    solver.parameters.fix_variables_to_their_hinted_value = True
    solver.parameters.num_workers = 1
    assert solver.solve(model) == cp_model.OPTIMAL  # the complete hint is a solution
    assert solver.objective_value == warm.objective


def test_hint_is_sorted_within_identical_requests():
    from ortools.sat.python import cp_model

    inst = Instance(10, (5, 5, 5), (5, 5, 5))
    order = [10, 0, 5]  # a feasible schedule listing the identical requests out of order
    sched = Schedule.from_starts(inst, order)
    windows = start_windows(inst, validate(inst, sched).objective)
    model, starts, x = build_model(inst, windows, "staircase", True, False, True, 0, validate(inst, sched).objective)
    add_hint(model, inst, starts, x, sched, True)
    solver = cp_model.CpSolver()
    solver.parameters.fix_variables_to_their_hinted_value = True
    solver.parameters.num_workers = 1
    assert solver.solve(model) == cp_model.OPTIMAL
    assert [solver.value(p) for p in starts] == [0, 5, 10]


def test_symmetric_requests_start_in_index_order():
    inst = Instance(20, (4, 9, 4, 4, 9), (6, 3, 6, 6, 3))
    res = solve_cpsat(inst, time_limit=20)
    assert res.objective == solve_brute(inst).objective
    p = res.schedule.starts
    assert p[0] <= p[2] <= p[3] and p[1] <= p[4]


def test_unknown_formulation_is_rejected():
    with pytest.raises(ValueError, match="formulation"):
        solve_cpsat(random_family(3, seed=0), formulation="steps")
    with pytest.raises(ValueError, match="portfolio"):
        solve_cpsat(random_family(3, seed=0), portfolio="fast")


def request_core_families(inst):
    """The CP-SAT model's core families: one class per request (class index = request
    index), thresholds on o only."""
    return core_families(request_classes(inst, start_windows(inst, 10**6), aggregate=False), inst.M,
                         prompt_thresholds=False)


def holds_core_families(inst, starts):
    """Every core family: at every round at most k members are older than h."""
    for members, k, h in request_core_families(inst):
        for tau in range(max(starts) + max(inst.outputs) + 2):
            old = sum(1 for j in members if starts[j] + h < tau <= starts[j] + inst.outputs[j])
            if old > k:
                return False
    return True


@pytest.mark.parametrize("seed", range(8))
def test_core_families_hold_on_feasible_schedules(seed):
    # one common s (the families' home ground) and heterogeneous s (often no family at all)
    common, mixed = jaillet(7, seed=seed), agreement_instance(seed)
    assert request_core_families(common), "the check needs at least one family"
    schedules = {
        common: [solve_cpsat(common, time_limit=1).schedule, best_of(common).schedule, fcfs(common)],
        mixed: [solve_brute(mixed).schedule, best_of(mixed).schedule, fcfs(mixed)],
    }
    for inst, scheds in schedules.items():
        for sched in scheds:
            assert holds_core_families(inst, sched.starts)


def test_core_family_cuts_an_infeasible_pair():
    # M = 10, s = 2: two o = 4 requests cannot both be older than h = (10-2-4)//1 - 2 = 2
    inst = Instance(10, (2, 2), (4, 4))
    assert ((0, 1), 1, 2) in request_core_families(inst)  # (members, k, h)
    assert not validate(inst, Schedule.from_starts(inst, [0, 1])).feasible
    assert not holds_core_families(inst, [0, 1])
    assert holds_core_families(inst, [0, 4])


def test_registry_runs_both_exact_solvers():
    inst = random_family(5, seed=3)
    assert models.solve("cpsat", inst, time_limit=10).objective == models.solve("brute", inst).objective
