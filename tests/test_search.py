"""The state-space search (docs/model.md, "Exact search") against the exhaustive oracle,
CP-SAT, the MILP and known optima; its anytime bound; the CLI contract."""

import numpy as np
import pytest
from helpers import last_json, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvsched import Instance, models, validate
from kvsched.generators import FAMILIES, known_optimum
from kvsched.result import ceil_bound
from kvsched.schedule import Schedule

LIMIT = 60.0


def solve_search(instance, **params):
    """The search through the boundary that validates its schedule once (``models.solve``)."""
    return models.solve("search", instance, **params)


def mixed(seed: int, n_lo: int = 3, n_hi: int = 8) -> Instance:
    """Mixed prompts, M in {16, 22, 30, 40}; every other instance has arrivals."""
    rng = np.random.default_rng(1000 + seed)
    n = int(rng.integers(n_lo, n_hi))
    M = int(rng.choice([16, 22, 30, 40]))
    o = rng.integers(1, min(12, M - 1), n)
    s = np.minimum(rng.integers(1, 12, n), M - o)
    a = rng.integers(0, 8, n) if seed % 2 else np.zeros(n, int)
    return Instance(M, tuple(s), tuple(o), tuple(a))


def check(inst: Instance, res, opt: int | None = None):
    assert res.schedule is not None and validate(inst, res.schedule).objective == res.objective
    assert res.bound <= res.objective
    if opt is not None:
        assert res.bound <= opt <= res.objective


def test_hand_computed_pair():
    # M = 10, two requests (s = 4, o = 2): together they need 10 then 12 > 10 tokens, so the
    # second starts when the first has finished (round 2): TCT = 2 + 4 = 6
    inst = Instance(10, (4, 4), (2, 2))
    res = solve_search(inst)
    assert res.status == "optimal" and res.objective == 6 and sorted(res.schedule.starts) == [0, 2]


def test_hand_computed_arrival():
    # a long request at 0 and a short one arriving at 1 that fits beside it: TEL = 5 + 1
    inst = Instance(10, (2, 2), (5, 1), (0, 1))
    res = solve_search(inst)
    assert res.status == "optimal" and res.objective == 6 and res.schedule.starts == [0, 1]


# ------------------------------------------------------------------ agreement (fast part)
CASES_FAST = ([("tiny", n, s, {}) for n in (5, 6, 7) for s in range(10)]
              + [("tiny", n, s, {"rate": 0.5}) for n in (5, 7) for s in range(10)]
              + [("random", 6, s, {"M": 20, "s_max": 6, "o_max": 6, "rate": 0.5}) for s in range(10)])


@pytest.mark.parametrize("family,n,seed,kw", CASES_FAST)
def test_agrees_with_brute(family, n, seed, kw):
    inst = FAMILIES[family](n=n, seed=seed, **kw)
    brute = models.solve("brute", inst, time_limit=LIMIT)
    res = models.solve("search", inst, time_limit=LIMIT)
    assert brute.status == "optimal" and res.status == "optimal"
    assert res.objective == brute.objective
    check(inst, res)


@pytest.mark.parametrize("seed", range(20))
def test_agrees_with_brute_mixed(seed):
    inst = mixed(seed)
    brute = models.solve("brute", inst, time_limit=LIMIT)
    res = models.solve("search", inst, time_limit=LIMIT)
    assert brute.status == "optimal" and res.status == "optimal" and res.objective == brute.objective


@pytest.mark.parametrize("family,n,seed", [("random", 9, 0), ("random", 10, 1), ("jaillet", 8, 0), ("jaillet", 8, 3)])
def test_agrees_with_cpsat_and_milp(family, n, seed):
    inst = FAMILIES[family](n=n, seed=seed)
    res = models.solve("search", inst, time_limit=LIMIT)
    cp = models.solve("cpsat", inst, time_limit=LIMIT, threads=1)
    assert res.status == "optimal" and cp.status == "optimal" and res.objective == cp.objective
    if family == "random":
        milp = models.solve("milp", inst, time_limit=LIMIT, threads=1)
        assert milp.status == "optimal" and milp.objective == res.objective


@pytest.mark.parametrize("m", [3, 5, 6])
def test_partition_known_optimum(m):
    inst = FAMILIES["partition"](n=3 * m, seed=m)
    res = solve_search(inst, time_limit=LIMIT)
    assert res.status == "optimal" and res.objective == known_optimum(inst)


@pytest.mark.parametrize("seed", range(6))
def test_dominance_off_changes_no_optimum(seed):
    inst = mixed(seed, 5, 9)
    full = solve_search(inst, time_limit=LIMIT)
    for kw in ({"dominance": False}, {"dominance": 1}, {"lagrangian": False}, {"realign": False}, {"tighten": False}):
        other = solve_search(inst, time_limit=LIMIT, **kw)
        assert other.status == full.status == "optimal" and other.objective == full.objective, kw


@pytest.mark.parametrize("family, n, seed", [("random", 12, 0), ("random", 14, 1), ("jaillet", 9, 2), ("random-poisson", 14, 0)])
def test_quick_pruning_prunes_only_what_the_full_bound_prunes(family, n, seed):
    """The parent's quick Lagrangian bound never exceeds a child's full bound, so the search
    with it expands, stores and prunes exactly the same states as without it (deterministic
    mode: the dives stop on work, not time)."""
    kw = {"n": n, "model": 1} if family == "jaillet" else {"n": n}
    if family == "random-poisson":
        family, kw = "random", {**kw, "arrivals": "poisson", "rate": 1.5}
    inst = FAMILIES[family](seed=seed, **kw)
    runs = [solve_search(inst, time_limit=LIMIT, quick_prune=q, deterministic=True) for q in (True, False)]
    keys = ("expanded", "generated", "stored", "dominated", "pruned")
    assert [runs[0].params[k] for k in keys] == [runs[1].params[k] for k in keys]
    assert 0 < runs[0].params["pruned_quick"] <= runs[0].params["pruned"] and runs[1].params["pruned_quick"] == 0
    assert runs[0].objective == runs[1].objective and runs[0].status == runs[1].status == "optimal"


@pytest.mark.parametrize("f, e, raised", [([6, 2, 0], 0, [6, 5, 5]), ([9, 0, 0], 1, [10, 6, 5])])
def test_tighten_raises_the_profile_to_what_the_waiting_request_can_use(f, e, raised):
    """M = 10, one waiting request (s, o) = (3, 2). On f = (6, 2, 0) it fits from p = 0, 1, 2:
    round 1 holds it at age 1 at most (4 tokens), rounds 2 and 3 at age 2 (5), so f becomes
    (6, 5, 5). On f = (9, 0, 0) round 1 is out of its reach (9 + 4 > 10) and becomes full."""
    from kvsched.models.search import kernel

    H, M = 3, 10
    F = np.array([f], np.int8)
    R = np.ones((1, 1), np.int8)
    cs, co = np.array([3], np.int64), np.array([2], np.int64)
    win, use, ecomp = np.zeros((H + 1, H), np.int64), np.zeros(H + 1, np.int64), np.zeros(1, np.int64)
    nU, m = kernel._earliest(F, 0, R, 0, H, M, cs, co, np.zeros(1, np.int64), ecomp, np.zeros(2, np.int64), win)
    assert (nU, m, int(ecomp[0])) == (1, 1, e)
    assert kernel._tighten(F, 0, R, H, M, cs, co, ecomp, win, use)
    assert F[0].tolist() == raised
    assert not kernel._tighten(F, 0, R, H, M, cs, co, ecomp, win, use)  # the raised profile is a fixed point


@pytest.mark.parametrize("seed", range(3))
def test_dominance_levels_and_tiny_arrays_agree(seed, monkeypatch):
    """Levels 0, 1 and 2 keep the same optimum at n = 14, where a key's block outgrows its
    unsorted tail; with arrays of 64 rows every pool, heap, table and arena growth (and the
    arena's compaction) runs many times and changes nothing but the work."""
    from kvsched.models import search

    inst = FAMILIES["random"](n=14, seed=seed)
    ref = solve_search(inst, time_limit=LIMIT)
    assert ref.status == "optimal"
    for level in (0, 2):
        other = solve_search(inst, time_limit=LIMIT, dominance=level)
        assert other.status == "optimal" and other.objective == ref.objective, level
    monkeypatch.setattr(search, "INITIAL_SIZE", 64)
    calls = {}
    for group in ("pool", "heap", "table", "arena"):
        real = getattr(search._Store, f"grow_{group}")

        def counted(self, real=real, group=group):
            calls[group] = calls.get(group, 0) + 1
            real(self)

        monkeypatch.setattr(search._Store, f"grow_{group}", counted)
    for level in (0, 1, 2):
        calls.clear()
        tiny = solve_search(inst, time_limit=LIMIT, dominance=level)
        assert tiny.status == "optimal" and tiny.objective == ref.objective, level
        check(inst, tiny)
        assert all(calls.get(group, 0) >= 3 for group in ("pool", "heap", "table", "arena")), (level, calls)


@pytest.mark.parametrize("seed", range(4))
def test_dives_only_improve_the_incumbent_and_keep_the_optimum(seed):
    inst = FAMILIES["random"](n=12, seed=seed)
    plain = solve_search(inst, time_limit=LIMIT, dives=())
    dived = solve_search(inst, time_limit=LIMIT)
    assert plain.status == dived.status == "optimal" and plain.objective == dived.objective
    trace = [dived.params["incumbent_start"], *dived.params["dive_incumbents"]]
    assert trace == sorted(trace, reverse=True) and trace[-1] >= dived.objective
    assert plain.params["dive_incumbents"] == [] and plain.params["dive_expanded"] == 0


@pytest.mark.parametrize("family, n, seed", [("random", 14, 0), ("random", 14, 1), ("jaillet", 10, 0)])
def test_exact_run_continued_from_a_dive_keeps_the_optimum(family, n, seed):
    """Dives cut to a few hundred expansions stop on their budget, so the exact run goes on
    from the last dive's store (re-keyed by g + h); it proves the same optimum as a run
    without dives (deterministic mode: the budgets are counted in expansions)."""
    kw = {"n": n, "model": 1} if family == "jaillet" else {"n": n}
    inst = FAMILIES[family](seed=seed, **kw)
    plain = solve_search(inst, time_limit=LIMIT, dives=(), deterministic=True)
    go_on = solve_search(inst, time_limit=LIMIT, dives=((2.0, 0.0001), (1.05, 0.0002)), deterministic=True)
    assert go_on.params["continued_dive"] and not go_on.params["proved_by_dive"]
    assert not plain.params["continued_dive"]
    assert plain.status == go_on.status == "optimal" and plain.objective == go_on.objective


def test_dives_find_the_optimum_of_random_20_seed_0():
    # heuristics 261; the plain search proved 232 after 605,472 expansions (docs/model.md §5.8)
    inst = FAMILIES["random"](n=20, seed=0)
    res = solve_search(inst, time_limit=1, deterministic=True)  # 4,000 expansions of dives, no time cut
    assert res.params["incumbent_start"] == 261 and res.params["dive_incumbents"][-1] < 261
    res = solve_search(inst, time_limit=5, deterministic=True, dives=((1.1, 1.0),))  # a 20,000-expansion dive
    assert res.params["dive_incumbents"] == [232] and res.params["dive_expanded"] <= 20_000 + 2000  # (steps of 2000)
    assert res.objective == 232 and res.bound < 232


def test_a_dive_whose_frontier_empties_proves_optimality():
    inst = mixed(3, 6, 7)
    res = solve_search(inst, time_limit=LIMIT, dives=((2.0, 1.0),))
    assert res.params["proved_by_dive"] and res.status == "optimal"
    assert res.objective == models.solve("brute", inst, time_limit=LIMIT).objective


def test_time_limited_run_returns_bound_and_schedule():
    inst = FAMILIES["partition"](n=24, seed=1)
    opt = known_optimum(inst)
    res = solve_search(inst, time_limit=0.3)
    check(inst, res, opt)
    assert res.status in ("time-limit", "optimal")
    tight = FAMILIES["random"](n=22, seed=4)
    res = solve_search(tight, time_limit=0.5)
    assert res.status == "time-limit" and res.solver_status == "time-limit"
    check(tight, res)
    assert res.bound >= res.params["root_h"]  # the frontier bound never falls below the root's


def test_memory_limit_returns_bound_and_schedule():
    inst = FAMILIES["random"](n=20, seed=0)
    res = solve_search(inst, time_limit=LIMIT, memory_limit=20)
    assert res.solver_status == "memory-limit" and res.status == "feasible"
    check(inst, res)


def test_deterministic():
    inst = FAMILIES["random"](n=12, seed=3)
    a, b = solve_search(inst), solve_search(inst)
    assert a.schedule.starts == b.schedule.starts and a.params["expanded"] == b.params["expanded"]


def test_out_of_range_names_the_field():
    with pytest.raises(ValueError, match="field 'requests'"):
        solve_search(Instance(200, (1,) * 64, (1,) * 64))
    for bad in (3, -1, "1", 1.5):
        with pytest.raises(ValueError, match="field 'dominance'"):
            solve_search(Instance(10, (1, 2), (1, 1)), dominance=bad)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(4, 30), st.lists(st.tuples(st.integers(1, 6), st.integers(1, 6), st.integers(0, 4)),
                                    min_size=1, max_size=6),
       st.sampled_from([None, 0.02]))
def test_property_schedule_bound_optimum(M, reqs, limit):
    reqs = [(min(s, M - o), o, a) for s, o, a in reqs if o < M]
    if not reqs:
        return
    inst = Instance(M, *zip(*reqs))
    opt = models.solve("brute", inst, time_limit=LIMIT).objective
    res = models.solve("search", inst, time_limit=limit or LIMIT)
    check(inst, res, opt)
    if limit is None:
        assert res.status == "optimal" and res.objective == opt


def test_cli_solve_search_json(write_json):
    worked = {"M": 6, "requests": [{"prompt": 2, "output": o} for o in (1, 1, 2, 3)]}
    out = run_cli("solve", write_json(worked), "--solver", "search", "--time-limit", "10", "--json")
    assert out.returncode == 0, out.stderr
    data = last_json(out.stdout)
    brute = models.solve("brute", Instance(6, (2, 2, 2, 2), (1, 1, 2, 3)))
    assert data["solver"] == "search" and data["status"] == "optimal"
    assert data["objective"] == data["bound"] == brute.objective
    assert {"objective", "bound", "status", "gap", "starts", "runs", "wall_time"} <= set(data)


# ------------------------------------------------------------------ agreement (slow bulk)
CASES_SLOW = ([("random", n, s, {}) for n in (8, 10, 12) for s in range(15)]
              + [("random", n, s, {"rate": 0.5}) for n in (8, 10) for s in range(10)]
              + [("jaillet", n, s, {}) for n in (8, 10) for s in range(10)]
              + [("random", n, s, {"M": 20, "s_max": 6, "o_max": 6, "rate": 0.5}) for n in (8, 10) for s in range(10)])


@pytest.mark.slow
@pytest.mark.parametrize("family,n,seed,kw", CASES_SLOW)
def test_agrees_with_cpsat_and_milp_bulk(family, n, seed, kw):
    inst = FAMILIES[family](n=n, seed=seed, **kw)
    res = models.solve("search", inst, time_limit=120)
    check(inst, res)
    assert res.status == "optimal"
    others = [models.solve("cpsat", inst, time_limit=120, threads=1)]
    if n <= 8:
        others.append(models.solve("milp", inst, time_limit=120, threads=1))
    for other in others:  # a time-limited incumbent may be worse, never better; bounds never cross
        # (a MILP's float bound may sit a rounding error above the integer optimum)
        assert ceil_bound(other.bound) <= res.objective <= other.objective, other.solver
        if other.status == "optimal":
            assert other.objective == res.objective, other.solver


def test_no_array_doubling_starts_too_close_to_the_deadline(monkeypatch):
    """A doubling that took d seconds is followed by one that may take 2 d: none starts later
    than GROW_MARGIN times the last one's duration before the deadline."""
    import time

    from kvsched.models import search

    pause, starts = 0.3, []
    real = search._Store.grow_pool

    def slow_grow(self):
        starts.append(time.perf_counter())
        time.sleep(pause)
        real(self)

    monkeypatch.setattr(search._Store, "grow_pool", slow_grow)
    inst = FAMILIES["random"](n=20, seed=4)
    limit = 3.0
    res = solve_search(inst, time_limit=limit, dives=(), lagrangian=False)
    began = time.perf_counter() - res.wall_time  # the search's own clock started here
    assert res.status == "time-limit" and res.bound <= res.objective and len(starts) >= 2
    assert all(s + search.GROW_MARGIN * pause <= began + limit for s in starts[1:]), [s - began for s in starts]


@pytest.mark.parametrize("family, n, seed", [("random", 12, 0), ("random", 14, 2), ("jaillet", 9, 1), ("tiny", 6, 3)])
def test_bounds_along_an_optimal_path_never_exceed_its_cost_to_go(family, n, seed):
    """On a proven optimal schedule the cost still to come from each of its states is optimal,
    so every bound of the search is at most it; the three bounds are nested; the root's is the
    search's root bound; with one request left the bound is exact (it starts at its earliest fit)."""
    from kvsched.models.search.path import path_bounds

    kw = {"n": n, "model": 1} if family == "jaillet" else {"n": n}
    inst = FAMILIES[family](seed=seed, **kw)
    res = solve_search(inst, time_limit=LIMIT)
    assert res.status == "optimal"
    rows = path_bounds(inst, res.schedule)
    assert rows[0]["cost_to_go"] == res.objective and rows[0]["tightened"] == res.params["root_h"]
    for row in rows:
        assert row["order_stats"] <= row["lagrangian"] <= row["tightened"] <= row["cost_to_go"], row
        if row["waiting"] == 1:
            assert row["tightened"] == row["cost_to_go"], row


def test_bounds_along_a_path_reject_an_infeasible_schedule():
    from kvsched.models.search.path import path_bounds

    inst = FAMILIES["random"](n=8, seed=0)
    crowded = Schedule.from_starts(inst, [0] * inst.n)  # every request at once overflows M = 40
    with pytest.raises(ValueError, match="field 'schedule'.*memory violation: round 1 holds"):
        path_bounds(inst, crowded)
