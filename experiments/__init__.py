"""Experiments: declarative specs (:mod:`experiments.spec`) run by :mod:`experiments.runner`.

:data:`REGISTRY` maps an experiment name (as given to ``kvsched experiment NAME``) to the
module that defines it as ``EXPERIMENT``; a new experiment registers itself with one entry.
Modules are imported only when their experiment is asked for.
"""

from __future__ import annotations

import importlib

REGISTRY = {
    "demo-baselines": "kvsched.experiments.demo_baselines",
    "jaillet-synthetic": "kvsched.experiments.jaillet_synthetic",
    "jaillet-scaled": "kvsched.experiments.jaillet_scaled",
    "wang-workloads": "kvsched.experiments.wang_workloads",
    "chen-predictions": "kvsched.experiments.chen_predictions",
    "chen-load": "kvsched.experiments.chen_load",
    "cr-small": "kvsched.experiments.cr_small",
    "amin-fluid": "kvsched.experiments.amin_fluid",
    "amin-fluid-load": "kvsched.experiments.amin_fluid_load",
    "amax-fluid": "kvsched.experiments.amax_fluid",
}


def get(name: str):
    """The :class:`~experiments.spec.Experiment` registered under ``name``."""
    if name not in REGISTRY:
        raise KeyError(f"unknown experiment {name!r}; known: {', '.join(sorted(REGISTRY))}")
    return importlib.import_module(REGISTRY[name]).EXPERIMENT
