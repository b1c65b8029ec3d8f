"""amin-fluid, amax-fluid and chen-load on their quick grids through the runner (seconds):
the instances, the ratios against H-SF, the verdict tables, and resuming from the cache."""

from __future__ import annotations

import pandas as pd
import pytest

from kvsched import experiments
from kvsched.experiments import amax_fluid, amin_fluid, amin_fluid_load, chen_load
from kvsched.experiments.amin_conventions import counts, fluid_instance
from kvsched.experiments.runner import run_experiment
from kvsched.experiments.spec import InstanceSpec
from kvsched.theory.rayleigh import quotient, rayleigh


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("fluid")
    got = {}
    for exp in (amin_fluid.EXPERIMENT, amax_fluid.EXPERIMENT, chen_load.EXPERIMENT, amin_fluid_load.EXPERIMENT):
        s = run_experiment(exp, quick=True, results_dir=out, progress=False, plots=False)
        got[exp.name] = (s, pd.read_csv(out / exp.name / "quick" / "results.csv"))
    return out, got


def test_registered():
    for name, mod in (("amin-fluid", amin_fluid), ("amax-fluid", amax_fluid), ("chen-load", chen_load)):
        assert experiments.get(name) is mod.EXPERIMENT
    full = amin_fluid.EXPERIMENT.specs(quick=False)
    assert len(full) == 5 * 5 * 4  # u x L x M
    ms = sorted({s.params["m_factor"] for s in full})
    assert ms == [16, 32, 64, 128] and all(s.n == 60 * s.params["m_factor"] for s in full)  # n grows with M


def test_scaled_fluid_instance():
    inst = fluid_instance(3, n1=30, m_factor=4, L=12)
    c = counts(rayleigh(3).maximiser, 30)
    assert sorted(set(inst.outputs)) == [12, 24, 36] and [inst.outputs.count(12 * k) for k in (1, 2, 3)] == c
    assert set(inst.lowers) == {12} and set(inst.uppers) == {36} and inst.M == 4 * (1 + 36)
    assert fluid_instance(3, n1=30, m_factor=4).outputs == tuple(o // 12 for o in inst.outputs)
    with pytest.raises(ValueError, match="L must be >= 1"):
        fluid_instance(2, L=0)
    spec = InstanceSpec("amin-fluid", 30, 0, {"u": 3, "L": 12, "m_factor": 4, "s": 1})
    assert amin_fluid.generate(spec).digest == inst.digest


def test_amin_fluid_quick(runs):
    out, got = runs
    summary, df = got["amin-fluid"]
    assert not summary.errors and summary.computed == 8 * 21
    t = amin_fluid.summarize(df)
    assert len(t) == 8 * 4 and set(t["reading"]) == set(amin_fluid.READINGS) and set(t["seeds"]) == {5}
    assert (t["ratio min"] <= t["ratio mean"]).all() and (t["ratio mean"] <= t["ratio max"]).all()
    u2 = t[t["u"] == 2]
    assert u2["CR(u)"].iloc[0] == pytest.approx(1.25)
    assert u2["quadratic form"].iloc[0] == pytest.approx(quotient(counts(rayleigh(2).maximiser, 80)))
    # pinned from a run of this grid (deterministic seeds): u = 2, L = 1, M = 12, W; V1 = W RF = V1 RF there
    cell = t[(t["u"] == 2) & (t["L"] == 1) & (t["M"] == 12)].set_index("reading")["ratio mean"]
    assert cell["W"] == pytest.approx(1.337, abs=1e-3) and cell["V1"] == pytest.approx(1.231, abs=1e-3)
    assert cell["W RF"] == pytest.approx(cell["V1"]) and cell["V1 RF"] == pytest.approx(cell["V1"])
    again = run_experiment(amin_fluid.EXPERIMENT, quick=True, results_dir=out, progress=False, plots=False)
    assert again.computed == 0 and again.cached == 8 * 21


def test_amax_fluid_quick(runs):
    _, got = runs
    summary, df = got["amax-fluid"]
    assert not summary.errors
    t = amax_fluid.summarize(df).set_index(["L", "M", "variant"])
    no_reuse = t.xs("no reuse, random", level="variant")
    assert (no_reuse["ratio min"] == no_reuse["ratio max"]).all()  # without reuse the order does not matter
    assert no_reuse.loc[(1, 10), "ratio mean"] == pytest.approx(4.174, abs=1e-3)
    assert (t["stated lower bound"] == 6).all()  # alpha = 1/4: 4 (1 + 2) / 2
    longs = t.xs("reuse, longs first", level="variant")["ratio mean"]
    rand = t.xs("reuse, random", level="variant")["ratio max"]
    assert (longs >= rand).all()  # the adversarial order is at least as bad as every random one here


def test_chen_load_quick_levels_and_verdicts(runs):
    _, got = runs
    summary, df = got["chen-load"]
    assert not summary.errors
    t = chen_load.summarize(df)
    batch = t[t["setting"] == "all at 0"]
    assert sorted(batch["load"].unique()) == pytest.approx([50 * 126 / 16492, 200 * 126 / 16492], abs=1e-3)
    assert sorted(t[t["setting"] == "Poisson"]["load"].unique()) == pytest.approx([0.5, 1.25], abs=1e-3)
    v = chen_load.verdicts(t)
    assert len(v) == 4 * 7 and v["holds"].dtype == bool
    stops = chen_load.stops_holding(v)
    assert len(stops) == 2 * 7
    md = chen_load.compare(df)
    assert "M = 16,492 tokens is assumed" in md and "first failing load" in md
    assert chen_load.capacity() == pytest.approx(16492 / chen_load.moments()["token_rounds"])


def test_amin_fluid_load_quick(runs):
    _, got = runs
    summary, df = got["amin-fluid-load"]
    assert not summary.errors
    t = amin_fluid.summarize(df)
    assert sorted(t["rho"].unique()) == [10, 40] and set(t["reading"]) == {"W", "V1"} and len(t["M"].unique()) == 1
    # more requests per memory-full: the linear terms weigh less and the ratio moves towards CR(2) = 1.25
    w = t[t["reading"] == "W"].set_index("rho")["ratio mean"]
    assert abs(w[40] - 1.25) < abs(w[10] - 1.25)
