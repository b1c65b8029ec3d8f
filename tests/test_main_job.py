"""The README's main command path, end to end in subprocesses: certify the built-in default
set (`kvsched demo`) and run `kvsched reproduce --quick` on real (uncached) experiments."""

import json
from pathlib import Path

from helpers import last_json, run_cli


def test_demo_certifies_the_default_set():
    out = run_cli("demo", "--time-limit", "20")
    assert out.returncode == 0, out.stderr
    rows = {line.split()[0]: line.split() for line in out.stdout.splitlines()[2:] if line.strip()}
    # the worked instance of docs/model.md §1.8: optimum 11 (= H-SF), proven
    assert rows["spec-worked"][3:7] == ["11", "11", "11", "11.0"] and rows["spec-worked"][8] == "optimal"
    # 3-partition with m = 3: OPT = 3 m (m + 1) / 2 = 18, proven
    assert rows["partition-m3"][5] == "18" and rows["partition-m3"][8] == "optimal"
    assert len(rows) == 6


def test_reproduce_quick_runs_experiments(tmp_path):
    out = run_cli("reproduce", "--quick", "--only", "cr-small", "--results", tmp_path,
                  "--no-progress", "--no-plots", "--json")
    assert out.returncode == 0, out.stderr
    payload = last_json(out.stdout)
    (exp,) = payload["experiments"]
    assert exp["name"] == "cr-small" and exp["ok"] and exp["computed"] == exp["tasks"] > 0 and not exp["errors"]
    run = Path(payload["run_dir"])
    assert run.parent == tmp_path / "runs" and not (tmp_path / "cr-small").exists()  # no reference written
    readme = (run / "README.md").read_text()
    assert "cr-small" in readme
    assert not exp["reference"]["has_reference"] and "no reference tables there" in (run / "reference.md").read_text()
    import pandas as pd

    df = pd.read_csv(run / "cr-small" / "quick" / "results.csv")
    assert len(df) == exp["tasks"] and (df["status"] != "error").all()
    # a ratio is only ever taken against a proven optimum or against H-SF, never an unproven "optimum"
    assert set(df["denominator"]) <= {"proven-optimum", "H-SF", "bound-only"}
    proven = df[df["denominator"] == "proven-optimum"]
    assert len(proven) > 0 and (proven["ratio"] >= 1 - 1e-9).all()
    assert json.loads((run / "cr-small" / "quick" / "run.json").read_text())["computed"] == exp["tasks"]
