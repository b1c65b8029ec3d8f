"""One dependency direction (docs/model.md §9): core <- heuristics <- models <- experiments.

Each layer's modules are imported in a fresh interpreter, which then must hold no module of a
higher layer."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

LAYERS = ["core", "kvsched.heuristics", "kvsched.models", "kvsched.experiments"]

_PROBE = textwrap.dedent("""
    import importlib, json, pkgutil, sys
    layer, higher, extra = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
    import kvsched
    if layer == "core":
        skip = ("kvsched.heuristics", "kvsched.models", "kvsched.experiments", "kvsched.__main__")
        names = [m.name for m in pkgutil.walk_packages(kvsched.__path__, "kvsched.")
                 if not m.name.startswith(skip)]
    else:
        pkg = importlib.import_module(layer)
        names = [layer] + [m.name for m in pkgutil.walk_packages(pkg.__path__, layer + ".")]
    for name in names + extra:
        importlib.import_module(name)
    bad = sorted(m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in higher))
    print(json.dumps({"imported": len(names + extra), "upward": bad}))
""")


def probe(layer: str, extra=(), env=None) -> dict:
    higher = LAYERS[LAYERS.index(layer) + 1:]
    out = subprocess.run([sys.executable, "-c", _PROBE, layer, json.dumps(higher), json.dumps(list(extra))],
                         capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("layer", LAYERS[:-1])
def test_layer_imports_nothing_above_it(layer):
    got = probe(layer)
    assert got["imported"] > 3
    assert got["upward"] == []


def test_probe_catches_an_upward_import(tmp_path):
    """A deliberate upward import in a core-layer module is reported by the same probe."""
    (tmp_path / "upward_core_module.py").write_text("import kvsched.models.certify\n")
    import os

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    got = probe("core", extra=["upward_core_module"], env=env)
    assert "kvsched.models.certify" in got["upward"]
