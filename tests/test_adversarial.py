"""Adversarial search: reproducible from its seed; every saved instance
validates, re-certifies to the recorded OPT (proven) and re-runs to the recorded ALG."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kvsched import paths
from kvsched.experiments.adversarial import SearchSettings, mutate, random_instance, repair, save, search, verify
from kvsched.experiments.cli import cli
from kvsched.experiments.empirical import algorithm, certify_small
from kvsched.io import read_instance
from kvsched.validator import validate

QUICK = SearchSettings(iterations=25, keep=2)


def test_repair_makes_every_request_fit():
    s, o = [0, 9, 3], [5, 9, 0]
    repair(10, s, o)
    assert (s, o) == ([1, 1, 3], [5, 9, 1])


def test_moves_keep_instances_valid_and_in_range():
    rng = np.random.default_rng(3)
    st = SearchSettings(n_range=(2, 5), M_range=(4, 9), arrivals=True)
    inst = random_instance(rng, st)
    for _ in range(300):
        inst = mutate(inst, rng, st)
        assert 2 <= inst.n <= 5 and 4 <= inst.M <= 9
        assert all(1 <= s and 1 <= o and s + o <= inst.M for s, o in zip(inst.prompts, inst.outputs))
        assert all(0 <= a for a in inst.arrivals)


@pytest.mark.parametrize("label", ["mcsf", "amin/W"])
def test_search_is_reproducible_from_its_seed(label):
    a = search(label, seed=7, settings=QUICK)
    b = search(label, seed=7, settings=QUICK)
    assert [(f.instance, f.alg, f.opt, f.iteration) for f in a] == [(f.instance, f.alg, f.opt, f.iteration) for f in b]
    assert len(a) == 2 and a[0].ratio >= a[1].ratio >= 1.0
    for f in a:  # the recorded ALG and OPT are the algorithm's and the proven optimum
        cert = certify_small(f.instance)
        assert cert.optimal and cert.objective == f.opt
        assert algorithm(label).run(f.instance).objective == f.alg


def test_saved_instances_validate_and_recertify(tmp_path):
    found = search("fcfs", seed=2, settings=QUICK)
    paths = save(found, "fcfs", 2, QUICK, tmp_path)
    assert [p.name for p in paths] == ["fcfs-seed2-rank1.json", "fcfs-seed2-rank2.json"]
    for f, p in zip(found, paths):
        inst = read_instance(p)
        assert inst.digest == f.instance.digest
        meta = json.loads(p.with_suffix(".meta.json").read_text())
        assert (meta["alg"], meta["opt"], meta["seed"], meta["heuristic"]) == (f.alg, f.opt, 2, "fcfs")
        r = verify(p)
        assert r["opt_proven"] and r["opt_matches"] and r["alg_matches"]
    # `kvsched certify` reads the saved file and proves the recorded OPT
    out = CliRunner().invoke(cli, ["certify", str(paths[0]), "--time-limit", "10", "--threads", "1", "--json"])
    assert out.exit_code == 0, out.output
    last = json.loads(out.output.strip().splitlines()[-1])
    assert last["status"] == "optimal" and last["objective"] == found[0].opt
    sched = read_instance(paths[0])
    assert validate(sched, algorithm("fcfs").run(sched).schedule).feasible


def test_cli_search_and_verify(tmp_path):
    out = CliRunner().invoke(cli, ["adversarial", "search", "sorted-f/dp", "--seed", "4", "--iterations", "15",
                                   "--keep", "1", "--out-dir", str(tmp_path), "--json"])
    assert out.exit_code == 0, out.output
    worst = json.loads(out.output.strip().splitlines()[-1])["worst"][0]
    f = search("sorted-f/dp", seed=4, settings=SearchSettings(iterations=15, keep=1))[0]
    assert (worst["alg"], worst["opt"]) == (f.alg, f.opt)
    out = CliRunner().invoke(cli, ["adversarial", "verify", worst["path"]])
    assert out.exit_code == 0 and out.output.startswith("ok")
    meta = tmp_path / "sorted-f_dp-seed4-rank1.meta.json"
    d = json.loads(meta.read_text())
    d["opt"] += 1
    meta.write_text(json.dumps(d))
    out = CliRunner().invoke(cli, ["adversarial", "verify", worst["path"]])
    assert out.exit_code == 1 and "BAD" in out.output


def test_cli_rejects_unknown_heuristic_and_bad_files(tmp_path):
    out = CliRunner().invoke(cli, ["adversarial", "search", "nope"])
    assert out.exit_code == 2 and "Traceback" not in out.output
    bad = tmp_path / "x.json"
    bad.write_text('{"M": 3, "requests": [{"prompt": 3, "output": 2}]}')
    out = CliRunner().invoke(cli, ["adversarial", "verify", str(bad)])
    assert out.exit_code == 1 and "no sidecar" in out.output
    (tmp_path / "x.meta.json").write_text("{}")
    out = CliRunner().invoke(cli, ["adversarial", "verify", str(bad)])
    assert out.exit_code == 2 and "exceeds M = 3" in out.output and "Traceback" not in out.output


COMMITTED = sorted((paths.results_dir() / "worst").glob("*-rank[0-9].json"))  # instances; sidecars are .meta.json


@pytest.mark.skipif(not COMMITTED, reason="no committed results/worst yet")
def test_committed_worst_instances_recertify():
    assert len(COMMITTED) == len(pd.read_csv(paths.results_dir() / "worst" / "index.csv"))
    for p in COMMITTED:
        r = verify(p)
        assert r["opt_proven"] and r["opt_matches"] and r["alg_matches"], p.name


def test_reach_search_in_deterministic_mode_repeats_itself(tmp_path):
    from kvsched.experiments.theory_measure import run_reach

    tables = []
    for k in range(2):
        index = run_reach(12, seeds=(1, 2), labels=("mcsf",), n_max=6, M_max=12, out_dir=tmp_path / f"r{k}")
        tables.append(index.read_text())
        meta = json.loads((tmp_path / f"r{k}" / "run.json").read_text())
        assert meta["settings"]["deterministic"] is True and meta["seeds"] == [1, 2]
    assert tables[0] == tables[1] and tables[0].count("\nmcsf,") == 2 * 3  # two seeds, three kept each
    side = json.loads(next((tmp_path / "r0").glob("mcsf-seed1-rank1.meta.json")).read_text())
    assert side["reproduce"].endswith("--deterministic")
