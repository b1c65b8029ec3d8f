"""A_min conventions in the fluid limit (docs/model.md §4.3), small version; the full measurement
is ``python3 -m kvsched.experiments.theory_report measure-amin`` (results/theory-checks/)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kvsched import paths
from kvsched.experiments.amin_conventions import counts, fluid_instance, measure, run_amin, tie_order
from kvsched.instance import Instance


def test_counts_follow_the_maximiser():
    assert counts([2 / 3, 1 / 3], 100) == [100, 50]
    assert counts([0.5, 0.0001], 10) == [10, 1]  # never zero requests of a length


def test_fluid_instance_u2():
    inst = fluid_instance(2, n1=200, m_factor=20)
    assert inst.n == 300 and inst.M == 60 and inst.outputs.count(1) == 200
    assert set(inst.lowers) == {1} and set(inst.uppers) == {2} and set(inst.prompts) == {1}


def test_tie_orders():
    inst = fluid_instance(3, n1=20, m_factor=10)
    longs = tie_order(inst, "longs-first")
    assert inst.o[int(np.argmin(longs))] == 3 and inst.o[int(np.argmax(longs))] == 1
    shorts = tie_order(inst, "shorts-first")
    assert list(shorts) == list(range(inst.n))  # the instance is listed by ascending length
    with pytest.raises(ValueError):
        tie_order(inst, "alphabetical")


def test_u2_random_ties_stay_under_cr_and_longs_first_exceed_it():
    """n1 = 400, M = 150: W with seeded random ties measures 1.2409 < CR(2) = 1.25; the
    adversarial tie rule (longest first among equal estimates) 1.4424 > 1.25: the quadratic
    form bounds A_min only with random (or favourable) ties."""
    got = {m.ties: m for m in measure(2, n1=400, m_factor=50, conventions=("W",),
                                      ties=("random", "longs-first"), seeds=(0,))}
    assert got["random"].cr == pytest.approx(1.25)
    assert got["random"].ratio == pytest.approx(1.2409, abs=1e-4)
    assert got["longs-first"].ratio == pytest.approx(1.4424, abs=1e-4)


@pytest.mark.parametrize("convention", ["W", "V1"])
def test_resolve_first_schedules_validate(convention):
    """Random instances, wrong-free intervals [l_i <= o_i <= u_i], some with arrivals: the
    resolve-first order never overflows (the simulator would raise) and validates."""
    rng = np.random.default_rng(5)
    for k in range(40):
        M, n = int(rng.integers(6, 30)), int(rng.integers(1, 20))
        s = rng.integers(1, M // 2 + 1, n)
        o = np.array([rng.integers(1, M - x + 1) for x in s])
        a = rng.integers(0, 8, n) if k % 2 else np.zeros(n, dtype=int)
        lo = np.array([rng.integers(1, x + 1) for x in o])
        inst = Instance(M, tuple(s.tolist()), tuple(o.tolist()), tuple(a.tolist()), tuple(lo.tolist()))
        res = run_amin(inst, seed=k, convention=convention, order="resolve-first")
        assert res.report.feasible and res.objective >= sum(o)


def test_resolve_first_at_u2():
    """n1 = 400, M = 150, seed 0: resolve-first never cancels here (admission checks the true
    next-round memory) and measures 1.2189 under both conventions, the value of V1's
    admit-first order; W admit-first cancels 71 runs and measures 1.2409."""
    got = {(m.order, m.convention): m for m in measure(2, n1=400, m_factor=50, ties=("random",), seeds=(0,),
                                                       orders=("admit-first", "resolve-first"))}
    for conv in ("W", "V1"):
        assert got["resolve-first", conv].ratio == pytest.approx(1.2189, abs=1e-4)
        assert got["resolve-first", conv].cancellations == 0
    assert got["admit-first", "V1"].ratio == pytest.approx(1.2189, abs=1e-4)
    assert got["admit-first", "W"].ratio == pytest.approx(1.2409, abs=1e-4)
    with pytest.raises(ValueError):
        run_amin(fluid_instance(2, n1=5, m_factor=5), order="sideways")


FLUID = paths.results_dir() / "theory-checks" / "amin_fluid.csv"


@pytest.mark.skipif(not FLUID.exists(), reason="no committed measurement yet")
def test_committed_measurement_covers_u_2_to_10():
    df = pd.read_csv(FLUID)
    assert sorted(df["u"].unique()) == list(range(2, 11))
    assert set(df["convention"]) == {"W", "V1"} and set(df["order"]) == {"admit-first", "resolve-first"}
    assert set(df["ties"]) == {"random", "index", "shorts-first", "longs-first"}
    rnd = df[df["ties"].eq("random")].pivot_table(index="u", columns=["order", "convention"], values="ratio")
    cr = df.groupby("u")["cr"].first()
    assert cr.is_monotonic_increasing and cr[2] == pytest.approx(1.25)
    # the committed measurement (n1 = 3000, M = 200 (1 + u), seeds 0-4): W (admit-first) stays
    # under CR(u) at every u; V1 and both resolve-first readings measure the same ratios and
    # exceed CR(u) at u = 4 (1.486 > 1.466)
    w = rnd["admit-first", "W"]
    assert (w < cr).all()
    for col in (("admit-first", "V1"), ("resolve-first", "W"), ("resolve-first", "V1")):
        assert np.allclose(rnd[col], rnd["admit-first", "V1"], atol=1e-9, rtol=0)
    assert rnd.loc[4, ("admit-first", "V1")] > cr[4]
    lf = df[df["ties"].eq("longs-first") & df["order"].eq("admit-first")]
    over = {c: sorted(part.loc[part["ratio"] > part["cr"], "u"]) for c, part in lf.groupby("convention")}
    assert over == {"V1": list(range(2, 11)), "W": list(range(2, 9))}
