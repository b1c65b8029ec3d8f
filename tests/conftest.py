import json
import subprocess
import sys

import pytest

from kvsched import Instance

WORKED = Instance(6, (2, 2, 2, 2), (1, 1, 2, 3))  # docs/model.md §1.8 worked check


@pytest.fixture
def worked():
    return WORKED


@pytest.fixture
def write_json(tmp_path):
    def _write(obj, name="f.json"):
        p = tmp_path / name
        p.write_text(json.dumps(obj))
        return str(p)
    return _write


def run_cli(*args, timeout=600):
    """Run ``python -m kvsched ARGS`` in a subprocess; returns CompletedProcess."""
    return subprocess.run([sys.executable, "-m", "kvsched", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])
