"""Where things live: the results folder and the optional shared traces.

Results go where the user is: ``./results`` of the working directory, or the folder named by
``KVSCHED_RESULTS`` (which the CLI's ``--results DIR`` sets), never inside the installed package.
In that folder, ``cache/`` holds the task cache, ``NAME/`` (``NAME/quick/``) an experiment's
reference tables (in the repository: the committed ones, rewritten only by
``--update-reference``) and ``runs/<UTC timestamp>/`` the outputs of each run (git-ignored).

The traces in ``../shared/data`` (beside the repository) are never copied into the
repository; ``KVSCHED_DATA`` may point elsewhere, and traces fetched by ``kvsched data download``
land in ``~/.cache/kvsched/data``. Code that uses them must work, or skip,
when they are absent.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Optional

#: the source checkout this package was loaded from (a git repository for an editable install)
REPO_ROOT = Path(__file__).resolve().parents[1]


def git_commit(short: bool = False) -> Optional[str]:
    """The commit of :data:`REPO_ROOT` (abbreviated with ``short``), with "+dirty" when tracked
    files outside ``results/`` have uncommitted changes; None outside a git checkout."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    try:
        head = subprocess.run(["git", "rev-parse", *(["--short"] if short else []), "HEAD"], cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=10, env=env).stdout.strip()
        # results/ is what runs write; only changes to the code make a run "dirty"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!results"],
                               cwd=REPO_ROOT, capture_output=True, text=True, timeout=10, env=env).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    if not head:
        return None
    return head + ("+dirty" if dirty else "")


RESULTS_ENV = "KVSCHED_RESULTS"


def results_dir() -> Path:
    """``$KVSCHED_RESULTS`` if set, else ``./results`` of the current working directory."""
    env = os.environ.get(RESULTS_ENV)
    return Path(env) if env else Path.cwd() / "results"


RUNS = "runs"


def new_run_dir(root=None) -> Path:
    """A fresh ``runs/<UTC timestamp>/`` folder under ``root`` (default :func:`results_dir`),
    created; a suffix ``-2``, ``-3``, ... keeps two runs started in the same second apart."""
    base = Path(root or results_dir()) / RUNS
    base.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    for k in range(1, 1000):
        path = base / (stamp if k == 1 else f"{stamp}-{k}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"cannot create a run folder under {base}")


def _data_dirs() -> list:
    env = os.environ.get("KVSCHED_DATA")
    if env:  # an explicit folder replaces the defaults
        return [Path(env)] if Path(env).is_dir() else []
    cands = [REPO_ROOT.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    cands.append(Path.home() / ".cache" / "kvsched" / "data")  # `kvsched data download` default
    return [c for c in cands if c.is_dir()]


def shared_data_dir() -> Optional[Path]:
    dirs = _data_dirs()
    return dirs[0] if dirs else None


def shared_trace(filename: str) -> Optional[Path]:
    """The first data folder holding ``filename``, or ``None``."""
    for d in _data_dirs():
        if (d / filename).is_file():
            return d / filename
    return None
