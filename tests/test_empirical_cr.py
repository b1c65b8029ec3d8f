"""Empirical competitive ratios (docs/model.md §7.3): ratios only against proven optima, the SF
family's ratio against the certified optimum grows with M, and the A_max family against H-SF
next to the stated lower bound. (Rayleigh-quotient and family-shape tests: test_theory.py;
SF / Sorted-F at larger M: test_sorted_f.py; the A_max batch model: test_online_policies.py.)"""

from __future__ import annotations

import pytest

from kvsched.experiments.empirical import (
    ALGORITHMS,
    BOUND_ONLY,
    HSF,
    PROVEN,
    algorithm,
    certify_small,
    hsf_rows,
    opt_ratio,
    ratio_rows,
)
from kvsched.heuristics.online import run_policy
from kvsched.instance import Instance
from kvsched.result import Result, finish
from kvsched.schedule import Schedule
from kvsched.theory import families as fam
from kvsched.theory.ratios import amax_lower, amax_upper

WORKED = Instance(6, (2,) * 4, (1, 1, 2, 3))  # docs/model.md §1.8 worked check: H-SF TCT 11


def test_ratio_is_only_taken_against_a_proven_optimum():
    sched = Schedule.from_starts(WORKED, [0, 0, 1, 3])
    proven = finish(Result("certify", bound=11.0, schedule=sched), WORKED)
    assert opt_ratio(15, proven) == {"alg": 15, "opt": 11, "best_known": 11, "bound": 11.0,
                                     "denominator": PROVEN, "ratio": 15 / 11, "ratio_lower": 15 / 11,
                                     "ratio_upper": 15 / 11}
    gap = finish(Result("certify", bound=9.2, schedule=sched), WORKED)  # OPT in [10, 11]
    row = opt_ratio(15, gap)
    assert row["denominator"] == BOUND_ONLY and row["ratio"] is None and row["opt"] is None
    assert row["ratio_lower"] == 15 / 11 and row["ratio_upper"] == 15 / 10


def test_every_algorithm_on_the_spec_instance():
    cert = certify_small(WORKED)
    assert cert.optimal and cert.objective == 11
    rows = {r["algorithm"]: r for r in ratio_rows(WORKED, cert)}
    assert list(rows) == [a.label for a in ALGORITHMS]
    assert all(r["denominator"] == PROVEN for r in rows.values())
    for label in ("fcfs", "mcsf", "sorted-f/dp", "sorted-f/quantile", "largest-batch", "amin/V1"):
        assert rows[label]["alg"] == 11 and rows[label]["ratio"] == 1.0
    # no intervals: A_max believes u = M - s = 4 for all, so it runs one request at a time in
    # its seeded random order: 15 = 1 + 3 + 4 + 7 (order o = 1, 2, 1, 3)
    assert rows["amax"]["alg"] == 15
    assert rows["amin/W"]["alg"] == 14  # W cancels and restarts once; V1 happens to hit OPT


def test_algorithm_lookup():
    assert algorithm("sorted-f/swap").params == {"selector": "swap"}
    with pytest.raises(KeyError):
        algorithm("sorted-f/nope")


def test_sf_family_ratio_against_the_certified_optimum_increases_with_M():
    """SF / OPT with OPT proven (oracle for n <= 7, CP-SAT at n = 11) on the blocker family:
    13/13, 28/25, 56/41; FCFS = SF here (blockers listed first)."""
    got = []
    for M in (4, 9, 16):
        inst = fam.sf_blocker_family(M)
        cert = certify_small(inst, time_limit=30)
        assert cert.optimal
        rows = {r["algorithm"]: r for r in ratio_rows(inst, cert, [algorithm("mcsf"), algorithm("fcfs")])}
        assert rows["mcsf"]["alg"] == rows["fcfs"]["alg"]
        got.append((rows["mcsf"]["alg"], cert.objective))
    assert got == [(13, 13), (28, 25), (56, 41)]
    ratios = [a / o for a, o in got]
    assert ratios[0] < ratios[1] < ratios[2]


def test_amax_family_against_hsf_and_the_stated_lower_bound():
    """The theory module's A_max family at alpha = 1/4 (N_l / N_u = 2, l = 10, u = 40, s = 1,
    M = 2000, 40 + 80 requests, random order seed 0), A_max with convention W and reuse of
    freed memory (the default): A_max / H-SF = 3348 / 2400 = 1.395, far below the stated lower
    bound alpha^-1 (1 + alpha^-1/2) / 2 = 6 (a lower bound on the worst case, which needs an
    adversarial order, see test_online_policies). Without reuse of freed memory: 6138 / 2400 = 2.558."""
    inst = fam.amax_family(M=2000, l=10, u=40, n_u=40, s=1, seed=0)
    rows = {r["algorithm"]: r for r in hsf_rows(inst)}
    assert rows["amax"]["denominator"] == HSF and rows["amax"]["best_known"] == 2400
    assert rows["amax"]["alg"] == 3348 and rows["amax"]["ratio"] == pytest.approx(1.395)
    assert float(amax_lower(0.25)) == 6.0 and float(amax_upper(0.25)) == 10.0
    no_reuse = run_policy("amax", inst, seed=0, reuse_freed=False).objective
    assert no_reuse == 6138  # 2.558 x H-SF: closer to 6, still below it
    # A_min with the exact two-point interval [l, u] matches H-SF here
    assert rows["amin/W"]["ratio"] == 1.0 and rows["amin/V1"]["ratio"] == 1.0



def test_cr_small_task_rows_and_summary():
    import pandas as pd

    from kvsched.experiments.cr_small import EXPERIMENT, compare, generate, summarize, task
    from kvsched.experiments.spec import Algorithm, Case, InstanceSpec

    spec = InstanceSpec("tiny", 5, 0, {})
    case = Case(spec, generate(spec), {"time_limit": 10.0, "threads": 1})
    rows = []
    for label in ("mcsf", "amax"):
        row = task(case, Algorithm(label))
        assert row["denominator"] == PROVEN and row["opt"] == 12  # tiny n=5 seed 0: OPT 12 (oracle)
        assert row["ratio"] == row["objective"] / 12 and row["bound"] == 12.0
        rows.append({**{k: v for k, v in row.items() if k != "schedule"}, "algorithm": label,
                     "instance_params": "{}", "status": row["status"], "instance_hash": case.instance.digest})
    big = InstanceSpec("amin-fluid", 50, 0, {"u": 2})
    case = Case(big, generate(big), {"time_limit": 10.0, "threads": 1})
    row = task(case, Algorithm("amin/W"))
    assert row["denominator"] == HSF and row["opt"] is None and row["bound"] is None
    rows.append({**{k: v for k, v in row.items() if k != "schedule"}, "algorithm": "amin/W",
                 "instance_params": '{"u": 2}', "status": row["status"], "instance_hash": case.instance.digest})
    s = summarize(pd.DataFrame(rows))
    assert list(s["denominator"]) == [PROVEN, PROVEN, HSF]
    text = compare(pd.DataFrame(rows))
    assert "| mcsf | proven-optimum | all 0 | n = 5 | 1 |" in text
    assert "n <= 10 (n = 5): optimum proven on 1 of 1 instances" in text and "bound-only" not in text
    assert {a.name for a in EXPERIMENT.algorithms} == {a.label for a in ALGORITHMS}
