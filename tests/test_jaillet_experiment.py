"""``jaillet-synthetic``: the per-trial verdict, the real task on tiny trials (exhaustive
search proves the optimum), the plan of both arrival models, the summary and the paper
comparison."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from kvsched.experiments import jaillet_synthetic as J
from kvsched.experiments.runner import execute, run_experiment
from kvsched.experiments.spec import Algorithm, Case, InstanceSpec, from_family

ALG = Algorithm("mcsf-vs-certified")


@pytest.mark.parametrize("mcsf, best, bound, expected", [
    (100, 100, 100.0, J.PROVEN_OPTIMAL),        # MC-SF meets the bound
    (100, 100, 99.2, J.PROVEN_OPTIMAL),         # ... the rounded-up bound
    (100, 100, 100 - 1e-9, J.PROVEN_OPTIMAL),   # LP noise just below the optimum
    (100, 100, 99.0 + 1e-9, J.UNDECIDED),       # ... just above 99 counts as 99
    (100, 97, 97.0, J.PROVEN_SUBOPTIMAL),       # a better schedule, itself proven optimal
    (100, 99, 60.0, J.PROVEN_SUBOPTIMAL),       # a better schedule, optimum unknown
    (100, 100, 99.0, J.UNDECIDED),              # bound one below MC-SF
    (100, 100, 60.0, J.UNDECIDED),
])
def test_verdict_hand_cases(mcsf, best, bound, expected):
    assert J.verdict(mcsf, best, bound) == expected


def run_trial(n, seed, limit=20.0):
    """One trial through the runner's worker function; the exhaustive search (n <= 7) needs
    well under a second, the limit only matters on a loaded machine."""
    spec = InstanceSpec("jaillet", n, seed, {"model": 1})
    out = execute(J.task, Case(spec, from_family(spec), {"time_limit": limit, "threads": 1}), ALG)
    return out["row"]


def test_task_tiny_trials_proven_optimal_and_proven_suboptimal():
    # jaillet n=4 seed 6: M = 39, s = 3, o = (13, 35, 14, 24); MC-SF 119, exhaustive optimum 114
    row = run_trial(4, 6)
    assert row["status"] == "optimal" and row["optimum"] == "proven-optimal"
    assert row["mcsf"] == 119 and row["objective"] == 114 and row["bound"] == 114
    assert row["verdict"] == J.PROVEN_SUBOPTIMAL
    assert row["mcsf_over_best"] == pytest.approx(119 / 114)
    assert row["mcsf_over_ceil_bound"] == pytest.approx(119 / 114)
    assert row["lp_status"] == "skipped"  # certify already proved the optimum
    # jaillet n=4 seed 1: M = 39, s = 3, o = (35, 2, 6, 30); MC-SF is optimal (100)
    row = run_trial(4, 1)
    assert (row["mcsf"], row["objective"], row["bound"]) == (100, 100, 100)
    assert row["verdict"] == J.PROVEN_OPTIMAL and row["mcsf_over_ceil_bound"] == 1.0
    assert row["schedule_hash"] and row["status"] == "optimal"


def test_quick_and_full_plans_cover_both_models_with_disjoint_seeds():
    quick = J.EXPERIMENT.specs(quick=True)
    assert [(s.params["model"], s.seed, s.n) for s in quick] == \
        [(1, 0, None), (1, 1, None), (1, 2, None), (2, 1000, None), (2, 1001, None), (2, 1002, None)]
    full = J.EXPERIMENT.specs(quick=False)
    assert len(full) == 400 and {s.params["model"] for s in full} == {1, 2}
    assert J.EXPERIMENT.limits["time_limit"] == 60.0 and J.EXPERIMENT.quick_limits["time_limit"] == 10.0
    inst = from_family(quick[3])  # model 2: Poisson arrivals, n drawn
    assert inst.n > 0 and max(inst.arrivals) > 0


def frame(rows):
    base = {"status": "feasible", "gap": 0.3, "wall_time": 1.0, "best_solver": "mcsf",
            "bound_solver": "closed-form", "requests": 50}
    return pd.DataFrame([{**base, **r} for r in rows])


def test_summary_and_comparison_on_hand_rows():
    df = frame([
        {"model": 1, "mcsf_over_best": 1.0, "mcsf_over_ceil_bound": 1.0, "verdict": J.PROVEN_OPTIMAL,
         "status": "optimal", "gap": 0.0},
        {"model": 1, "mcsf_over_best": 1.05, "mcsf_over_ceil_bound": 1.5, "verdict": J.PROVEN_SUBOPTIMAL,
         "best_solver": "cpsat"},
        {"model": 1, "mcsf_over_best": 1.0, "mcsf_over_ceil_bound": 1.4, "verdict": J.UNDECIDED},
        {"model": 2, "mcsf_over_best": 1.2, "mcsf_over_ceil_bound": 3.0, "verdict": J.PROVEN_SUBOPTIMAL,
         "best_solver": "cpsat"},
        {"model": 2, "status": "error", "verdict": None},
    ])
    table = J.summarize(df).set_index("arrival model")
    m1, m2 = table.loc[J.MODELS[1]], table.loc[J.MODELS[2]]
    assert m1["trials"] == 3 and m1["MC-SF proven optimal"] == 1 and m1["MC-SF proven suboptimal"] == 1
    assert m1["MC-SF undecided"] == 1 and m1["best proven optimal"] == 1
    assert m1["MC-SF/best: mean"] == pytest.approx(3.05 / 3) and m1["MC-SF/best: worst"] == 1.05
    assert m1["MC-SF/ceil(LB): worst"] == 1.5
    assert m2["trials"] == 2 and m2["errors"] == 1 and m2["MC-SF/best: mean"] == 1.2

    text = J.compare(df)
    assert "| mean ratio | 1.005 | 1.017 | 1.300 |" in text
    assert "| worst ratio | 1.074 | 1.050 | 1.500 |" in text
    assert "| MC-SF optimal | 114 of 200 | not beaten in 2 of 3 | proven in 1 of 3 |" in text
    assert "| mean ratio | 1.047 | 1.200 | 3.000 |" in text and "| worst ratio | 1.227 |" in text
    assert "Better schedules came from: cpsat (1)" in text
    assert "Gurobi" in text


def test_quick_run_through_the_runner_on_a_tiny_experiment(tmp_path):
    """The runner end to end (cache, CSV, summary) with the real task on one tiny trial."""
    tiny = dataclasses.replace(J.build(quick_time_limit=10.0),
                               quick_grids=(_Fixed([InstanceSpec("jaillet", 4, 6, {"model": 1})]),))
    summary = run_experiment(tiny, quick=True, results_dir=tmp_path, progress=False, plots=True)
    assert summary.tasks == 1 and summary.computed == 1 and not summary.errors
    df = pd.read_csv(tmp_path / "jaillet-synthetic" / "quick" / "results.csv")
    assert list(df["verdict"]) == [J.PROVEN_SUBOPTIMAL] and list(df["objective"]) == [114]
    assert (tmp_path / "jaillet-synthetic" / "quick" / "summary.png").exists()
    assert "MC-SF proven suboptimal" in (tmp_path / "jaillet-synthetic" / "quick" / "summary.md").read_text()


class _Fixed:
    """A grid of explicit instance specs."""

    def __init__(self, specs):
        self._specs = specs

    def specs(self):
        return self._specs
