"""Measurements behind ``results/theory.md`` (rendered by :mod:`experiments.theory_render`).

Each step writes committed files under ``results/`` (``paths.results_dir()``) with a JSON
stamp (command, date, python, wall time); the steps are run through
``python3 -m kvsched.experiments.theory_report STEP`` (see that module). The amin-fluid and
amax-fluid sweeps are registered experiments (``kvsched experiment amin-fluid``).
"""

from __future__ import annotations

import datetime
import json
import platform
import time
from pathlib import Path

import pandas as pd

from kvsched import paths

CHECKS_DIR = paths.results_dir() / "theory-checks"
WORST_DIR = paths.results_dir() / "worst"
ARRIVAL_AWARE = ("fcfs", "mcsf", "amax", "amin/W", "amin/V1")


def _stamp(command: str, seconds: float) -> dict:
    return {"command": command, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "python": platform.python_version(), "wall_time_s": round(seconds, 1)}


# ---------------------------------------------------------------------- measurements
def measure_amin(n1: int, m_factor: int, us=range(2, 11), seeds=(0, 1, 2, 3, 4), out_dir=CHECKS_DIR) -> Path:
    from kvsched.experiments.amin_conventions import ORDERS, measure

    t0 = time.perf_counter()
    rows = []
    for u in us:
        rows += [m.to_dict() for m in measure(u, n1=n1, m_factor=m_factor, seeds=seeds, orders=ORDERS)]
        print(f"u = {u}: done ({time.perf_counter() - t0:.0f} s)", flush=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(out_dir / "amin_fluid.csv", index=False)
    meta = _stamp(f"python3 -m kvsched.experiments.theory_report measure-amin --n1 {n1} --m-factor {m_factor}",
                  time.perf_counter() - t0)
    meta.update(n1=n1, m_factor=m_factor, s=1, seeds=list(seeds))
    (out_dir / "amin_fluid.json").write_text(json.dumps(meta, indent=1) + "\n")
    return out_dir / "amin_fluid.csv"


def measure_amin_load(us=(2, 4), sizes=((500, 50), (1000, 100), (3000, 100), (3000, 200), (6000, 200)),
                      seeds=(0, 1, 2), out_dir=CHECKS_DIR) -> Path:
    """Seeded-random ties only: how A_min / H-SF moves with the load n1 / M and with M."""
    from kvsched.experiments.amin_conventions import measure

    t0 = time.perf_counter()
    rows = []
    for u in us:
        for n1, m in sizes:
            rows += [{**x.to_dict(), "n1": n1, "m_factor": m}
                     for x in measure(u, n1=n1, m_factor=m, ties=("random",), seeds=seeds)]
        print(f"u = {u}: done ({time.perf_counter() - t0:.0f} s)", flush=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(out_dir / "amin_load.csv", index=False)
    meta = _stamp("python3 -m kvsched.experiments.theory_report measure-amin-load", time.perf_counter() - t0)
    meta.update(seeds=list(seeds))
    (out_dir / "amin_load.json").write_text(json.dumps(meta, indent=1) + "\n")
    return out_dir / "amin_load.csv"


def _run_searches(runs, out_dir: Path, command: str, t0: float, meta: dict, starts_of=None) -> Path:
    """Run the adversarial searches ``runs`` = [(label, seed, settings)], save every kept
    instance in ``out_dir`` with ``index.csv`` (one row per kept instance) and ``run.json``."""
    from kvsched.experiments.adversarial import save, search

    out_dir = Path(out_dir)
    rows = []
    for label, seed, st in runs:
        starts = starts_of(label) if starts_of else ()
        t1 = time.perf_counter()
        found = search(label, seed=seed, settings=st, starts=starts)
        for rank, (f, path) in enumerate(zip(found, save(found, label, seed, st, out_dir)), 1):
            rows.append({"heuristic": label, "seed": seed, "arrivals": st.arrivals, "rank": rank, "ratio": f.ratio,
                         "alg": f.alg, "opt": f.opt, "n": f.instance.n, "M": f.instance.M,
                         "iteration": f.iteration, **({"starts": len(starts)} if starts_of else {}),
                         "file": path.name})
        print(f"{label} seed {seed}: worst {found[0].ratio:.4f} ({time.perf_counter() - t1:.0f} s)", flush=True)
    pd.DataFrame(rows).to_csv(out_dir / "index.csv", index=False)
    stamp = _stamp(command, time.perf_counter() - t0)
    (out_dir / "run.json").write_text(json.dumps({**stamp, **meta}, indent=1) + "\n")
    return out_dir / "index.csv"


def run_adversarial(iterations: int, labels=None, out_dir=WORST_DIR) -> Path:
    from kvsched.experiments.adversarial import SearchSettings
    from kvsched.experiments.cli.adversarial import LABELS

    t0 = time.perf_counter()
    runs = [(lab, 0, SearchSettings(iterations=iterations)) for lab in (labels or LABELS)]
    runs += [(lab, 1, SearchSettings(iterations=iterations, arrivals=True)) for lab in (labels or LABELS)
             if lab in ARRIVAL_AWARE]
    return _run_searches(runs, out_dir, f"python3 -m kvsched.experiments.theory_report adversarial --iterations {iterations}",
                         t0, {"settings": SearchSettings(iterations=iterations).to_dict()})


REACH_LABELS = ("mcsf", "sorted-f/dp", "fcfs", "amin/V1", "amax")


def run_reach(iterations: int, seeds=(7, 8, 9), labels=None, n_max: int = 14, M_max: int = 24, out_dir=None) -> Path:
    """The adversarial search at the sizes the exact search proves in seconds (n <= ``n_max``,
    M <= ``M_max``, all arrivals 0), for each of ``seeds``, with certify in deterministic mode
    (the same seed gives the same search whatever the load)."""
    from kvsched.experiments.adversarial import SearchSettings

    t0 = time.perf_counter()
    st = SearchSettings(iterations=iterations, n_range=(2, n_max), M_range=(4, M_max), deterministic=True)
    runs = [(lab, seed, st) for seed in seeds for lab in (labels or REACH_LABELS)]
    seeds_txt = " ".join(str(x) for x in seeds)
    return _run_searches(runs, out_dir or WORST_DIR / "reach",
                         f"python3 -m kvsched.experiments.theory_report reach --iterations {iterations} --seeds {seeds_txt} "
                         f"--n-max {n_max} --M-max {M_max}", t0,
                         {"settings": st.to_dict(), "seeds": list(seeds),
                          "note": "OPT proven by certify in deterministic mode (the state-space search beyond n = 7)"})


def measure_sf_opt(Ms=(4, 9, 16, 25, 36), time_limit: float = 120.0, out_dir=CHECKS_DIR) -> Path:
    """SF and FCFS against the certified optimum on the blocker family (small M)."""
    from kvsched.experiments.empirical import algorithm, certify_small, opt_ratio
    from kvsched.theory import families as fam

    t0 = time.perf_counter()
    rows = []
    for M in Ms:
        inst = fam.sf_blocker_family(M)
        cert = certify_small(inst, time_limit)
        for label in ("mcsf", "fcfs", "sorted-f/dp"):
            rows.append({"M": M, "n": inst.n, "algorithm": label,
                         **opt_ratio(algorithm(label).run(inst).objective, cert)})
        print(f"M = {M}: n = {inst.n}, {'proven' if cert.optimal else 'bound only'} "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(out_dir / "sf_blockers_opt.csv", index=False)
    meta = _stamp("python3 -m kvsched.experiments.theory_report measure-sf", time.perf_counter() - t0)
    (out_dir / "sf_blockers_opt.json").write_text(json.dumps(meta, indent=1) + "\n")
    return out_dir / "sf_blockers_opt.csv"


SEEDED_LABELS = ("sorted-f/dp", "mcsf", "fcfs", "amax", "amin/W", "amin/V1")


def run_seeded(iterations: int, labels=None, seed: int = 2, out_dir=None) -> Path:
    """The adversarial search started from :func:`experiments.adversarial.structured_starts`
    (earlier rank-1 instances in ``results/worst/`` and small structured families), restarts
    alternating between them and random instances; n <= 7, M <= 20, all arrivals 0."""
    from kvsched.experiments.adversarial import SearchSettings, structured_starts

    t0 = time.perf_counter()
    st = SearchSettings(iterations=iterations, n_range=(2, 7), M_range=(4, 20))
    runs = [(lab, seed, st) for lab in labels or SEEDED_LABELS]
    return _run_searches(runs, out_dir or WORST_DIR / "seeded",
                         f"python3 -m kvsched.experiments.theory_report seeded --iterations {iterations}", t0,
                         {"settings": st.to_dict(), "starts": "rank-1 instances of results/worst/ for the same heuristic "
                          "and small structured families (experiments.adversarial.structured_starts)"},
                         starts_of=lambda label: structured_starts(label, WORST_DIR))

