"""CSV trace loaders: presets of the shared data folder (skipped when it is absent), the
three formats, explicit column mappings, CRLF, row checks, sampling, arrival rule, CLI."""

import json

import numpy as np
import pandas as pd
import pytest
from helpers import run_cli

from kvsched.io import read_instance
from kvsched.paths import shared_trace
from kvsched.traces import PRESETS, TraceError, load_trace


def need(preset):
    path = shared_trace(PRESETS[preset].filename)
    if path is None:
        pytest.skip(f"shared trace {PRESETS[preset].filename} absent")
    return path


# ------------------------------------------------------------------ presets (shared data)
@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_preset_loads(preset):
    need(preset)
    load = load_trace(preset, M=16_000, n=50, seed=1, drop_invalid=True)
    p = PRESETS[preset]
    assert load.rows_in_file == p.rows  # row counts of the data README's table
    assert load.instance.n == 50 and load.instance.M == 16_000
    assert load.dropped_too_long == 0  # every file has s + o <= 14,089
    assert load.unit == p.unit and load.preset == preset
    assert ("WORDS" in load.unit) == preset.startswith("lmsys")
    assert list(load.rows) == sorted(load.rows)  # random sample kept in file order


def test_azure_conv_head_values_and_timestamps():
    need("azure-conv")
    load = load_trace("azure-conv", M=20_000, n=5, sample="head", rounds_per_second=1)
    inst = load.instance
    assert load.rows_in_file == 19_366
    # file lines 2-6: 18:15:46.68059,374,44 / 18:15:50.995169,396,109 / 18:15:51.222467,879,55 / ...
    assert inst.prompts[:3] == (374, 396, 879) and inst.outputs[:3] == (44, 109, 55)
    assert inst.arrivals[:3] == (0, 4, 4)  # floor(4.3146 s), floor(4.5419 s)
    assert list(load.rows) == [0, 1, 2, 3, 4]


def test_azure_and_splitwise_give_the_same_instance():
    """The README says splitwise_* carry the Azure rows with arrived_at = TIMESTAMP - first."""
    need("azure-code"), need("splitwise-code")
    a = load_trace("azure-code", M=10_000, rounds_per_second=20).instance
    b = load_trace("splitwise-code", M=10_000, rounds_per_second=20).instance
    assert a.n == 8_819 and a.digest == b.digest
    assert a.arrivals[-1] == int(np.floor(3435.948056 * 20))  # last arrived_at of splitwise_code


def test_zero_length_rows_are_an_error_naming_the_row():
    need("lmsys-257")
    with pytest.raises(TraceError, match=r"row 148 \(file line 150\), column 'answer_length' \(output\) = 0"):
        load_trace("lmsys-257", M=1000, n=10)


def test_drop_invalid_counts_match_the_readme():
    path = need("lmsys-257")
    raw = pd.read_csv(path)
    zero_in, zero_out = raw.question_length == 0, raw.answer_length == 0
    assert zero_in.sum() == 63 and zero_out.sum() == 1_136  # the data README's counts
    assert (zero_in & zero_out).sum() == 1  # one row has both, so 1,198 rows are unusable
    load = load_trace("lmsys-257", M=1000, n=100, seed=3, drop_invalid=True)
    assert load.dropped_invalid == 1_198 and load.dropped_too_long == 0
    assert not (zero_in | zero_out).to_numpy()[load.rows].any()


def test_lmsys_20k_has_vidur_headers_but_counts_words():
    need("lmsys-20k")
    load = load_trace("lmsys_chat_1m_words_sample20k_in_lt200_out_lt500.csv", M=1000, drop_invalid=True)
    assert load.preset == "lmsys-20k" and "WORDS" in load.unit
    assert load.dropped_invalid == 17 and load.instance.n == 20_000 - 17


def test_too_long_rows_error_or_dropped_separately():
    need("azure-conv")
    with pytest.raises(TraceError, match=r"exceeds M = 2000; 2904 such rows"):
        load_trace("azure-conv", M=2000, n=10)
    load = load_trace("azure-conv", M=2000, drop_invalid=True)
    assert load.dropped_too_long == 2_904 and load.dropped_invalid == 0  # awk: $2 + $3 > 2000
    assert load.instance.n == 19_366 - 2_904 and int((load.instance.s + load.instance.o).max()) <= 2000


def test_preset_without_shared_data_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("KVSCHED_DATA", str(tmp_path))
    with pytest.raises(TraceError, match="needs azure_conv_2023.csv from the shared data folder"):
        load_trace("azure-conv", M=100)


# ------------------------------------------------------------------ files written by the tests
def test_crlf_without_final_newline(tmp_path):
    p = tmp_path / "t.csv"
    p.write_bytes(b"num_prefill_tokens,num_decode_tokens,num_total_tokens,pd_ratio\r\n3,4,7,0.75\r\n5,6,11,0.8")
    load = load_trace(p, M=11)
    assert load.instance.prompts == (3, 5) and load.instance.outputs == (4, 6)
    assert load.unit == "as in the file (unknown unit)" and load.preset is None


def test_azure_format_crlf_timestamps(tmp_path):
    p = tmp_path / "az.csv"
    p.write_bytes(b"TIMESTAMP,ContextTokens,GeneratedTokens\r\n2023-11-16 18:15:46.5000000,10,2\r\n"
                  b"2023-11-16 18:15:47.2500000,20,3\r\n2023-11-16 18:15:49.0000000,30,4")
    inst = load_trace(p, M=100, rounds_per_second=2).instance
    assert inst.arrivals == (0, 1, 5)  # floor(2 * (0, 0.75, 2.5))
    assert load_trace(p, M=100).instance.arrivals == (0, 0, 0)  # default: all at round 0
    assert load_trace(p, M=100, rounds_per_second=2).instance.name == "az-rps2"
    p.write_bytes(b"TIMESTAMP,ContextTokens,GeneratedTokens\r\n2023-11-16 18:15:46.5000000,10,2\r\nyesterday,20,3")
    assert load_trace(p, M=100).instance.n == 2  # arrivals unused: the timestamp is not checked
    with pytest.raises(TraceError, match=r"row 1 \(file line 3\), column 'TIMESTAMP' \(arrival\) = 'yesterday' is not a time"):
        load_trace(p, M=100, rounds_per_second=2)


def test_explicit_column_mapping(tmp_path):
    p = tmp_path / "other.csv"
    pd.DataFrame({"id": ["a", "b", "c"], "in": [7, 8, 9], "out": [1, 2, 3], "t": [10.0, 10.4, 12.1]}).to_csv(p, index=False)
    with pytest.raises(TraceError, match="unknown trace format"):
        load_trace(p, M=20)
    load = load_trace(p, M=20, columns={"prompt": "in", "output": "out", "arrival": "t"}, rounds_per_second=1)
    assert load.instance.prompts == (7, 8, 9) and load.instance.outputs == (1, 2, 3)
    assert load.instance.arrivals == (0, 0, 2)
    with pytest.raises(TraceError, match=r"column\(s\) \['nope'\] not found"):
        load_trace(p, M=20, columns={"prompt": "nope", "output": "out"})


def test_missing_fractional_and_negative_values(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("question_length,answer_length\n3,4\n5,\n2.5,1\n-1,3\n6,7\n")
    with pytest.raises(TraceError, match=r"row 1 \(file line 3\), column 'answer_length' \(output\) is missing; 3 such rows"):
        load_trace(p, M=20)
    load = load_trace(p, M=20, drop_invalid=True)
    assert load.dropped_invalid == 3 and list(load.rows) == [0, 4]
    assert load.instance.prompts == (3, 6) and "WORDS" in load.unit
    p.write_text("question_length,answer_length\n3,4\n2.5,1\n")
    with pytest.raises(TraceError, match=r"row 1 \(file line 3\), column 'question_length' \(prompt\) = 2.5 is not"):
        load_trace(p, M=20)


def test_sampling_head_and_seeded_random(tmp_path):
    p = tmp_path / "v.csv"
    pd.DataFrame({"num_prefill_tokens": np.arange(1, 101), "num_decode_tokens": 1}).to_csv(p, index=False)
    assert load_trace(p, M=200, n=4, sample="head").instance.prompts == (1, 2, 3, 4)
    a, b, c = (load_trace(p, M=200, n=10, seed=k) for k in (5, 5, 6))
    assert a.instance.digest == b.instance.digest != c.instance.digest
    assert list(a.instance.prompts) == sorted(a.instance.prompts)  # file order kept
    expected = np.sort(np.random.default_rng(5).choice(100, size=10, replace=False)) + 1
    assert a.instance.prompts == tuple(expected.tolist())
    with pytest.raises(TraceError, match="n = 101 exceeds the 100 usable rows"):
        load_trace(p, M=200, n=101)
    with pytest.raises(TraceError, match="no arrival column"):
        load_trace(p, M=200, rounds_per_second=1)


# ------------------------------------------------------------------ CLI
def test_trace_cli_writes_instance_and_reports_drops(tmp_path):
    need("lmsys-20k")
    out = tmp_path / "i.json"
    r = run_cli("trace", "lmsys-20k", "--M", 1000, "--n", 30, "--seed", 2, "--drop-invalid", "--out", out)
    assert r.returncode == 0, r.stderr
    assert "dropped 17 invalid" in r.stdout and "WORDS" in r.stdout
    inst = read_instance(out)
    assert inst.n == 30 and inst.digest == load_trace("lmsys-20k", 1000, n=30, seed=2, drop_invalid=True).instance.digest
    assert json.loads(out.read_text())["name"] == "lmsys-20k-n30-random-seed2"
    bad = run_cli("trace", "lmsys-20k", "--M", 1000)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and "file line" in bad.stderr


def test_trace_cli_list_and_explicit_columns(tmp_path):
    lst = run_cli("trace", "--list")
    assert lst.returncode == 0
    for name, p in PRESETS.items():
        assert name in lst.stdout and p.filename in lst.stdout
    src = tmp_path / "x.csv"
    src.write_text("a,b\n4,5\n6,7\n")
    r = run_cli("trace", src, "--M", 20, "--columns", "a,b")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["M"] == 20 and data["requests"] == [{"prompt": 4, "output": 5}, {"prompt": 6, "output": 7}]
