"""``jaillet-scaled``: the scaled trial plan, the statements on hand-made tables (every trial
proven or not, MC-SF optimal everywhere or not), and the quick grid end to end: every trial's
MC-SF / OPT is exact only where the optimum was proven."""

from __future__ import annotations

import pandas as pd
import pytest

from kvsched.experiments import jaillet_scaled as S
from kvsched.experiments import jaillet_synthetic as J
from kvsched.experiments.runner import run_experiment
from kvsched.experiments.spec import from_family


def test_plan_scales_the_sizes_and_keeps_the_paper_law():
    specs = S.EXPERIMENT.specs(quick=False)
    m1 = [s for s in specs if s.params["model"] == 1]
    m2 = [s for s in specs if s.params["model"] == 2]
    assert len(m1) == len(m2) == 12
    assert [s.n for s in m1[:7]] == [10, 11, 12, 13, 14, 15, 10] and [s.seed for s in m1[:3]] == [0, 1, 2]
    assert [s.params["horizon"] for s in m2[:7]] == [10, 11, 12, 13, 14, 15, 10]
    assert all(s.n is None for s in m2) and m2[0].seed == J.MODEL2_SEED_BASE
    inst = from_family(m1[3])
    assert inst.n == 13 and 30 <= inst.M <= 50 and len(set(inst.prompts)) == 1 and set(inst.arrivals) == {0}
    inst = from_family(m2[1])  # model 2: arrivals only in rounds 0..T-1 = 0..10
    assert max(inst.arrivals) <= 10 and inst.n >= 1
    assert "SCALED" in S.EXPERIMENT.description and "scaled" in S.MODELS[1] and "scaled" in S.MODELS[2]


def frame(rows):
    base = {"status": "optimal", "optimum": "proven-optimal", "gap": 0.0, "wall_time": 1.0, "requests": 12,
            "seed": 0, "best_solver": "search", "bound_solver": "search"}
    return pd.DataFrame([{**base, **r} for r in rows])


def proven(model, mcsf, opt, seed=0):
    return {"model": model, "mcsf": mcsf, "objective": opt, "mcsf_over_best": mcsf / opt,
            "mcsf_over_ceil_bound": mcsf / opt, "seed": seed,
            "verdict": J.PROVEN_OPTIMAL if mcsf == opt else J.PROVEN_SUBOPTIMAL}


def test_statements_when_every_trial_is_proven_and_mcsf_always_optimal():
    df = frame([proven(1, 100, 100), proven(1, 90, 90), proven(2, 50, 50)])
    text = S.statements(df)
    assert text.count("The optimum was proven in every trial") == 2
    assert "MC-SF was optimal in every proven trial." in text
    assert "MC-SF is proven optimal in 2, proven suboptimal in 0 and undecided in 0 of 2 trials." in text
    assert "MC-SF = OPT in 2 of 2 (100%)" in text and "worst 1.000" in text
    row = S.summarize(df).set_index("arrival model").loc[S.MODELS[1]]
    assert row["OPT proven"] == 2 and row["MC-SF/OPT: worst"] == 1.0 and pd.isna(row["unproven: worst MC-SF/ceil(LB)"])


def test_statements_flip_when_mcsf_is_beaten_and_a_trial_is_unproven():
    undecided = {"model": 1, "mcsf": 120, "objective": 120, "mcsf_over_best": 1.0, "mcsf_over_ceil_bound": 1.2,
                 "verdict": J.UNDECIDED, "status": "feasible", "optimum": "gap-only", "seed": 7}
    df = frame([proven(1, 100, 100), proven(1, 110, 100, seed=3), undecided, proven(2, 60, 50, seed=1000)])
    text = S.statements(df)
    assert "The optimum was proven in 2 of 3 trials; in the other 1" in text and "widest upper end 1.200" in text
    assert "MC-SF is proven optimal in 1, proven suboptimal in 1 and undecided in 1 of 3 trials." in text
    assert "mean 1.050, median 1.050" in text and "worst 1.100; MC-SF = OPT in 1 of 2 (50%)" in text
    assert "The worst proven trial (seed 3, n = 12): MC-SF 110 against OPT 100." in text
    assert "MC-SF was optimal in every proven trial." not in text
    assert "The optimum was proven in every trial, so MC-SF / OPT is exact in all 1." in text  # model 2
    assert "worst 1.200; MC-SF = OPT in 0 of 1 (0%)" in text
    table = S.summarize(df).set_index("arrival model")
    m1 = table.loc[S.MODELS[1]]
    assert m1["trials"] == 3 and m1["OPT proven"] == 2 and m1["MC-SF undecided"] == 1
    assert m1["MC-SF/OPT: mean"] == pytest.approx(1.05) and m1["MC-SF/OPT: worst"] == pytest.approx(1.1)
    assert m1["unproven: worst MC-SF/ceil(LB)"] == 1.2  # the unproven trial is not in the distribution


def test_quick_grid_end_to_end(tmp_path):
    summary = run_experiment(S.EXPERIMENT, quick=True, results_dir=tmp_path, progress=False, plots=True)
    assert summary.tasks == 4 and not summary.errors
    out = tmp_path / "jaillet-scaled" / "quick"
    df = pd.read_csv(out / "results.csv")
    assert list(df["requests"][df["model"] == 1]) == [10, 11]
    for _, row in df.iterrows():
        if row["optimum"] == "proven-optimal":  # exact ratio: both ends agree
            assert row["status"] == "optimal" and row["mcsf_over_best"] == pytest.approx(row["mcsf_over_ceil_bound"])
        else:
            assert row["optimum"] == "gap-only" and row["status"] != "optimal"
        assert row["verdict"] in J.VERDICTS and row["mcsf"] >= row["objective"]
    text = (out / "summary.md").read_text()
    assert "MC-SF is proven optimal in" in text and "scaled" in text and (out / "summary.png").exists()
