"""chen-predictions: a tiny grid through the runner (validated runs, expected columns), H-SF's
ratio to itself, H-SF blind to the predictions, A_max never cancelling, A_max / A_min with
exact intervals and the arrival tie-break equal to H-SF, the comparison with the paper."""

import dataclasses

import numpy as np
import pytest
from helpers import run_quick

from kvsched import experiments, predictions
from kvsched.experiments import chen_predictions as C
from kvsched.experiments.spec import Grid, InstanceSpec
from kvsched.heuristics.online import run_policy
from kvsched.workload import lmsys_like

SETTINGS = ("exact", "rough", "buckets", "overlap:0.1", "overlap:0.95")
TINY = dataclasses.replace(
    C.EXPERIMENT, name="test-chen-tiny",
    quick_grids=tuple(Grid("lmsys-like", (60,), (0, 1), {"M": 1500, "predictions": p}) for p in SETTINGS)
    + (Grid("lmsys-like", (60,), (0, 1), {"M": 1500, "predictions": "rough", "rate": 0.5}),))


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("chen")
    summary, df = run_quick(TINY, out)
    return summary, df, out


def test_registered_and_grids():
    assert experiments.get("chen-predictions") is C.EXPERIMENT
    specs = C.EXPERIMENT.specs(quick=False)
    assert {s.params["predictions"] for s in specs} == set(C.SETTINGS)
    assert {s.n for s in specs} == {2000} and all(s.params["M"] == 16_492 for s in specs)
    assert ({s.family for s in specs} == {"lmsys-like", "lmsys-trace"}) == C.trace_available()


def test_tiny_grid_rows(tiny_run):
    summary, df, _ = tiny_run
    assert summary.errors == [] and len(df) == 2 * (len(SETTINGS) + 1) * 3
    assert (df["status"] != "error").all() and df["schedule_hash"].notna().all()
    for col in ("predictions", "workload_source", "avg_latency", "cancelled_runs", "bound"):
        assert df[col].notna().all(), col
    assert np.allclose(df["avg_latency"], df["objective"] / 60)
    assert (df["objective"] >= df["bound"]).all()
    # A_max believes u_i >= o_i in every setting: it never cancels
    assert (df[df["algorithm"] == "amax"]["cancelled_runs"] == 0).all()
    assert (df[df["algorithm"] == "hsf"]["cancelled_runs"] == 0).all()
    # the tie-break seed is the instance seed
    assert (df[df["algorithm"] != "hsf"]["algo_seed"] == df[df["algorithm"] != "hsf"]["seed"]).all()


def test_hsf_ratio_and_blindness(tiny_run):
    _, df, _ = tiny_run
    d = C.with_hsf_ratio(df)
    assert np.allclose(d[d["algorithm"] == "hsf"]["ratio_to_hsf"], 1.0)
    # H-SF never reads the intervals: the same TEL under every prediction setting
    hsf = df[df["algorithm"] == "hsf"].groupby(["seed", "arrivals"])["objective"].nunique()
    assert (hsf == 1).all()
    table = C.summarize(df)
    assert set(table["arrivals"]) == {"all at 0", "Poisson 0.5/round"}
    table = table[table["arrivals"] == "all at 0"].set_index("predictions")
    assert np.allclose(table["H-SF latency"], table["H-SF latency"].iloc[0])
    assert table.loc["rough", "A_max / H-SF"] > table.loc["buckets", "A_max / H-SF"] > 1.0


def test_exact_intervals_with_arrival_ties_equal_hsf():
    """With l = u = o and ties broken by (arrival, index), A_max and A_min make H-SF's choices."""
    inst = predictions.exact(lmsys_like(120, M=1500, seed=4))
    hsf = run_policy("hsf", inst).objective
    assert run_policy("amin", inst, tie_break="arrival").objective == hsf
    assert run_policy("amax", inst, tie_break="arrival").objective == hsf


def test_compare_and_paper(tiny_run):
    _, df, _ = tiny_run
    md = C.compare(df)
    assert "**lmsys-like, all at 0** (n = 60, M = 1,500, 2 seeds)" in md
    assert "**lmsys-like, Poisson 0.5/round**" in md
    assert md.count("| A_min close to H-SF") == len(SETTINGS)  # not for the calibration row; once for Poisson
    line = next(l for l in md.splitlines() if l.startswith("| A_max poor with"))
    assert line.endswith("| yes |")
    assert "2508.14544" in C.PAPER["source"] and "2,000" in C.PAPER["reported"]


def test_poisson_arrivals():
    spec = InstanceSpec("lmsys-like", 300, 5, {"M": 16_492, "predictions": "buckets", "rate": 1.2})
    inst = C.generate(spec)
    a = np.array(inst.arrivals)
    assert a[0] == 0 and (np.diff(a) >= 0).all() and 200 < a[-1] < 300  # ~ 299 / 1.2 rounds
    plain = C.generate(InstanceSpec("lmsys-like", 300, 5, {"M": 16_492, "predictions": "buckets"}))
    assert plain.outputs == inst.outputs and plain.all_at_zero and plain.lowers == inst.lowers


def test_trace_workload_when_present():
    if not C.trace_available():
        pytest.skip("shared LMSYS trace absent")
    inst = C.generate(InstanceSpec("lmsys-trace", 50, 2, {"M": 16_492, "predictions": "buckets"}))
    assert inst.n == 50 and all(l <= o <= u for l, o, u in zip(inst.lowers, inst.outputs, inst.uppers))
    assert max(inst.outputs) < 600  # the lmsys-100k sample keeps answers under 600 words
