"""Declarative experiment specs: what to run, never how.

An :class:`Experiment` names instance grids (family + sizes + seeds + family parameters), a
list of :class:`Algorithm` (name + parameters), solver limits, a module-level function
``task(case, algorithm) -> row dict`` and, unless the instances come from
:data:`kvsched.generators.FAMILIES` (the default :func:`from_family`), a module-level
``generate(instance_spec) -> Instance`` (e.g. to sample a trace).
The runner (:mod:`experiments.runner`) expands the grids into cases in a fixed order, runs
every (case, algorithm) pair that is not cached, and writes the tables.

A result is cached under :func:`cache_key`: the instance digest, the algorithm, its
parameters, the solver limits and the experiment's ``version`` (bump it when the task's
meaning changes, so old cached rows are not reused).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional

from kvsched.generators import generate as generate_family
from kvsched.instance import Instance


def canonical(obj) -> str:
    """Compact JSON with sorted keys: the one text form used in hashes and CSV cells."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Algorithm:
    """An algorithm name as the task understands it, with JSON-serialisable parameters."""

    name: str
    params: Mapping = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``name`` or ``name(k=v, ...)``: how the algorithm appears in tables and plots."""
        if not self.params:
            return self.name
        return f"{self.name}({', '.join(f'{k}={v}' for k, v in sorted(self.params.items()))})"


@dataclass(frozen=True)
class InstanceSpec:
    """One instance of a family (or one sample of a trace): enough to rebuild it anywhere."""

    family: str
    n: int
    seed: int
    params: Mapping = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"family": self.family, "n": self.n, "seed": self.seed, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, d: Mapping) -> "InstanceSpec":
        return cls(d["family"], None if d["n"] is None else int(d["n"]), int(d["seed"]), dict(d.get("params", {})))


def from_family(spec: InstanceSpec) -> Instance:
    """The instance of a :mod:`kvsched.generators` family: ``generate(family, n, seed, **params)``."""
    return generate_family(spec.family, spec.n, spec.seed, **spec.params)


@dataclass(frozen=True)
class Grid:
    """All combinations of ``sizes`` x ``seeds`` of one family, with fixed family params."""

    family: str
    sizes: tuple
    seeds: tuple
    params: Mapping = field(default_factory=dict)

    def specs(self) -> list:
        return [InstanceSpec(self.family, int(n), int(s), dict(self.params))
                for n in self.sizes for s in self.seeds]


@dataclass(frozen=True)
class Case:
    """What a task receives: the instance spec, the built instance and the solver limits."""

    spec: InstanceSpec
    instance: Instance
    limits: Mapping


@dataclass(frozen=True)
class Experiment:
    """A named sweep. ``grids`` is the full mode, ``quick_grids`` the ``--quick`` mode.

    ``generate`` and ``task`` must be module-level functions (they are pickled to worker
    processes and Dask workers). ``task`` returns a row dict, usually built with
    :func:`experiments.runner.row_from_result`: ``status``, ``bound``, ``objective`` (the
    validated TEL), ``schedule`` (a Schedule or runs list, stored in the cache, not in the CSV)
    and ``schedule_hash`` (its digest, present only when the schedule was validated at a
    boundary; a schedule without it is validated by the runner), optionally ``algo_seed``, ``threads``,
    ``solver_status``, ``message``; any other key becomes an extra CSV column.
    ``summarize(df) -> DataFrame`` and ``plot(df, outdir) -> [paths]`` override the default
    table and figure of :mod:`experiments.report`; ``notes(df) -> str`` adds statements
    computed from the rows below the table of ``summary.md``."""

    name: str
    description: str
    task: Callable[[Case, Algorithm], dict]
    algorithms: tuple
    grids: tuple
    quick_grids: tuple
    generate: Callable[[InstanceSpec], Instance] = from_family
    limits: Mapping = field(default_factory=dict)
    quick_limits: Optional[Mapping] = None  # None: the same limits as the full mode
    version: int = 1
    summarize: Optional[Callable] = None
    plot: Optional[Callable] = None
    notes: Optional[Callable] = None  # notes(df) -> markdown appended to summary.md after the table

    def specs(self, quick: bool) -> list:
        """Instance specs in plan order (grid order, then size, then seed), duplicates dropped."""
        seen, out = set(), []
        for grid in (self.quick_grids if quick else self.grids):
            for spec in grid.specs():
                key = canonical(spec.to_dict())
                if key not in seen:
                    seen.add(key)
                    out.append(spec)
        return out


def cache_key(instance_digest: str, algorithm: Algorithm, limits: Mapping, version: int) -> str:
    """The identity of one result: same instance, algorithm, parameters, limits, version."""
    ident = {"instance": instance_digest, "algorithm": algorithm.name, "params": dict(algorithm.params),
             "limits": dict(limits), "version": version}
    return hashlib.sha256(canonical(ident).encode()).hexdigest()
