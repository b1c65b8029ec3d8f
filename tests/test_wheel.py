"""A non-editable install works: the wheel holds only the ``kvsched`` package, and installed
on its own (no source checkout on the path) ``import kvsched.models`` works, the top-level
``models`` / ``heuristics`` / ``experiments`` do not exist, and a command run from an unrelated
working directory writes under that directory's ``results/``.

The sources are copied to a temporary folder first, so the build leaves nothing in the
checkout. The child interpreter runs with ``-S`` (no site processing, hence no editable-install
finder) and ``PYTHONPATH`` = the unpacked wheel + the site-packages holding the dependencies."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from kvsched.paths import REPO_ROOT

SOURCES = ("kvsched", "heuristics", "models", "experiments", "pyproject.toml", "README.md")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    if not (REPO_ROOT / "pyproject.toml").exists():
        pytest.skip("not a source checkout")
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        path = REPO_ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copyfile(path, src / name)
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), str(src)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    [wheel] = (tmp / "dist").glob("kvsched-*.whl")
    target = tmp / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(target)
    return wheel, target


def child(target: Path, cwd: Path, *args, timeout=120):
    deps = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KVSCHED_RESULTS")}
    env["PYTHONPATH"] = os.pathsep.join([str(target), *deps])
    return subprocess.run([sys.executable, "-S", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_wheel_holds_only_the_kvsched_package(installed):
    wheel, _ = installed
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        [top] = [n for n in names if n.endswith(".dist-info/top_level.txt")]
        assert zf.read(top).decode().split() == ["kvsched"]
    assert {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")} == {"kvsched"}
    for sub in ("heuristics", "models", "experiments", "experiments/cli", "theory"):
        assert f"kvsched/{sub}/__init__.py" in names


def test_installed_package_imports_and_writes_where_the_user_is(installed, tmp_path):
    _, target = installed
    code = ("import importlib, json, kvsched, kvsched.models, kvsched.experiments.cli\n"
            "missing = []\n"
            "for name in ('models', 'heuristics', 'experiments'):\n"
            "    try:\n"
            "        importlib.import_module(name)\n"
            "    except ModuleNotFoundError:\n"
            "        missing.append(name)\n"
            "print(json.dumps({'file': kvsched.__file__, 'models': kvsched.models.__file__, 'missing': missing,\n"
            "                  'certify': kvsched.certify.__module__}))")
    proc = child(target, tmp_path, "-c", code)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["file"] == str(target / "kvsched" / "__init__.py")
    assert got["models"] == str(target / "kvsched" / "models" / "__init__.py")
    assert got["missing"] == ["models", "heuristics", "experiments"]
    assert got["certify"] == "kvsched.models.certify"

    proc = child(target, tmp_path, "-m", "kvsched", "experiment", "demo-baselines", "--quick", "--no-progress",
                 "--no-plots", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["computed"] == out["tasks"] == 27 and out["errors"] == []
    outdir = Path(out["out_dir"])
    assert outdir.is_relative_to(tmp_path / "results" / "runs") and (outdir / "results.csv").exists()
    assert (tmp_path / "results" / "cache" / "demo-baselines.jsonl").exists()
    assert not (target / "results").exists() and not (target / "kvsched" / "results").exists()
