"""wang-workloads: a tiny grid through the runner (validated schedules, expected columns, rows
never below their bound), hand-computed SF / Sorted-F values on sf-blockers, the workloads."""

import dataclasses

import numpy as np
import pytest
from helpers import run_quick

from kvsched import experiments
from kvsched.bounds import lower_bound
from kvsched.experiments import wang_workloads as W
from kvsched.experiments.cache import ResultStore
from kvsched.experiments.spec import Grid, InstanceSpec
from kvsched.schedule import Schedule
from kvsched.theory.families import sf_blocker_family
from kvsched.validator import validate

TINY = dataclasses.replace(
    W.EXPERIMENT, name="test-wang-tiny",
    quick_grids=(
        Grid("conversation", (30,), (0,), {"M": 1408, "source": "builtin"}),
        Grid("long-prompt", (8,), (0,), {"M": 256, "unit": 64, "source": "builtin", "bound": "lp"}),
        Grid("sf-blockers", (20,), (0,), {"M": 16, "bound": "lp"}),
    ))


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("wang")
    summary, df = run_quick(TINY, out)
    return summary, df, out


def test_registered():
    assert experiments.get("wang-workloads") is W.EXPERIMENT
    labels = {a.label for a in W.ALGORITHMS}
    assert {"fcfs", "mcsf", "largest-batch", "sorted-f(selector=dp)", "sorted-f(selector=swap)",
            "sorted-f(selector=quantile)", "sorted-f(epsilon=0.1, selector=scaled-dp)"} == labels


def test_tiny_grid_rows(tiny_run):
    summary, df, _ = tiny_run
    assert summary.errors == [] and summary.tasks == 3 * len(W.ALGORITHMS) == len(df)
    assert (df["status"] != "error").all()
    for col in ("bound", "objective", "bound_kind", "workload_source", "unit", "ratio", "heuristic_time",
                "schedule_hash"):
        assert df[col].notna().all(), col
    # every schedule is at least its bound; the ratio column is TCT / bound
    assert (df["objective"] >= df["bound"] - 1e-9).all()
    assert np.allclose(df["ratio"], df["objective"] / df["bound"])
    kinds = df.groupby("family")["bound_kind"].agg(set)
    assert kinds["conversation"] == {"closed-form"}
    assert kinds["long-prompt"] == {"lp"} and kinds["sf-blockers"] == {"lp"}
    assert df[df["family"] == "conversation"]["workload_source"].str.contains("lmsys-like generator").all()
    assert df[df["family"] == "long-prompt"]["unit"].eq(64).all()


def test_sf_blockers_hand_values(tiny_run):
    """M = 16: 4 blockers (15, 1) then 16 requests (1, 2). SF runs the blockers at rounds 0-3
    (completions 1..4) and then the small ones 5 at a time (3 * 5 = 15 <= 16 at their
    peak): completions 6, 8, 10, 12 -> 10 + 30 + 40 + 50 + 12 = 142. Sorted-F takes three
    batches of 5 small ones first (F = 10 / 25), then the blockers, then the last small one:
    5 (2 + 4 + 6) + 7 + 8 + 9 + 10 + 12 = 106."""
    _, df, _ = tiny_run
    fam = df[df["family"] == "sf-blockers"].set_index("label")["objective"]
    assert fam["mcsf"] == 142 and fam["fcfs"] == 142
    assert fam["sorted-f(selector=dp)"] == 106
    lp = df[df["family"] == "sf-blockers"]["bound"].iloc[0]
    assert lp <= 106 and lp > lower_bound(sf_blocker_family(16, small=16))  # the LP beats the closed form here


def test_stored_schedules_revalidate(tiny_run):
    _, df, out = tiny_run
    store = ResultStore(out / "cache" / "test-wang-tiny.jsonl")
    for row in df.sample(5, random_state=0).itertuples():
        rec = store.get(row.key)
        spec = InstanceSpec.from_dict(rec["instance"])
        inst = W.generate(spec)
        rep = validate(inst, Schedule(tuple(tuple(tuple(r) for r in rs) for rs in rec["schedule"])))
        assert rep.feasible and rep.objective == row.objective


def test_summary_and_compare(tiny_run):
    _, df, out = tiny_run
    text = (out / "test-wang-tiny" / "quick" / "summary.md").read_text()
    assert "mean TCT/bound" in text and "sf-blockers" in text
    md = W.compare(df)
    line = next(l for l in md.splitlines() if l.startswith("| sf-blockers"))
    assert "| 1.340 | yes |" in line  # SF / best Sorted-F = 142 / 106
    assert "2508.06133" in W.PAPER["source"] and "mixture" in W.PAPER["reported"]


def test_workloads_builtin_and_units():
    inst, label = W.workload("mixed", 9, seed=3, M=16_492, source="builtin")
    assert inst.n == 9 and "lmsys-like generator" in label and "long-prompt-like" in label
    conv, _ = W.workload("conversation", 4, seed=3, source="builtin")
    assert inst.prompts[:4] == conv.prompts  # the mixture's first n // 2 are the conversation sample
    coarse, label = W.workload("mixed", 9, seed=3, M=256, unit=64, source="builtin")
    assert coarse.prompts == tuple(-(-s // 64) for s in inst.prompts) and "units of 64" in label
    s, o = W.long_prompt_like(20_000, seed=0)
    assert 2400 < s.mean() < 2800 and 150 < np.median(o) < 185 and s.max() <= 4054 and o.min() >= 5


def test_trace_workload_when_present():
    if not W._trace_available(W.CONVERSATION_TRACE) or not W._trace_available(W.LONG_PROMPT_TRACE):
        pytest.skip("shared traces absent")
    inst, label = W.workload("long-prompt", 50, seed=1, source="trace")
    assert "arxiv trace" in label and inst.n == 50 and max(inst.prompts) <= 4054
    _, label = W.workload("conversation", 50, seed=1, source="auto")
    assert "WORD counts" in label
