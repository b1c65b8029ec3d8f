"""Prediction generators and the LMSYS-like workload."""

import numpy as np
import pytest

from kvsched import predictions as P
from kvsched.instance import Instance, InstanceError
from kvsched.workload import GENGAMMA, TARGETS, closeness, fit_gengamma, gengamma_pmf, lmsys_like, pmf_stats

INST = Instance(3000, (1,) * 7, (1, 7, 10, 20, 100, 101, 1200))


def test_overlapping_rounds_outward_exactly():
    got = P.overlapping(INST, 0.1)
    assert list(zip(got.lowers, got.uppers)) == [(1, 2), (6, 8), (9, 11), (18, 22), (90, 110), (90, 112),
                                                 (1080, 1320)]
    got = P.overlapping(INST, 0.95)
    assert list(zip(got.lowers, got.uppers))[:4] == [(1, 2), (1, 14), (1, 20), (1, 39)]
    got = P.overlapping(INST, 0.99)
    assert got.lowers[6] == 12 and got.uppers[6] == 2388
    with pytest.raises(InstanceError):
        P.overlapping(INST, 1.5)


def test_buckets_and_common_interval():
    got = P.buckets(INST)
    assert list(zip(got.lowers, got.uppers)) == [(1, 100)] * 5 + [(101, 200), (901, 1000)]
    got = P.common_interval(INST)
    assert set(got.lowers) == {1} and set(got.uppers) == {1000}
    assert P.exact(INST).lowers == INST.outputs == P.exact(INST).uppers


def test_noisy_points():
    assert P.noisy_points(INST, 0.0).uppers == INST.outputs
    a, b = P.noisy_points(INST, 0.5, seed=4), P.noisy_points(INST, 0.5, seed=4)
    assert a.lowers == a.uppers == b.uppers
    ratio = np.asarray(a.uppers[1:]) / INST.o[1:]
    assert np.all((ratio >= 0.5 - 0.05) & (ratio <= 1.5 + 0.08))
    over = P.noisy_points(INST, 0.1, bias=1.0, seed=1)
    assert all(p >= o for p, o in zip(over.uppers, INST.outputs))


def test_from_columns_and_parse():
    got = P.from_columns(INST, [0.2, 6.5, 9.9, 20, 100, 101, 1200], [3, 7.1, 12, 20, 100, 101, 1300])
    assert got.lowers[:3] == (1, 6, 9) and got.uppers[:3] == (3, 8, 12)
    pts = P.from_columns(INST, [1.4, 6.6, 10, 20, 100, 101, 1200])
    assert pts.lowers == pts.uppers and pts.uppers[:2] == (1, 7)
    # one side given: the other is the model's bound (l = 1, u = M - s), never o_i;
    # no side given: exact
    half = Instance(50, (1, 1, 1), (5, 6, 7), lowers=(2, None, None), uppers=(None, 9, None))
    filled = P.parse("instance", half)
    assert filled.lowers == (2, 1, 7) and filled.uppers == (49, 9, 7)
    assert P.parse("overlap:0.1", INST) == P.overlapping(INST, 0.1)
    assert P.parse("rough", INST) == P.common_interval(INST)
    for bad in ("overlap", "noise:x", "nope", "exact:3"):
        with pytest.raises(InstanceError):
            P.parse(bad, INST)


def test_workload_model_matches_published_statistics():
    for kind, tgt in TARGETS.items():
        st = pmf_stats(gengamma_pmf(GENGAMMA[kind], tgt.hi))
        assert st["mean"] == pytest.approx(tgt.mean, rel=1e-6)
        assert st["var"] == pytest.approx(tgt.var, rel=1e-6)
        assert st["median"] == tgt.median


def test_workload_sample_is_close_and_reproducible():
    inst = lmsys_like(2000, seed=0)
    assert inst == lmsys_like(2000, seed=0) and inst.M == 468 + 883
    rows = {(k, s): (t, m, x) for k, s, t, m, x in closeness(inst)}
    assert rows[("input", "median")][2] == 11
    assert rows[("input", "mean")][2] == pytest.approx(41, rel=0.05)
    assert rows[("output", "mean")][2] == pytest.approx(85, rel=0.05)
    assert rows[("output", "var")][2] == pytest.approx(9702, rel=0.1)
    assert 1 <= inst.o.min() and inst.o.max() <= 883 and inst.s.max() <= 468
    corr = lmsys_like(5000, seed=1, rho=0.6)
    assert np.corrcoef(np.log(corr.s), np.log(corr.o))[0, 1] > 0.3


@pytest.mark.slow
def test_fit_reproduces_the_stored_parameters():
    for kind, tgt in TARGETS.items():
        assert fit_gengamma(tgt) == pytest.approx(GENGAMMA[kind], rel=1e-4)


def test_prediction_columns_of_a_trace(tmp_path):
    from kvsched.traces import load_trace

    csv = tmp_path / "t.csv"
    csv.write_text("p,o,lo,hi,guess\n3,10,8,12,9.6\n0,5,1,9,5\n2,7,7,7,6.4\n4,20,15,30,25\n")
    load = load_trace(csv, M=100, columns={"prompt": "p", "output": "o"}, drop_invalid=True)
    assert load.instance.outputs == (10, 7, 20)  # the row with prompt 0 is dropped
    got = P.trace_columns(load, "lo", "hi")
    assert got.lowers == (8, 7, 15) and got.uppers == (12, 7, 30)
    pts = P.trace_columns(load, "guess")
    assert pts.lowers == pts.uppers == (10, 6, 25)
    with pytest.raises(InstanceError, match="no prediction column"):
        P.trace_columns(load, "nope")
