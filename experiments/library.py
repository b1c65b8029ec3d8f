"""The benchmark library: seeded instances with their best validated schedule and best proven
bound, re-checkable by one command (``kvsched library validate``) and improvable entry by
entry (``kvsched library certify NAME``).

Layout: a folder (default ``results/library``) with one ``NAME.json`` per entry and
``index.csv`` (one row per entry, rebuilt from the JSON files). An entry holds

- ``source``: how the instance was made (a generator family with n, seed and options, the
  LMSYS-like workload, or a trace preset with the file's SHA-256 and the sampled rows), and
  the instance itself with its digest;
- ``schedule`` (starts), ``objective`` and ``schedule_by`` (method, limits, date);
- ``bound``, ``bound_by`` and ``certificate``: ``closed-form`` (recomputed on validation),
  ``lagrangian`` (the multipliers, rows and the window UB: validation recomputes the exact
  Lagrangian value, :mod:`kvsched.models.lagrangian`) or ``solver`` (a MILP / CP-SAT / search
  dual bound, recorded with its method and limits; not recomputable cheaply);
- ``proven_optimal``: the objective equals the rounded-up bound, and ``history``.

Validation rebuilds generated instances from their source, re-validates every schedule with
:func:`kvsched.validator.validate`, recomputes checkable bounds and compares the index with
the entries. Re-certification keeps the better schedule and the better bound of old and new.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from kvsched import paths
from kvsched.bounds import lower_bound
from kvsched.generators import generate
from kvsched.instance import Instance
from kvsched.result import gap, is_proven_optimal
from kvsched.schedule import Schedule
from kvsched.validator import validate

INDEX_FIELDS = ("name", "family", "n", "M", "arrivals", "objective", "bound", "ceil_bound", "proven_optimal", "gap",
                "schedule_method", "bound_method", "certificate", "instance_hash")
#: tolerance when a recomputed Lagrangian value is compared with the stored bound
BOUND_TOL = 1e-6


def library_dir() -> Path:
    return paths.results_dir() / "library"


@dataclass(frozen=True)
class Spec:
    """One library entry to build: a generator family, the LMSYS-like workload or a trace."""

    name: str
    family: str  # generator family, "lmsys-like" or "trace"
    n: Optional[int]
    seed: int
    params: tuple = ()  # (key, value) pairs

    def source(self) -> dict:
        return {"kind": self.family, "n": self.n, "seed": self.seed, "params": dict(self.params)}


def _specs() -> list:
    out = []
    for n in (8, 12, 16, 20, 24):
        out += [Spec(f"random-n{n}-seed{s}", "random", n, s) for s in (0, 1)]
    out += [Spec(f"random-n{n}-seed0-rate0.5", "random", n, 0, (("rate", 0.5),)) for n in (10, 14)]
    for n in (10, 15, 20, 40, 60):
        out += [Spec(f"jaillet-m1-n{n}-seed{s}", "jaillet", n, s, (("model", 1),)) for s in (0, 1)]
    # model 2 draws n from its Poisson arrivals: seeds with n in 10..60
    out += [Spec(f"jaillet-m2-seed{s}", "jaillet", None, s, (("model", 2),)) for s in (0, 2, 3)]
    out += [Spec(f"lmsys-like-n{n}-seed0-M2048", "lmsys-like", n, 0, (("M", 2048),)) for n in (50, 100, 200)]
    out += [Spec(f"lmsys-20k-n{n}-seed0-M2048", "trace", n, 0, (("preset", "lmsys-20k"), ("M", 2048)))
            for n in (50, 100, 200)]
    return out


SPECS = _specs()


def make_instance(source: dict) -> tuple:
    """``(instance, provenance)`` from an entry's source; provenance adds what the source
    needs to be re-checked (a trace's file hash and rows)."""
    kind, n, seed, params = source["kind"], source["n"], source["seed"], dict(source["params"])
    if kind == "lmsys-like":
        from kvsched.workload import lmsys_like

        return lmsys_like(n, seed=seed, **params), {}
    if kind == "trace":
        from kvsched.traces import load_trace, resolve

        path, _ = resolve(params["preset"])
        loaded = load_trace(params["preset"], M=params["M"], n=n, seed=seed, drop_invalid=True)
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        return loaded.instance, {"file": Path(path).name, "file_sha256": digest, "rows": loaded.rows.tolist(),
                                 "unit": loaded.unit, "trace_source": loaded.source.split("/")[-1]}
    return generate(kind, n=n, seed=seed, **params), {}


# ------------------------------------------------------------------ entries

def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def entry_path(name: str, folder: Optional[Path] = None) -> Path:
    return Path(folder or library_dir()) / f"{name}.json"


def load_entry(name: str, folder: Optional[Path] = None) -> dict:
    path = entry_path(name, folder)
    if not path.is_file():
        raise FileNotFoundError(f"no library entry '{name}' in {path.parent}")
    return json.loads(path.read_text())


def entry_instance(entry: dict) -> Instance:
    return Instance.from_requests(entry["instance"]["M"], entry["instance"]["requests"], name=entry["name"])


def new_entry(spec: Spec) -> dict:
    inst, provenance = make_instance(spec.source())
    source = {**spec.source(), **provenance}
    return {"name": spec.name, "family": spec.family if spec.family != "trace" else dict(spec.params)["preset"],
            "source": source, "instance": inst.to_dict(), "instance_hash": inst.digest, "history": []}


def lagrangian_certificate(inst: Instance, schedule: Schedule, ub: int, time_limit: float) -> tuple:
    """``(bound, certificate)`` of the Lagrangian bound with windows cut by ``ub`` (the value
    of a validated schedule) and rows up to the schedule's makespan."""
    from kvsched.models.lagrangian import horizon_of, lagrangian_bound
    from kvsched.models.windows import start_windows

    lb = lagrangian_bound(inst, start_windows(inst, ub, cut=True), horizon_of(schedule), "auto", time_limit)
    cert = {"kind": "lagrangian", "window_ub": int(ub), "H": int(lb.H), "rows": lb.rows.tolist(),
            "multipliers": [float(x) for x in lb.multipliers], "method": lb.method}
    return lb.bound, cert


def recompute_lagrangian(inst: Instance, cert: dict) -> float:
    """The exact Lagrangian value of a stored certificate."""
    from kvsched.models.lagrangian import relaxation, value
    from kvsched.models.windows import start_windows

    rel = relaxation(inst, start_windows(inst, cert["window_ub"], cut=True), cert["H"])
    if rel.rows.tolist() != list(cert["rows"]):
        raise ValueError("certificate rows do not match the instance's memory rows")
    return value(rel, np.asarray(cert["multipliers"], dtype=float))[0]


def offer(entry: dict, schedule: Optional[Schedule], schedule_by: dict, bound: Optional[float], bound_by: dict,
          certificate: Optional[dict]) -> list:
    """Merge a new schedule and/or bound into ``entry`` if better; returns what changed.
    The schedule is validated here; a bound above the (new) objective is an error."""
    inst = entry_instance(entry)
    changed = []
    if schedule is not None:
        rep = validate(inst, schedule)
        if not rep.feasible:
            raise ValueError(f"{entry['name']}: offered schedule is infeasible: {rep.message}")
        if entry.get("objective") is None or rep.objective < entry["objective"]:
            entry.update(schedule={"starts": list(schedule.starts)}, objective=int(rep.objective),
                         schedule_by={**schedule_by, "date": _now()})
            changed.append("schedule")
    if bound is not None and (entry.get("bound") is None or bound > entry["bound"] + BOUND_TOL):
        entry.update(bound=float(bound), bound_by={**bound_by, "date": _now()}, certificate=certificate)
        changed.append("bound")
    if entry.get("bound") is not None and math.ceil(entry["bound"] - 1e-6) > entry["objective"]:
        raise ValueError(f"{entry['name']}: bound {entry['bound']} exceeds the validated objective {entry['objective']}")
    entry["ceil_bound"] = math.ceil(entry["bound"] - 1e-6)
    entry["proven_optimal"] = is_proven_optimal(entry["objective"], entry["bound"])
    entry["gap"] = gap(entry["objective"], entry["bound"])
    if changed:
        entry["history"].append({"date": _now(), "changed": changed, "objective": entry["objective"],
                                 "bound": entry["bound"], "schedule_method": schedule_by.get("method"),
                                 "bound_method": bound_by.get("method")})
    return changed


def certify_entry(entry: dict, time_limit: float = 20.0, threads: int = 1, solver: Optional[str] = None,
                  lagrangian: bool = True, exact: bool = True) -> list:
    """Improve ``entry``: closed form, heuristics and (``exact``) ``certify`` (or one
    registered exact ``solver``), then the Lagrangian bound; keeps the best of old and new."""
    from kvsched import heuristics, models

    inst = entry_instance(entry)
    best = heuristics.best_of(inst, names=tuple(heuristics.HEURISTICS))
    changed = offer(entry, best.schedule, {"method": best.solver}, float(lower_bound(inst)), {"method": "closed-form"},
                    {"kind": "closed-form"})
    if exact and solver is None:
        from kvsched.models.certify import certify

        cert = certify(inst, time_limit=time_limit, threads=threads, seed=0)
        limits = {"time_limit": time_limit, "threads": threads}
        changed += offer(entry, cert.schedule, {"method": f"certify/{cert.best_solver}", "limits": limits},
                         cert.bound, {"method": f"certify/{cert.bound_solver}", "limits": limits},
                         _solver_certificate(cert.bound_solver))
    elif exact:
        current = Schedule.from_starts(inst, entry["schedule"]["starts"])
        res = models.solve(solver, inst, hard_limit=True, time_limit=time_limit, threads=threads, seed=0,
                           ub_schedule=current)
        limits = {"time_limit": time_limit, "threads": threads}
        changed += offer(entry, res.schedule, {"method": solver, "limits": limits}, res.bound,
                         {"method": solver, "limits": limits}, _solver_certificate(solver))
    if lagrangian and not entry["proven_optimal"]:
        current = Schedule.from_starts(inst, entry["schedule"]["starts"])
        bound, cert = lagrangian_certificate(inst, current, entry["objective"], time_limit)
        changed += offer(entry, None, {}, bound, {"method": f"lagrangian/{cert['method']}",
                                                  "limits": {"time_limit": time_limit}}, cert)
    return sorted(set(changed))


def _solver_certificate(name: str) -> dict:
    if name == "closed-form":
        return {"kind": "closed-form"}
    return {"kind": "solver", "solver": name}


def save_entry(entry: dict, folder: Optional[Path] = None) -> Path:
    path = entry_path(entry["name"], folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(entry, indent=1) + "\n")
    return path


def index_row(entry: dict) -> dict:
    inst = entry["instance"]
    return {"name": entry["name"], "family": entry["family"], "n": len(inst["requests"]), "M": inst["M"],
            "arrivals": any(r.get("arrival", 0) for r in inst["requests"]), "objective": entry["objective"],
            "bound": f"{entry['bound']:.6f}", "ceil_bound": entry["ceil_bound"], "proven_optimal": entry["proven_optimal"],
            "gap": f"{entry['gap']:.6f}", "schedule_method": entry["schedule_by"]["method"],
            "bound_method": entry["bound_by"]["method"], "certificate": entry["certificate"]["kind"],
            "instance_hash": entry["instance_hash"]}


def entries(folder: Optional[Path] = None) -> list:
    return [json.loads(p.read_text()) for p in sorted(Path(folder or library_dir()).glob("*.json"))]


def write_index(folder: Optional[Path] = None) -> Path:
    folder = Path(folder or library_dir())
    path = folder / "index.csv"
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=INDEX_FIELDS)
        w.writeheader()
        for e in entries(folder):
            w.writerow(index_row(e))
    return path


# ------------------------------------------------------------------ validation

def check_entry(entry: dict, rebuild: bool = True) -> list:
    """Problems with one entry (empty: it validates)."""
    problems = []
    name = entry.get("name", "?")
    try:
        inst = entry_instance(entry)
    except Exception as exc:  # a malformed instance is one problem, not a crash
        return [f"{name}: instance does not load: {exc}"]
    if inst.digest != entry["instance_hash"]:
        problems.append(f"{name}: instance digest {inst.digest[:12]} != recorded {entry['instance_hash'][:12]}")
    if rebuild:
        src = entry["source"]
        try:
            again, provenance = make_instance(src)
        except Exception as exc:  # e.g. the trace file is absent: say so, do not fail
            provenance, again = None, None
            if src["kind"] != "trace":
                problems.append(f"{name}: source does not rebuild: {exc}")
        if again is not None and again.digest != inst.digest:
            problems.append(f"{name}: the source rebuilds a different instance")
        if provenance and provenance.get("file_sha256") != src.get("file_sha256"):
            problems.append(f"{name}: trace file hash differs from the recorded one")
    rep = validate(inst, Schedule.from_starts(inst, entry["schedule"]["starts"]))
    if not rep.feasible:
        problems.append(f"{name}: schedule infeasible: {rep.message}")
    elif rep.objective != entry["objective"]:
        problems.append(f"{name}: schedule TEL {rep.objective} != recorded objective {entry['objective']}")
    cert = entry["certificate"]
    if cert["kind"] == "closed-form" and abs(lower_bound(inst) - entry["bound"]) > BOUND_TOL:
        problems.append(f"{name}: closed-form bound is {lower_bound(inst)}, recorded {entry['bound']}")
    elif cert["kind"] == "lagrangian":
        if cert["window_ub"] < entry["objective"]:
            problems.append(f"{name}: Lagrangian windows cut by {cert['window_ub']} below the objective")
        try:
            again = recompute_lagrangian(inst, cert)
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
        else:
            if again < entry["bound"] - BOUND_TOL * max(1.0, abs(entry["bound"])):
                problems.append(f"{name}: Lagrangian certificate gives {again}, recorded bound {entry['bound']}")
    if entry["bound"] < lower_bound(inst) - BOUND_TOL:
        problems.append(f"{name}: recorded bound {entry['bound']} is below the closed form {lower_bound(inst)}")
    if math.ceil(entry["bound"] - 1e-6) > entry["objective"]:
        problems.append(f"{name}: bound {entry['bound']} exceeds the objective {entry['objective']}")
    if entry["proven_optimal"] != is_proven_optimal(entry["objective"], entry["bound"]):
        problems.append(f"{name}: proven_optimal = {entry['proven_optimal']} is wrong")
    return problems


def validate_library(folder: Optional[Path] = None, rebuild: bool = True) -> tuple:
    """``(entries checked, problems)`` over the whole library, index included."""
    folder = Path(folder or library_dir())
    all_entries = entries(folder)
    problems = []
    for e in all_entries:
        problems += check_entry(e, rebuild)
    index = folder / "index.csv"
    if not index.is_file():
        problems.append(f"{index} is missing")
    else:
        with open(index, newline="") as fh:
            rows = {r["name"]: r for r in csv.DictReader(fh)}
        for e in all_entries:
            want = {k: str(v) for k, v in index_row(e).items()}
            if rows.get(e["name"]) != want:
                problems.append(f"{e['name']}: index.csv row differs from the entry")
        extra = set(rows) - {e["name"] for e in all_entries}
        problems += [f"{name}: in index.csv but has no entry" for name in sorted(extra)]
    return len(all_entries), problems
