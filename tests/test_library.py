"""The benchmark library: the committed library validates, tampering is detected, entries
re-certify without losing what they had."""

import csv
import json
import shutil

import pytest
from click.testing import CliRunner

from kvsched import paths
from kvsched.experiments import library as lib
from kvsched.experiments.cli import cli

COMMITTED = paths.REPO_ROOT / "results" / "library"


@pytest.fixture(scope="module")
def small_library(tmp_path_factory):
    """Two quick entries: one proven by the closed form, one with a Lagrangian certificate."""
    folder = tmp_path_factory.mktemp("library")
    for spec in (lib.Spec("random-n5-seed0", "random", 5, 0), lib.Spec("jaillet-m1-n12-seed3", "jaillet", 12, 3,
                                                                      (("model", 1),))):
        entry = lib.new_entry(spec)
        lib.certify_entry(entry, exact=False, time_limit=10)
        lib.save_entry(entry, folder)
    lib.write_index(folder)
    return folder


def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def test_small_library_validates_and_has_a_lagrangian_certificate(small_library):
    count, problems = lib.validate_library(small_library)
    assert count == 2 and problems == []
    jl = lib.load_entry("jaillet-m1-n12-seed3", small_library)
    assert jl["certificate"]["kind"] == "lagrangian" and not jl["proven_optimal"]
    assert jl["bound"] > lib.lower_bound(lib.entry_instance(jl))  # the LP beats the closed form here
    assert lib.recompute_lagrangian(lib.entry_instance(jl), jl["certificate"]) == pytest.approx(jl["bound"], abs=1e-6)


@pytest.mark.parametrize("tamper, expect", [
    (lambda e: e.update(objective=e["objective"] - 1), "recorded objective"),
    (lambda e: e["schedule"]["starts"].__setitem__(0, e["schedule"]["starts"][0] + 1), "schedule"),
    (lambda e: e.update(bound=e["bound"] + 5), "Lagrangian certificate gives"),
    (lambda e: e["certificate"]["multipliers"].__setitem__(3, e["certificate"]["multipliers"][3] + 1), "certificate"),
    (lambda e: e["instance"]["requests"][0].update(output=e["instance"]["requests"][0]["output"] + 1), "digest"),
    (lambda e: e.update(proven_optimal=True), "proven_optimal"),
])
def test_tampered_entry_is_detected(small_library, tmp_path, tamper, expect):
    folder = _copy(small_library, tmp_path / "lib")
    path = folder / "jaillet-m1-n12-seed3.json"
    entry = json.loads(path.read_text())
    before = json.dumps(entry)
    tamper(entry)
    assert json.dumps(entry) != before
    path.write_text(json.dumps(entry))
    _, problems = lib.validate_library(folder)
    assert problems and any(expect in p for p in problems), problems


def test_index_mismatch_and_cli_exit_code(small_library, tmp_path):
    folder = _copy(small_library, tmp_path / "lib")
    runner = CliRunner()
    ok = runner.invoke(cli, ["library", "validate", "--dir", str(folder)])
    assert ok.exit_code == 0 and "2 entries, 0 problem(s)" in ok.output
    index = folder / "index.csv"
    rows = list(csv.DictReader(index.open()))
    rows[0]["objective"] = str(int(rows[0]["objective"]) - 1)
    with index.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    bad = runner.invoke(cli, ["library", "validate", "--dir", str(folder)])
    assert bad.exit_code == 1 and "index.csv row differs" in bad.output and "Traceback" not in bad.output


def test_recertify_keeps_the_best_and_records_the_method(small_library, tmp_path):
    folder = _copy(small_library, tmp_path / "lib")
    before = lib.load_entry("jaillet-m1-n12-seed3", folder)
    out = CliRunner().invoke(cli, ["library", "certify", "jaillet-m1-n12-seed3", "--dir", str(folder),
                                   "--solver", "cpsat", "--time-limit", "5", "--threads", "1"])
    assert out.exit_code == 0, out.output
    after = lib.load_entry("jaillet-m1-n12-seed3", folder)
    assert after["objective"] <= before["objective"] and after["bound"] >= before["bound"] - 1e-9
    if after["objective"] < before["objective"]:
        assert after["schedule_by"]["method"] == "cpsat" and after["schedule_by"]["limits"]["time_limit"] == 5
    assert lib.validate_library(folder)[1] == []
    missing = CliRunner().invoke(cli, ["library", "certify", "no-such-entry", "--dir", str(folder)])
    assert missing.exit_code != 0 and "no library entry" in missing.output


@pytest.mark.skipif(not (COMMITTED / "index.csv").is_file(), reason="no committed library yet")
def test_committed_library_validates():
    count, problems = lib.validate_library(COMMITTED)
    assert count >= 30 and problems == []
    families = {e["family"] for e in lib.entries(COMMITTED)}
    assert {"random", "jaillet", "lmsys-like"} <= families
