"""The K-longest DP bound of experiments/bench_kdp.py (research bet on docs/model.md §5.9):
hand-computed costs and DP values, brute-force checks on tiny instances, and the CLI."""

import numpy as np
import pytest

from kvsched import Instance, models
from kvsched.experiments import bench_kdp
from kvsched.generators import FAMILIES
from kvsched.heuristics import warm_start
from kvsched.models.lagrangian import horizon_of, lagrangian_bound, relaxation
from kvsched.models.timeindexed import optimality_windows
from kvsched.schedule import Schedule


def _setup(inst):
    sched, ub, _ = warm_start(inst)
    windows = optimality_windows(inst, ub)
    lb = lagrangian_bound(inst, windows, horizon_of(sched), method="lp")
    return windows, lb


def test_start_costs_by_hand():
    lam = np.array([0.0, 1.0, 0.0, 2.0, 0.0, 0.0])
    # s = 2, o = 2: t = 0 runs rounds 1, 2 holding 3, 4 -> 0 + 2 + 1*3 + 0*4 = 5;
    # t = 1 runs rounds 2, 3 -> 1 + 2 + 0*3 + 2*4 = 11; t = 2 runs rounds 3, 4 -> 2 + 2 + 2*3 = 10
    assert bench_kdp.start_costs(2, 2, 0, 0, 2, lam).tolist() == [5.0, 11.0, 10.0]
    # arrival 1 is subtracted
    assert bench_kdp.start_costs(2, 2, 1, 1, 1, lam).tolist() == [10.0]


def test_two_requests_by_hand():
    # M = 10, two requests s = 4, o = 3 (each holds 5, 6, 7): they overlap in no feasible way,
    # so the second starts when the first completes: TEL = 3 + 6 = 9; independently 3 + 3 = 6
    inst = Instance(M=10, prompts=(4, 4), outputs=(3, 3), arrivals=(0, 0))
    assert models.solve("brute", inst).objective == 9
    windows = [(0, 10), (0, 10)]
    dp = bench_kdp.dp_members(inst, [0, 1], windows, np.zeros(20), time_limit=10)
    assert dp.exact and dp.value == 9.0
    assert sorted(dp.starts.values()) == [0, 3]
    rows = relaxation(inst, windows).rows  # lam = 0 on every memory row
    kb = bench_kdp.kdp_bound(inst, 2, np.zeros(len(rows)), rows, windows, 10)
    assert kb.lagrangian == pytest.approx(6.0)
    assert kb.lift == pytest.approx(3.0)
    assert kb.bound == pytest.approx(9.0)
    # K = 1 keeps no pair: no lift
    assert bench_kdp.kdp_bound(inst, 1, np.zeros(len(rows)), rows, windows, 10).lift == 0.0


def test_longest_members():
    inst = Instance(M=50, prompts=(1, 5, 2, 3), outputs=(4, 9, 9, 1), arrivals=(0, 0, 0, 0))
    assert bench_kdp.longest(inst, 2) == [1, 2]
    assert bench_kdp.longest(inst, 3) == [0, 1, 2]


@pytest.mark.parametrize("fam,kw", [("random", {"M": 20}), ("jaillet", {"model": 1})])
def test_full_dp_at_zero_is_brute_optimum(fam, kw):
    for seed in range(4):
        inst = FAMILIES[fam](n=5, seed=seed, **kw)
        opt = models.solve("brute", inst).objective
        windows, _ = _setup(inst)
        dp = bench_kdp.dp_members(inst, list(range(inst.n)), windows, np.zeros(1), time_limit=10)
        assert dp.exact and dp.value == pytest.approx(opt)


#: optima of FAMILIES["jaillet"](n=6, seed, model=1), seeds 0..5, by models.solve("brute") (35-42 s for
#: seeds 1 and 4, so stored; the exact search agrees)
JAILLET6_OPT = {0: 41, 1: 206, 2: 141, 3: 173, 4: 336, 5: 269}


def test_kdp_between_lagrangian_and_optimum():
    lifted = 0
    for seed in range(6):
        inst = FAMILIES["jaillet"](n=6, seed=seed, model=1)
        opt = JAILLET6_OPT[seed]
        if seed in (0, 2):  # the fast ones are re-checked here
            assert models.solve("brute", inst).objective == opt
        windows, lb = _setup(inst)
        prev = lb.bound
        for K in range(1, inst.n + 1):
            kb = bench_kdp.kdp_bound(inst, K, lb.multipliers, lb.rows, windows, 10, lb.H)
            assert kb.dp.exact
            assert kb.lagrangian == pytest.approx(lb.bound)
            assert kb.bound >= lb.bound - 1e-9
            assert kb.bound >= prev - 1e-6  # nested member sets: non-decreasing in K
            assert kb.bound <= opt + 1e-6
            prev = kb.bound
        lifted += prev > lb.bound + 1
    assert lifted >= 3  # seeds 1, 3, 4 and 5 gain more than a unit at K = n


def test_stopped_dp_is_a_lower_bound():
    inst = FAMILIES["jaillet"](n=6, seed=4, model=1)
    windows, lb = _setup(inst)
    exact = bench_kdp.kdp_bound(inst, 6, lb.multipliers, lb.rows, windows, 10, lb.H)
    stopped = bench_kdp.kdp_bound(inst, 6, lb.multipliers, lb.rows, windows, 0.0, lb.H)
    assert exact.dp.exact and not stopped.dp.exact
    assert lb.bound - 1e-9 <= stopped.bound <= exact.bound + 1e-9


def test_cli_writes_report(tmp_path):
    out = tmp_path / "kdp.md"
    bench_kdp.main(["--seeds", "2", "--n", "6", "--K", "2", "6", "--time-limit", "5", "--out", str(out)])
    text = out.read_text()
    assert "Command: `python3 -m kvsched.experiments.bench_kdp --seeds 2 --K 2 6 --time-limit 5 --n 6" in text
    assert "| 1 | 6 | 39 |" in text  # seed 1: n = 6, M = 39
    assert "within 5 s per seed (not 10 minutes)" in text
    assert ("**kept**" in text) != ("**not kept**" in text)
    assert "## Per K" in text and "| 6 |" in text


def test_verdict_counts():
    row = lambda p: {"K": {2: {"points": 0.0}, 4: {"points": p}}}  # noqa: E731
    kept, counts, text = bench_kdp.verdict([row(3.0)] * 7 + [row(1.0)] * 3, [2, 4], 600)
    assert kept and counts == {2: 0, 4: 7} and "within 10 minutes" in text
    kept, counts, text = bench_kdp.verdict([row(3.0)] * 6 + [row(2.9)] * 4, [2, 4], 60)
    assert not kept and counts[4] == 6 and "within 60 s per seed (not 10 minutes)" in text


def test_an_infeasible_best_schedule_is_refused(monkeypatch):
    inst = FAMILIES["random"](n=8, seed=0)
    crowded = Schedule.from_starts(inst, [0] * inst.n)  # all eight at once overflow M = 40
    monkeypatch.setattr(bench_kdp, "warm_start", lambda instance: (crowded, 1, "fcfs"))
    with pytest.raises(RuntimeError, match="warm start fcfs is infeasible: memory violation"):
        bench_kdp.one_seed(inst, [2], 5.0)
