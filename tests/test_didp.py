"""The DyPDL model of the exact search solved by didppy (``models/search/didp.py``) against
the numba search and the exhaustive oracle; skipped when the optional extra is not installed."""

import pytest

pytest.importorskip("didppy")

from kvsched import Instance, models, validate  # noqa: E402
from kvsched.generators import FAMILIES  # noqa: E402
from kvsched.models.search.didp import solve_didp  # noqa: E402
from kvsched.result import finish  # noqa: E402

LIMIT = 60.0

CASES = ([("random", n, s) for n in (6, 7) for s in range(5)]
         + [("tiny", n, s) for n in (5, 6, 7) for s in range(4)]
         + [("random", n, s) for n in (8, 9) for s in range(3)])


def check(inst, res):
    assert res.schedule is not None and validate(inst, res.schedule).objective == res.objective
    assert res.bound is not None and res.bound <= res.objective


def test_hand_computed_pair():
    # M = 10, two requests (s = 4, o = 2) cannot overlap: starts 0 and 2, TCT = 2 + 4 = 6
    inst = Instance(10, (4, 4), (2, 2))
    for solver in ("CAASDy", "CABS"):
        res = finish(solve_didp(inst, solver=solver, primal_bound=False), inst)
        assert res.status == "optimal" and res.objective == 6 and sorted(res.schedule.starts) == [0, 2]


@pytest.mark.parametrize("family,n,seed", CASES)
def test_agrees_with_search_and_brute(family, n, seed):
    inst = FAMILIES[family](n=n, seed=seed)
    opt = models.solve("search", inst, time_limit=LIMIT)
    assert opt.status == "optimal"
    if n <= 7:
        assert models.solve("brute", inst, time_limit=LIMIT).objective == opt.objective
    for bound in ("fluid", "full"):
        # without the warm start as primal bound didppy finds the optimum itself, so the
        # schedule is always read back from its transitions
        res = finish(solve_didp(inst, time_limit=LIMIT, bound=bound, primal_bound=False), inst)
        check(inst, res)
        assert res.status == "optimal" and res.objective == opt.objective
    for solver in ("CAASDy", "CABS"):
        res = models.solve("didp", inst, time_limit=LIMIT, solver=solver)
        check(inst, res)
        assert res.status == "optimal" and res.objective == opt.objective


def test_simple_bound_agrees():
    inst = FAMILIES["random"](n=7, seed=3)
    opt = models.solve("search", inst, time_limit=LIMIT).objective
    res = finish(solve_didp(inst, bound="simple", primal_bound=False), inst)
    check(inst, res)
    assert res.status == "optimal" and res.objective == opt


@pytest.mark.parametrize("didp_solver", ["CAASDy", "CABS"])
def test_time_limit_keeps_a_valid_bound(didp_solver):
    inst = FAMILIES["random"](n=16, seed=0)
    opt = models.solve("search", inst, time_limit=LIMIT)
    res = models.solve("didp", inst, time_limit=0.3, solver=didp_solver)
    check(inst, res)
    if opt.status == "optimal":
        assert res.bound <= opt.objective <= res.objective
    assert res.status in ("optimal", "time-limit")


def test_rejects_arrivals_and_bad_options():
    with pytest.raises(ValueError, match="arrivals"):
        solve_didp(Instance(10, (2, 2), (5, 1), (0, 1)))
    with pytest.raises(ValueError, match="solver"):
        solve_didp(Instance(10, (4, 4), (2, 2)), solver="DFBB")
    with pytest.raises(ValueError, match="bound"):
        solve_didp(Instance(10, (4, 4), (2, 2)), bound="lagrangian")
