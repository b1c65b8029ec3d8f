"""Adversarial search for bad instances (docs/model.md §7.3): a seeded local search over small
instances that maximises ALG / OPT, with OPT proven by the exact models.

Search. Start from a random instance (n in ``n_range``, M in ``M_range``, s_i on 1..M/2,
o_i on 1..M - s_i, arrivals 0). Each iteration applies one random move to the current
instance: change one s_i or o_i, change M, add a perturbed copy of a request, remove one,
exchange two requests' positions (index order decides FCFS and tie rules), and, with
``arrivals=True``, shift one arrival. A move that breaks ``s_i + o_i <= M`` is repaired by
shrinking s_i (then o_i). The candidate is accepted when its ratio is at least the current
one (plateaus are walked); after ``restart_after`` iterations without improvement the walk
restarts from a fresh random instance (or, given structured ``starts``, alternately from the
next of them: :func:`structured_starts`). Everything is drawn from one
``numpy.random.default_rng(seed)``; OPT comes from certify (the state-space search, and the
exhaustive oracle for n <= 7), so the same seed gives the same walk, the same worst instances
and the same ratios as long as every candidate is proven within the limit (at n <= 12 and
M <= 20 the search proves in well under a second).

OPT. :func:`kvsched.experiments.empirical.certify_small` (every heuristic, the exhaustive oracle,
CP-SAT, MILP); a candidate whose optimum is not proven is rejected, so no ratio is ever taken
against an unproven optimum. ALG: the algorithm of :mod:`kvsched.experiments.empirical` (online
policies see no intervals: ``[1, M - s_i]``; seed 0).

Output (:func:`save`): ``results/worst/LABEL-seedK-rankR.json`` (an instance file for
``kvsched certify``) and ``...-rankR.meta.json`` with the ratio, ALG, OPT, algorithm,
seed and search settings; :func:`verify` re-certifies a saved pair.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from kvsched.instance import Instance
from kvsched.io import read_instance, write_instance

from .empirical import algorithm, certify_small

MOVES = ("s", "o", "M", "add", "remove", "swap")
MAX_ARRIVAL = 12


@dataclass(frozen=True)
class Found:
    """An evaluated instance: ALG, proven OPT and the iteration that first reached it."""

    instance: Instance
    alg: int
    opt: int
    iteration: int

    @property
    def ratio(self) -> float:
        return self.alg / self.opt


@dataclass(frozen=True)
class SearchSettings:
    iterations: int = 200
    n_range: tuple = (2, 6)
    M_range: tuple = (4, 16)
    arrivals: bool = False
    restart_after: int = 40
    keep: int = 3
    time_limit: float = 10.0
    #: certify in deterministic mode (work limits, docs/model.md §6.3): a candidate is proven or
    #: rejected whatever the machine's load, so the same seed gives the same search
    deterministic: bool = False

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}


def reproduce_command(label: str, seed: int, settings: SearchSettings) -> str:
    """The ``kvsched adversarial search`` call that reruns a search with these settings."""
    cmd = (f"kvsched adversarial search {label} --seed {seed} --iterations {settings.iterations} "
           f"--n-max {settings.n_range[1]} --M-max {settings.M_range[1]} --keep {settings.keep}")
    return cmd + (" --arrivals" if settings.arrivals else "") + (" --deterministic" if settings.deterministic else "")


def _instance(M: int, s, o, a) -> Instance:
    return Instance(int(M), tuple(int(x) for x in s), tuple(int(x) for x in o), tuple(int(x) for x in a))


def repair(M: int, s: list, o: list) -> None:
    """Make every request fit alone (``1 <= s_i``, ``1 <= o_i``, ``s_i + o_i <= M``) in place."""
    for i in range(len(s)):
        s[i], o[i] = max(1, s[i]), max(1, o[i])
        if s[i] + o[i] > M:
            s[i] = max(1, M - o[i])
            o[i] = min(o[i], M - s[i])


def random_instance(rng: np.random.Generator, st: SearchSettings) -> Instance:
    """A fresh start: n, M, s_i, o_i drawn uniformly (see the module docstring)."""
    n = int(rng.integers(st.n_range[0], st.n_range[1] + 1))
    M = int(rng.integers(max(2, st.M_range[0]), st.M_range[1] + 1))
    s = [int(rng.integers(1, max(1, M // 2) + 1)) for _ in range(n)]
    o = [int(rng.integers(1, M - x + 1)) for x in s]
    a = [int(rng.integers(0, 4)) if st.arrivals else 0 for _ in range(n)]
    return _instance(M, s, o, a)


def mutate(inst: Instance, rng: np.random.Generator, st: SearchSettings) -> Instance:
    """One random local move (module docstring), repaired to a valid instance."""
    M, s, o, a = inst.M, list(inst.prompts), list(inst.outputs), list(inst.arrivals)
    moves = MOVES + (("arrival",) if st.arrivals else ())
    move = moves[int(rng.integers(len(moves)))]
    n = len(s)
    i = int(rng.integers(n))
    step = int(rng.choice((-2, -1, 1, 2)))
    if move == "s":
        s[i] += step
    elif move == "o":
        o[i] += step
    elif move == "M":
        M = int(np.clip(M + step, max(2, st.M_range[0]), st.M_range[1]))
    elif move == "add" and n < st.n_range[1]:
        s.append(s[i] + int(rng.integers(-1, 2)))
        o.append(o[i] + int(rng.integers(-1, 2)))
        a.append(a[i])
    elif move == "remove" and n > st.n_range[0]:
        del s[i], o[i], a[i]
    elif move == "swap" and n > 1:
        j = (i + 1 + int(rng.integers(n - 1))) % n
        s[i], s[j], o[i], o[j], a[i], a[j] = s[j], s[i], o[j], o[i], a[j], a[i]
    elif move == "arrival":
        a[i] = int(np.clip(a[i] + step, 0, MAX_ARRIVAL))
    repair(M, s, o)
    return _instance(M, s, o, a)


def search(label: str, seed: int = 0, settings: Optional[SearchSettings] = None, progress=None,
           starts: Sequence[Instance] = ()) -> list:
    """The ``settings.keep`` worst distinct instances for algorithm ``label``, worst first
    (ties: fewer requests, then earlier iteration). ``starts``: structured seed instances; the
    walk begins at the first, and every restart alternates between a fresh random instance
    and the next start (cycling), so the search explores around known bad instances too."""
    st = settings or SearchSettings()
    algo = algorithm(label)
    rng = np.random.default_rng(seed)
    memo: dict = {}
    pool = list(starts)
    restarts = [0]

    def evaluate(inst: Instance, it: int) -> Optional[Found]:
        if inst.digest not in memo:
            cert = certify_small(inst, st.time_limit, deterministic=st.deterministic)
            memo[inst.digest] = (Found(inst, algo.run(inst).objective, cert.objective, it)
                                 if cert.optimal else None)
        return memo[inst.digest]

    def fresh(it: int) -> Found:
        k = restarts[0]
        restarts[0] += 1
        if pool and k % 2 == 0:
            f = evaluate(pool[(k // 2) % len(pool)], it)
            if f is not None:
                return f
        while (f := evaluate(random_instance(rng, st), it)) is None:
            pass
        return f

    cur = fresh(0)
    stale = 0
    for it in range(1, st.iterations + 1):
        cand = evaluate(mutate(cur.instance, rng, st), it)
        if cand is not None and cand.ratio >= cur.ratio:
            stale = 0 if cand.ratio > cur.ratio else stale + 1
            cur = cand
        else:
            stale += 1
        if stale >= st.restart_after:
            cur, stale = fresh(it), 0
        if progress:
            progress(it, cur)
    found = [f for f in memo.values() if f is not None]
    found.sort(key=lambda f: (-f.ratio, f.instance.n, f.iteration, f.instance.digest))
    return found[: st.keep]


def file_stem(label: str, seed: int, rank: int) -> str:
    return f"{label.replace('/', '_')}-seed{seed}-rank{rank}"


def save(found: list, label: str, seed: int, settings: SearchSettings, out_dir) -> list:
    """Write each found instance and its sidecar; returns the instance paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    algo = algorithm(label)
    paths = []
    for rank, f in enumerate(found, 1):
        stem = file_stem(label, seed, rank)
        write_instance(f.instance, out / f"{stem}.json")
        meta = {"heuristic": label, "kind": algo.kind, "name": algo.name, "params": dict(algo.params),
                "seed": seed, "rank": rank, "ratio": f.ratio, "alg": f.alg, "opt": f.opt,
                "opt_proven": True, "n": f.instance.n, "M": f.instance.M, "iteration": f.iteration,
                "instance_hash": f.instance.digest, "search": settings.to_dict(),
                "reproduce": reproduce_command(label, seed, settings),
                "verify": f"kvsched certify {stem}.json"}
        (out / f"{stem}.meta.json").write_text(json.dumps(meta, indent=1) + "\n")
        paths.append(out / f"{stem}.json")
    return paths


def verify(instance_path, time_limit: float = 10.0) -> dict:
    """Re-read a saved instance and its sidecar, re-certify it and re-run its algorithm:
    ``{"path", "opt_proven", "opt", "opt_matches", "alg", "alg_matches", "ratio"}``."""
    path = Path(instance_path)
    meta = json.loads(path.with_suffix(".meta.json").read_text())
    inst = read_instance(path)
    cert = certify_small(inst, time_limit)
    alg = algorithm(meta["heuristic"]).run(inst).objective
    return {"path": str(path), "opt_proven": cert.optimal, "opt": cert.objective,
            "opt_matches": cert.optimal and cert.objective == meta["opt"], "alg": alg,
            "alg_matches": alg == meta["alg"], "ratio": alg / cert.objective}


def structured_starts(label: str, worst_dir=None, n_max: int = 7, arrivals: bool = False) -> list:
    """Seed instances for ``label`` (n <= ``n_max``): the rank-1 instances of earlier searches
    in ``worst_dir`` for the same heuristic, and small members of the families built against
    it (:mod:`kvsched.theory.families`; A_min's fluid mix). Without ``arrivals`` every arrival
    is set to 0."""
    from kvsched.theory import families as fam

    from .amin_conventions import fluid_instance

    out = []
    if worst_dir is not None:
        for p in sorted(Path(worst_dir).glob(f"{label.replace('/', '_')}-seed*-rank1.json")):
            out.append(read_instance(p))
    if label.startswith("sorted-f") or label == "largest-batch":
        out += [fam.sorted_f_stagger_family(L, k, b) for L, k, b in ((3, 2, 3), (2, 3, 2), (5, 2, 3))]
    if label in ("fcfs", "mcsf"):
        out += [fam.sf_blocker_family(M) for M in (4, 9)]
    if label == "amax":
        out += [fam.amax_family(M, 1, 4, 2, seed=0) for M in (10, 15)]
    if label.startswith("amin"):
        out += [fluid_instance(2, n1=4, m_factor=2), fluid_instance(3, n1=3, m_factor=2)]
    plain = [Instance(x.M, x.prompts, x.outputs, x.arrivals if arrivals else ())  # no intervals: online policies
             for x in out]  # see [1, M - s_i], as everywhere in the search
    return [x for x in plain if x.n <= n_max]
