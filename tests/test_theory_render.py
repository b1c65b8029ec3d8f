"""The theory report's verdicts are computed from numbers and stated thresholds: the same
renderer fed numbers on either side of a threshold flips its verdict."""

from __future__ import annotations

import pandas as pd
import pytest

from kvsched.experiments import theory_render as tr


def _stagger(ratio: float) -> pd.DataFrame:
    return pd.DataFrame({"L": ["6"], "k": ["24"], "batches": ["8"], "n": ["192"], "Sorted-F / witness": [str(ratio)],
                         "certified": [True], "ratio": [ratio]})


def _row(markdown: str, claim: str) -> str:
    return next(line for line in markdown.splitlines() if line.startswith(f"| {claim}"))


@pytest.mark.parametrize("ratio, word", [(47.9, "**not contradicted**"), (48.2, "**contradicted**")])
def test_sorted_f_verdict_flips_at_48(tmp_path, ratio, word):
    md = tr.render({"results_dir": tmp_path, "stagger": _stagger(ratio)}, stamp="test")
    row = _row(md, "Sorted-F <= 48 OPT")
    assert word in row and f"{ratio:.4f}" in row
    assert ("**contradicted**" in row) == (ratio > 48)


def _amin_summary(ratio: float, ratio_min: float, drift_ratio: float) -> pd.DataFrame:
    """Two M and two L per u = 2: the last (L, M) has ``ratio``; the previous M ``drift_ratio``."""
    rows = []
    for L, M, r in ((12, 100, ratio), (48, 200, drift_ratio), (48, 400, ratio)):
        rows.append({"u": 2, "L": L, "M": M, "n": 10, "reading": "W", "seeds": 5, "ratio mean": r,
                     "ratio min": ratio_min if M == 400 else r, "ratio max": r + 0.01, "ratio sd": 0.0,
                     "CR(u)": 1.25, "quadratic form": 1.25, "cancellations": 0.0})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("ratio, ratio_min, prev, claim_word, u_word", [
    (1.255, 1.24, 1.255, "not contradicted; CR(u) reproduced", "reproduces"),  # within 2 % of CR(2) = 1.25
    (1.40, 1.38, 1.40, "contradicted", "exceeds"),                # every seed 10 % above
    (1.10, 1.09, 1.10, "not contradicted", "stays under"),
    (1.40, 1.38, 1.20, "not contradicted; undecided", "not converged"),  # the last M doubling moved it 17 %
])
def test_amin_fluid_verdict_follows_the_numbers(tmp_path, ratio, ratio_min, prev, claim_word, u_word):
    num = {"results_dir": tmp_path, "amin_fluid": {"summary": _amin_summary(ratio, ratio_min, prev), "meta": {}}}
    (claim_v, per_u), = tr.amin_verdicts(tr.amin_limits(num["amin_fluid"]["summary"])).values()
    assert per_u[2].word == u_word and claim_v.word.startswith(claim_word)
    row = _row(tr.render(num, stamp="test"), "A_min <= CR(u) OPT, reading W")
    assert f"**{claim_word}" in row and ("**contradicted**" in row) == (claim_word == "contradicted")


@pytest.mark.parametrize("measured, word", [(5.8, "reached"), (5.6, "not reached")])
def test_amax_lower_bound_reached_at_95_percent(measured, word):
    assert tr.verdict_amax_lower(measured, 6.0).word == word  # 0.95 * 6 = 5.7


def test_log_growth_and_sf_lower_bound_thresholds():
    assert tr.verdict_log_growth(0.009, 1e-12).word == "consistent"
    assert tr.verdict_log_growth(0.011, 1e-12).word == "not logarithmic on the range"
    assert tr.verdict_log_growth(0.001, 1e-6).word == "undecided"
    ok = [(16, 1.24), (100, 2.88), (400, 5.54)]
    assert tr.verdict_sf_lower(ok).word.startswith("supported")
    assert tr.verdict_sf_lower([(16, 0.5), (400, 5.54)]).word == "not shown"  # 0.5 < (2/13) * 4 = 0.615


def test_chen_claims_flip_at_close():
    from kvsched.experiments.chen_predictions import CLOSE, claims

    def table(amin_rough):
        return pd.DataFrame({"A_max / H-SF": [16.0, 1.4, 1.05, 1.7, 1.8], "A_min / H-SF": [amin_rough, 1.0, 1.0, 1.0, 1.0]},
                            index=["rough", "buckets", "overlap:0.1", "overlap:0.95", "overlap:0.99"])

    for value in (CLOSE - 0.01, CLOSE + 0.01):
        got = {c: ok for c, ok, _ in claims(table(value))}
        assert got["A_min close to H-SF (rough)"] == (value <= CLOSE)
        assert got["A_max poor with [1, 1000], much better with buckets"]
        assert got["A_max good at x = 0.1, deteriorates at x = 0.95, 0.99"]


def _load_summary(r120: float, r240: float) -> pd.DataFrame:
    return pd.DataFrame([{"u": 4, "reading": "W", "rho": rho, "ratio mean": r, "CR(u)": 1.4659, "quadratic form": 1.4659}
                         for rho, r in ((60, 1.40), (120, r120), (240, r240))])


@pytest.mark.parametrize("r120, r240, word", [(1.44, 1.45, "within CR(u)"), (1.60, 1.65, "exceeds CR(u)")])
def test_load_extrapolation_verdict_flips(tmp_path, r120, r240, word):
    ll = tr.load_limits(_load_summary(r120, r240))
    assert ll["extrapolated"].iloc[0] == pytest.approx(2 * r240 - r120)  # a 1 / rho correction
    c = tr.load_claim({"amin_load": {"summary": _load_summary(r120, r240), "meta": {}}})
    assert c.verdict.word == word  # 1.46 / 1.4659 < 1.02; 1.70 / 1.4659 > 1.02


def test_a_converged_excess_at_a_smaller_L_counts():
    """At L = 48 the last M doubling moved the ratio 17 % (not converged); at L = 12 it is
    converged 10 % above CR(2) with every seed above: the reading is contradicted there."""
    rows = [{"u": 2, "L": L, "M": M, "n": 10, "reading": "W RF", "seeds": 5, "ratio mean": r, "ratio min": r - 0.01,
             "ratio max": r + 0.01, "ratio sd": 0.0, "CR(u)": 1.25, "quadratic form": 1.25, "cancellations": 0.0}
            for L, M, r in ((12, 100, 1.375), (12, 200, 1.376), (48, 400, 1.20), (48, 800, 1.40))]
    s = pd.DataFrame(rows)
    lim = tr.amin_limits(s)
    (_, per_u), = tr.amin_verdicts(lim).values()
    assert per_u[2].word == "not converged"
    (claim, per_u), = tr.amin_verdicts(lim, s).values()
    assert per_u[2].word == "exceeds" and "L = 12" in per_u[2].detail and claim.word == "contradicted"
