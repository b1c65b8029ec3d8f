"""Trace catalogue and checked downloads, against a local HTTP server on 127.0.0.1 only."""

import functools
import hashlib
import http.server
import threading

import pytest
from click.testing import CliRunner
from helpers import last_json, run_cli

from kvsched import datasets
from kvsched.datasets import DatasetError, download, fetch, sha256_file
from kvsched.experiments.cli import cli
from kvsched.paths import shared_data_dir, shared_trace
from kvsched.traces import PRESETS

FIXTURE = b"num_prefill_tokens,num_decode_tokens\n3,5\n7,2\n"
FIXTURE_SHA = hashlib.sha256(FIXTURE).hexdigest()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """Serves tmp_path/www (with fixture.csv) and, if present, the shared data folder at /shared/."""
    www = tmp_path / "www"
    www.mkdir()
    (www / "fixture.csv").write_bytes(FIXTURE)
    if shared_data_dir() is not None:
        (www / "shared").symlink_to(shared_data_dir())
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(www)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_fetch_with_matching_hash_writes_the_file(server, tmp_path):
    target = tmp_path / "dl" / "t.csv"
    assert fetch(f"{server}/fixture.csv", target, FIXTURE_SHA) == target
    assert target.read_bytes() == FIXTURE
    assert [p.name for p in target.parent.iterdir()] == ["t.csv"]  # no temporary file left


def test_fetch_with_mismatching_hash_deletes_and_errors(server, tmp_path):
    target = tmp_path / "dl" / "t.csv"
    with pytest.raises(DatasetError, match=f"SHA-256 mismatch .* expected {'0' * 64}, got {FIXTURE_SHA}"):
        fetch(f"{server}/fixture.csv", target, "0" * 64)
    assert list(target.parent.iterdir()) == []
    # an existing good file is not clobbered by a failed download
    target.write_bytes(b"old")
    with pytest.raises(DatasetError):
        fetch(f"{server}/fixture.csv", target, "0" * 64)
    assert target.read_bytes() == b"old" and len(list(target.parent.iterdir())) == 1


def test_fetch_unreachable_url_errors_cleanly(server, tmp_path):
    with pytest.raises(DatasetError, match="cannot fetch .*/missing.csv: HTTP 404 "):
        fetch(f"{server}/missing.csv", tmp_path / "m.csv", FIXTURE_SHA)
    assert list(tmp_path.iterdir()) == [tmp_path / "www"]


def test_download_default_dir_is_kvsched_data(monkeypatch, tmp_path):
    monkeypatch.setenv("KVSCHED_DATA", str(tmp_path / "d"))
    assert datasets.default_data_dir() == tmp_path / "d"
    monkeypatch.delenv("KVSCHED_DATA")
    assert datasets.default_data_dir().parts[-3:] == (".cache", "kvsched", "data")


def test_cli_download_mismatch_deletes_and_fails(server, tmp_path):
    res = run_cli("data", "download", "azure-code", "--dest", tmp_path / "dl", "--url", f"{server}/fixture.csv")
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "SHA-256 mismatch" in res.stderr and datasets.SOURCES["azure-code"].sha256 in res.stderr
    assert list((tmp_path / "dl").iterdir()) == []
    res = CliRunner().invoke(cli, ["data", "download", "no-such-trace"])
    assert res.exit_code == 1 and "Error: unknown trace 'no-such-trace'; known: lmsys-257," in res.output


def test_cli_download_real_trace_from_local_server(server, tmp_path):
    if shared_trace("splitwise_code_2023.csv") is None:
        pytest.skip("shared traces absent")
    dest = tmp_path / "dl"
    url = f"{server}/shared/splitwise_code_2023.csv"
    res = run_cli("data", "download", "splitwise-code", "--dest", dest, "--url", url, "--json")
    assert res.returncode == 0, res.stderr
    out = last_json(res.stdout)
    assert out["fetched"] is True and sha256_file(out["path"]) == datasets.SOURCES["splitwise-code"].sha256
    path, fetched = download("splitwise-code", dest=dest, url=url)  # already there: kept
    assert (str(path), fetched) == (out["path"], False)


def test_catalogue_covers_every_preset_and_builds_raw_github_urls():
    assert set(datasets.SOURCES) == set(PRESETS)
    assert [d.name for d in datasets.catalogue()] == list(PRESETS)
    src = datasets.SOURCES["lmsys-257"]
    assert src.url == ("https://raw.githubusercontent.com/Luoxiaogan/vidur_or/"
                       "853c94344dbea7cc0fb01c679adc833d7a0b08ba/lmsys_chat_1m_dataset/output_trace/"
                       "input%3C257_output%3C257.csv")
    assert all(len(s.sha256) == 64 and len(s.commit) == 40 for s in datasets.SOURCES.values())


def test_recorded_hashes_match_the_shared_copies():
    if shared_data_dir() is None:
        pytest.skip("shared traces absent")
    for d in datasets.catalogue():
        path = shared_trace(d.filename)
        if path is None:
            continue
        assert path.stat().st_size == d.source.size, d.name
        assert sha256_file(path) == d.source.sha256, d.name


def test_cli_list():
    res = CliRunner().invoke(cli, ["data", "list", "--json"])
    assert res.exit_code == 0, res.output
    entries = last_json(res.stdout)["datasets"]
    assert [e["name"] for e in entries] == list(PRESETS)
    azure = next(e for e in entries if e["name"] == "azure-conv")
    assert azure["licence"].startswith("CC-BY 4.0") and azure["repo"] == "Azure/AzurePublicDataset"
    assert "azure-conv" in res.stdout and "Azure/AzurePublicDataset@b469a11" in res.stdout
