"""Benchmark of the exact side (docs/model.md §5, §6): time to certify, per solver and combined.

For every instance, ``certify(run_all=True)`` runs the heuristics, the exhaustive oracle
(n <= 7), CP-SAT and the MILP, each with the same time limit and a hard kill. A solver
"proves" an instance when its own incumbent equals the ceiling of its own bound; the
combined time to certify is the time until the first method in certify's order proves it.
Also: MC-SF on 100,000 LMSYS requests (word counts) and the Jaillet model-1 frontier.

    python3 experiments/bench_exact.py --sizes 8 12 16 20 24 --seeds 10 --time-limit 120
Writes ``results/bench_exact.md`` (and a CSV beside it) and prints the same tables.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from concurrent.futures import ProcessPoolExecutor

from kvsched import heuristics, paths
from kvsched.generators import FAMILIES
from kvsched.models.certify import certify
from kvsched.paths import shared_trace

SOLVERS = ("brute", "cpsat", "milp")


def one(job):
    family, n, seed, limit, threads = job
    kw = {"n": n} if n else {}
    inst = FAMILIES[family](seed=seed, **kw)
    cert = certify(inst, time_limit=limit, threads=threads, run_all=True)
    row = {"family": family, "n": inst.n, "seed": seed, "M": inst.M, "objective": cert.objective,
           "bound": cert.bound, "gap": round(cert.gap, 6), "certified": cert.optimal}
    mcsf = next(r for r in cert.records if r.solver == "mcsf")
    row["mcsf"] = mcsf.objective
    elapsed, first = sum(r.wall_time for r in cert.records if r.solver in heuristics.HEURISTICS), None
    for r in cert.records:
        if r.solver not in SOLVERS:
            continue
        proven = r.status == "optimal"
        row[f"{r.solver}_status"] = r.status if not r.message.startswith("skipped") else "skipped"
        row[f"{r.solver}_time"] = round(r.wall_time, 3)
        row[f"{r.solver}_gap"] = None if r.gap is None else round(r.gap, 6)
        row[f"{r.solver}_proven"] = proven
        elapsed += r.wall_time
        if proven and first is None:
            first = elapsed
    row["certify_time"] = None if first is None else round(first, 3)
    return row


def summarise(rows, label):
    lines = [f"### {label}", "",
             "| n | instances | certified | median time to certify (s) | CP-SAT proved | CP-SAT median (s) "
             "| MILP proved | MILP median (s) | median gap left | MC-SF / best |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for n in sorted({r["n"] for r in rows}):
        rs = [r for r in rows if r["n"] == n]
        cert = [r["certify_time"] for r in rs if r["certify_time"] is not None]
        def solver(name):
            ts = [r[f"{name}_time"] for r in rs if r.get(f"{name}_proven")]  # noqa: B023 (called in this iteration)
            return f"{len(ts)}/{len(rs)}", (f"{statistics.median(ts):.2f}" if ts else "-")  # noqa: B023 (called in this iteration)
        cp, cpt = solver("cpsat")
        mi, mit = solver("milp")
        gaps = [r["gap"] for r in rs]
        ratio = statistics.mean(r["mcsf"] / r["objective"] for r in rs)
        lines.append(f"| {n} | {len(rs)} | {len(cert)}/{len(rs)} | "
                     f"{statistics.median(cert) if cert else '-'} | {cp} | {cpt} | {mi} | {mit} | "
                     f"{statistics.median(gaps):.4f} | {ratio:.4f} |")
    return lines


def mcsf_100k():
    path = shared_trace("lmsys_chat_1m_words_sample100k_in_lt500_out_lt600.csv")
    if path is None:
        return ["MC-SF on 100,000 LMSYS requests: skipped (shared trace absent)."]
    from kvsched.traces import load_trace

    loaded = load_trace("lmsys-100k", M=16492, drop_invalid=True)
    inst = loaded.instance
    t0 = time.perf_counter()
    res = heuristics.run("mcsf", inst)
    wall = time.perf_counter() - t0
    return [f"MC-SF on {inst.n:,} LMSYS-Chat-1M requests (word counts; {loaded.dropped} rows with a zero "
            f"length dropped), M = 16,492: {wall:.2f} s including validation; TCT {res.objective:,}, "
            f"makespan {res.report.makespan:,}."]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[8, 12, 16, 20, 24])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--jaillet-seeds", type=int, default=10)
    ap.add_argument("--jaillet-time-limit", type=float, default=600.0)
    ap.add_argument("--jobs", type=int, default=1, help="instances in parallel (threads are split)")
    ap.add_argument("--out", default=str(paths.results_dir() / "bench_exact.md"))
    args = ap.parse_args(argv)
    threads = max(1, 2 // args.jobs)
    jobs = [("random", n, s, args.time_limit, threads) for n in args.sizes for s in range(args.seeds)]
    jobs += [("jaillet", None, s, args.jaillet_time_limit, threads) for s in range(args.jaillet_seeds)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = []
        for row in pool.map(one, jobs):
            rows.append(row)
            print(row, flush=True)
    total = time.perf_counter() - t0
    keys = sorted({k for r in rows for k in r})
    with open(args.out.replace(".md", ".csv"), "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    lines = ["# Exact solving benchmark", "",
             f"Command: `python3 experiments/bench_exact.py --sizes {' '.join(map(str, args.sizes))} "
             f"--seeds {args.seeds} --time-limit {args.time_limit:g} --jaillet-seeds {args.jaillet_seeds} "
             f"--jaillet-time-limit {args.jaillet_time_limit:g} --jobs {args.jobs}` "
             f"({threads} thread(s) per solver, 2-core machine, total {total:.0f} s).", "",
             "Each instance: `certify(run_all=True)`; every solver gets the time limit and a hard kill. "
             "'certified' = best incumbent equals the ceiling of the best bound; time to certify = heuristics "
             "plus the solvers in certify's order (brute for n <= 7, CP-SAT, MILP) up to the first that proves "
             "optimality on its own.", ""]
    lines += summarise([r for r in rows if r["family"] == "random"], "`random` family (M = 40, s, o ~ U{1..11})")
    lines += [""]
    jl = [r for r in rows if r["family"] == "jaillet"]
    if jl:
        lines += summarise(jl, "`jaillet` model 1 (n ~ U[40, 60])")
        lines += ["", "| seed | n | MC-SF | best | bound | gap | CP-SAT status | MILP status |", "|---|---|---|---|---|---|---|---|"]
        for r in jl:
            lines.append(f"| {r['seed']} | {r['n']} | {r['mcsf']} | {r['objective']} | {r['bound']:.1f} | "
                         f"{r['gap']:.4f} | {r.get('cpsat_status')} | {r.get('milp_status')} |")
    lines += ["", mcsf_100k()[0], ""]
    with open(args.out, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
