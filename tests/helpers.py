"""Shared test helpers: the worked instance, the seeded instances every test file draws from
(all built with the project's own generators, :mod:`kvsched.generators`), and the CLI runner.

Each maker is a pure function of its seed, so a failing case names its instance."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from kvsched import Instance, predictions
from kvsched.generators import random_family, tiny

#: the worked check of docs/model.md §1.8: optimum 11 (= H-SF)
WORKED = Instance(6, (2, 2, 2, 2), (1, 1, 2, 3))

#: 10 requests where FCFS (131) beats MC-SF and the optimum (113) beats both
HARD10 = Instance(40, (4, 10, 9, 3, 6, 10, 8, 11, 10, 2), (10, 1, 8, 5, 9, 4, 4, 8, 9, 9), name="hard10")

#: exact solvers with a per-solver test (``--solvers`` selects among them)
EXACT_SOLVERS = ("milp", "cpsat")


# ------------------------------------------------------------------ instances
def agreement_instance(seed: int) -> Instance:
    """``random`` family (M = 40, s and o on 1..11), n = 5..7, a quarter with Poisson arrivals:
    small enough for the brute force, the set every exact solver is checked against."""
    return random_family(5 + seed % 3, seed=seed, rate=0.5 if seed % 4 == 1 else None)


def small_instance(seed: int, n: int | None = None) -> Instance:
    """n = 2..4 (or ``n``) with memory binding: the ``tiny`` family (M = 10) for odd seeds,
    ``random`` with M = 14, s on 1..6, o on 1..8 for even ones; a third with Poisson arrivals."""
    n = 2 + seed % 3 if n is None else n
    rate = 0.5 if seed % 3 == 1 else None
    if seed % 2:
        return tiny(n, seed=seed, rate=rate)
    return random_family(n, seed=seed, M=14, s_max=6, o_max=8, rate=rate)


def heuristic_instance(seed: int, n: int, M: int = 30, arrivals: bool = False) -> Instance:
    """``random`` with M = 30, s on 1..8, o on 1..11, all at 0 or Poisson arrivals (rate 0.5):
    the instances of the offline-heuristic tests."""
    return random_family(n, seed=seed, M=M, s_max=8, o_max=11, rate=0.5 if arrivals else None)


def online_instance(seed: int, n_max: int = 25, arrivals: bool = True, intervals: str = "containing") -> Instance:
    """An instance with prediction intervals for the online policies: ``random`` with n on
    1..``n_max``, M on 8..59, s on 1..5, o on 1..M-5, Poisson arrivals (rate 0.5) or all at 0;
    ``intervals="containing"``: overlapping intervals ``[(1 - x) o, (1 + x) o]`` with a seeded
    x on 0..0.9 (every o_i inside); ``"wrong"``: noisy point predictions (error 0.5), so o_i may
    lie outside its interval."""
    rng = np.random.default_rng(seed)
    n, M = int(rng.integers(1, n_max + 1)), int(rng.integers(8, 60))
    inst = random_family(n, seed=seed, M=M, s_max=5, o_max=M - 5, rate=0.5 if arrivals else None)
    if intervals == "wrong":
        return predictions.noisy_points(inst, 0.5, seed=seed)
    return predictions.overlapping(inst, round(float(rng.uniform(0, 0.9)), 2))


def selector_pool(seed: int, n_max: int = 12, M_lo: int = 10, M_hi: int = 60, s_max: int = 12,
                  o_max: int = 12) -> tuple:
    """``(s, o, M)`` of a Sorted-F candidate pool: ``random`` with n on 1..``n_max``, M on
    ``M_lo``..``M_hi``, prompts and outputs capped so that every request fits (``s + o <= M``)."""
    rng = np.random.default_rng(seed)
    n, M = int(rng.integers(1, n_max + 1)), int(rng.integers(M_lo, M_hi + 1))
    s_cap = max(1, min(s_max, M // 2))
    inst = random_family(n, seed=seed, M=M, s_max=s_cap, o_max=max(1, min(o_max, M - s_cap)))
    return inst.s, inst.o, M


# ------------------------------------------------------------------ experiments
def run_quick(experiment, results_dir) -> tuple:
    """Run ``experiment`` in quick mode into ``results_dir`` (no progress bar, no plots);
    returns the runner's summary and its ``results.csv`` as a frame."""
    import pandas as pd

    from kvsched.experiments.runner import run_experiment

    summary = run_experiment(experiment, quick=True, results_dir=results_dir, progress=False, plots=False)
    return summary, pd.read_csv(results_dir / experiment.name / "quick" / "results.csv")


# ------------------------------------------------------------------ command line
def run_cli(*args, timeout=600):
    """Run ``python -m kvsched ARGS`` in a subprocess; returns CompletedProcess."""
    return subprocess.run([sys.executable, "-m", "kvsched", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def last_json(stdout: str) -> dict:
    """The ``--json`` contract: the last line of stdout is one JSON object."""
    return json.loads(stdout.strip().splitlines()[-1])
