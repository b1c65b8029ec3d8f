"""Benchmark of the exact side (docs/model.md §5, §6): fraction proven and time per method and for ``certify``.

For every instance, ``certify(run_all=True)`` runs the heuristics, then the state-space
search, the exhaustive oracle (n <= 7), CP-SAT and the MILP, each with its own time limit and
a hard kill. A method "proves" an instance when its own incumbent equals the ceiling of its
own bound; the time to certify is the heuristics' time plus the methods in certify's order up
to the first that proves it. Instances are run one at a time and the report (and its CSV) is rewritten
after each, so a cut-short run still leaves every finished row; ``--resume`` keeps the rows of
the CSV and runs only the instances it lacks.

    python3 -m kvsched.experiments.bench_exact --sizes 8 12 16 18 20 24 --seeds 10 \\
        --jaillet-sizes 10 12 15 --jaillet-seeds 5 --search-time-limit 60 --time-limit 20
Writes ``results/bench_exact.md`` (and a CSV beside it) and prints the same tables.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import os
import platform
import statistics
import time
from importlib.metadata import version

from kvsched import heuristics, paths
from kvsched.generators import FAMILIES
from kvsched.models.certify import certify

from .executors import make_executor

SOLVERS = ("search", "brute", "cpsat", "milp")
#: the targets of docs/model.md, "Exact search": (family, n) -> (proven, of, within seconds)
TARGETS = {("random", 16): (10, 10, 5.0, "median"), ("random", 20): (8, 10, 60.0, "each"),
           ("random", 24): (5, 10, 300.0, "each"), ("jaillet", 12): (5, 5, 300.0, "each"),
           ("jaillet", 15): (3, 5, 300.0, "each")}


def one(family, n, seed, limits):
    """One instance; family "jaillet-paper" is Jaillet model 1 at the paper's own n ~ U{40..60}
    (``n`` ignored), certified with the Lagrangian bound as well; "random-poisson" is "random"
    with Poisson arrivals."""
    if family == "jaillet-paper":
        inst = FAMILIES["jaillet"](seed=seed, model=1)
    elif family == "random-poisson":  # the same (s, o) as "random" with this seed, Poisson arrivals
        inst = FAMILIES["random"](n=n, seed=seed, arrivals="poisson", rate=limits["rate"])
    else:
        kw = {"n": n, "model": 1} if family == "jaillet" else {"n": n}
        inst = FAMILIES[family](seed=seed, **kw)
    # the whole budget is large enough that each method, run one after another, gets its own cap
    budget = 3 * max(limits["search"], limits["cpsat"], limits["milp"]) + 10
    cert = certify(inst, time_limit=budget, search_time_limit=limits["search"], cpsat_time_limit=limits["cpsat"],
                   milp_time_limit=limits["milp"], threads=limits["threads"], run_all=True, concurrent=False,
                   search_memory_limit=limits["search_memory"], lagrangian=family == "jaillet-paper")
    row = {"family": family, "n": inst.n, "seed": seed, "M": inst.M, "objective": cert.objective,
           "bound": cert.bound, "gap": round(cert.gap, 6), "certified": cert.optimal,
           "best_solver": cert.best_solver, "bound_solver": cert.bound_solver}
    row["mcsf"] = next(r for r in cert.records if r.solver == "mcsf").objective
    elapsed, first = sum(r.wall_time for r in cert.records if r.solver in heuristics.HEURISTICS), None
    for r in cert.records:
        if r.solver not in SOLVERS:
            continue
        proven = r.status == "optimal"
        row[f"{r.solver}_status"] = r.status
        row[f"{r.solver}_time"] = round(r.wall_time, 3)
        row[f"{r.solver}_gap"] = None if r.gap is None else round(r.gap, 6)
        row[f"{r.solver}_proven"] = proven
        if r.solver == "search":
            words = r.message.split()  # "<expanded> expanded, <stored> stored; root bound <h>"
            row["search_expanded"] = int(words[0]) if words and words[0].isdigit() else None
            row["search_bound"] = r.bound
        elapsed += r.wall_time
        if proven and first is None:
            first = elapsed
    row["certify_time"] = None if first is None else round(first, 3)
    return row


def _job_key(family, n, seed):
    """The job an instance row came from ("jaillet-paper" draws its own n)."""
    return family, None if family == "jaillet-paper" else int(n), int(seed)


def _cell(text):
    """A CSV cell back to the value :func:`one` wrote."""
    if text == "":
        return None
    if text in ("True", "False"):
        return text == "True"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def load_rows(out):
    """The finished rows of an earlier run with report ``out`` (none if it has no CSV)."""
    path = out.replace(".md", ".csv")
    if not os.path.exists(path):
        return []
    with open(path, newline="") as fh:
        return [{k: _cell(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def _median(xs):
    return f"{statistics.median(xs):.2f}" if xs else "-"


def summarise(rows, label):
    lines = [f"### {label}", "",
             "| n | instances | certified | certify median (s) | search proved | search median (s) | CP-SAT proved "
             "| CP-SAT median (s) | MILP proved | MILP median (s) | median gap left | MC-SF / best |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for n in sorted({r["n"] for r in rows}):
        rs = [r for r in rows if r["n"] == n]
        cert = [r["certify_time"] for r in rs if r["certify_time"] is not None]
        cells = []
        for name in ("search", "cpsat", "milp"):
            ts = [r[f"{name}_time"] for r in rs if r.get(f"{name}_proven")]
            cells += [f"{len(ts)}/{len(rs)}", _median(ts)]
        ratio = statistics.mean(r["mcsf"] / r["objective"] for r in rs)
        lines.append(f"| {n} | {len(rs)} | {len(cert)}/{len(rs)} | {_median(cert)} | " + " | ".join(cells)
                     + f" | {statistics.median(r['gap'] for r in rs):.4f} | {ratio:.4f} |")
    return lines


def targets(rows, limits):
    lines = ["### Targets", "", "| family, n | target | reached (search) | reached (certify) |", "|---|---|---|---|"]
    for (family, n), (k, of, within, how) in TARGETS.items():
        rs = [r for r in rows if r["family"] == family and r["n"] == n]
        goal = (f"{k}/{of}, median <= {within:g} s" if how == "median" else f"{k}/{of} within {within:g} s")
        if not rs:
            lines.append(f"| {family} n = {n} | {goal} | not run | not run |")
            continue
        cells = []
        for key in ("search_time", "certify_time"):
            ts = [r[key] for r in rs if r.get(key) is not None and (key != "search_time" or r.get("search_proven"))]
            inside = [t for t in ts if t <= within]
            cells.append(f"{len(inside)}/{len(rs)} within {within:g} s (median of proven {_median(ts)} s)")
        lines.append(f"| {family} n = {n} | {goal} | {cells[0]} | {cells[1]} |")
    lines += ["", f"Time limits used: search {limits['search']:g} s, CP-SAT {limits['cpsat']:g} s, MILP "
              f"{limits['milp']:g} s per instance; a target with a longer window than the limit is reported "
              "within the limit only."]
    return lines


def write(rows, args, limits, started, load0, out):
    keys = sorted({k for r in rows for k in r})
    with open(out.replace(".md", ".csv"), "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    vers = ", ".join(f"{p} {version(p)}" for p in ("numba", "highspy", "ortools", "pyomo"))
    load1 = os.getloadavg()
    resumed = f" ({args.resumed} rows kept from an earlier run of this command)" if args.resumed else ""
    lines = ["# Exact solving benchmark", "",
             f"Command: `python3 -m kvsched.experiments.bench_exact {' '.join(args.argv)}`; seeds 0..k-1 of each "
             f"family; commit {args.commit}{resumed}; {vers}; Python {platform.python_version()}; started "
             f"{started} UTC, {len(rows)} instances done after {time.perf_counter() - args.t0:.0f} s; load average "
             f"{load0[0]:.1f} at the start, {load1[0]:.1f} now; {args.jobs} instance(s) at a time on "
             f"{os.cpu_count()} cores shared with other jobs (wall times are inflated accordingly).", "",
             "Each instance: `certify(run_all=True)`; every method gets its own time limit and a hard kill. "
             "'certified' = best incumbent equals the ceiling of the best bound; certify time = heuristics plus "
             "the methods in certify's order (search, brute for n <= 7, CP-SAT, MILP) up to the first that proves "
             "optimality on its own.", ""]
    lines += targets(rows, limits) + [""]
    lines += summarise([r for r in rows if r["family"] == "random"], "`random` family (M = 40, s, o ~ U{1..11})")
    jl = [r for r in rows if r["family"] == "jaillet"]
    if jl:
        lines += [""] + summarise(jl, "`jaillet` model 1 (M ~ U{30..50}, one s ~ U{1..5}, o ~ U{1..M-s}), n given")
    po = [r for r in rows if r["family"] == "random-poisson"]
    if po:
        lines += [""] + summarise(po, f"`random` family with Poisson arrivals ({limits['rate']:g} requests per round): "
                                      "the same (s, o) as the `random` rows of equal n and seed")
        pairs = {}  # n -> [(expansions without arrivals, with)], instances the search proved both ways
        for p in po:
            z = next((r for r in rows if r["family"] == "random" and (r["n"], r["seed"]) == (p["n"], p["seed"])), None)
            if z is not None and z.get("search_proven") and p.get("search_proven"):
                pairs.setdefault(p["n"], []).append((z["search_expanded"], p["search_expanded"]))
        if pairs:
            lines += ["", "Median search expansions without / with arrivals, same requests, proven both ways: " + ", ".join(
                f"n = {n}: {statistics.median(a for a, _ in v):g} / {statistics.median(b for _, b in v):g} ({len(v)} pairs)"
                for n, v in sorted(pairs.items())) + "."]
    paper = [r for r in rows if r["family"] == "jaillet-paper"]
    if paper:
        lines += ["", "### `jaillet` model 1 at the paper's n ~ U{40..60}: proven gap", "",
                  "certify with the Lagrangian bound as well (`lagrangian=True`); gap = (best - ceil(bound)) / best.", "",
                  "| instances | n (min-max) | certified | median gap | min gap | max gap | bound by | MC-SF / best |",
                  "|---|---|---|---|---|---|---|---|"]
        gaps = [r["gap"] for r in paper]
        by = ", ".join(f"{k} {sum(r['bound_solver'] == k for r in paper)}" for k in sorted({r["bound_solver"] for r in paper}))
        lines.append(f"| {len(paper)} | {min(r['n'] for r in paper)}-{max(r['n'] for r in paper)} | "
                     f"{sum(bool(r['certified']) for r in paper)}/{len(paper)} | {statistics.median(gaps):.4f} | "
                     f"{min(gaps):.4f} | {max(gaps):.4f} | {by} | "
                     f"{statistics.mean(r['mcsf'] / r['objective'] for r in paper):.4f} |")
    lines += ["", "### Per instance", "",
              "| family | n | seed | best | bound | certified | search | search bound | search expanded | "
              "search s | CP-SAT | CP-SAT s | MILP | MILP s |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['family']} | {r['n']} | {r['seed']} | {r['objective']} | {r['bound']:.1f} | {r['certified']} "
                     f"| {r.get('search_status')} | {r.get('search_bound')} | {r.get('search_expanded')} | "
                     f"{r.get('search_time')} | {r.get('cpsat_status')} | {r.get('cpsat_time')} | "
                     f"{r.get('milp_status')} | {r.get('milp_time')} |")
    with open(out, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[8, 12, 16, 18, 20, 24])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--large-seeds", type=int, default=None, help="seeds for random n >= 18 (default: --seeds)")
    ap.add_argument("--jaillet-sizes", type=int, nargs="*", default=[10, 12, 15])
    ap.add_argument("--jaillet-seeds", type=int, default=5)
    ap.add_argument("--jaillet-paper-seeds", type=int, default=0,
                    help="also Jaillet model 1 at the paper's n ~ U{40..60}: this many seeds, reporting the proven gap")
    ap.add_argument("--poisson-sizes", type=int, nargs="*", default=[],
                    help="also these random n with Poisson arrivals (same requests as the zero-arrival rows)")
    ap.add_argument("--rate", type=float, default=0.5, help="Poisson arrivals: requests per round")
    ap.add_argument("--search-time-limit", type=float, default=60.0)
    ap.add_argument("--search-memory-limit", type=float, default=None, help="MB for the search's arrays")
    ap.add_argument("--time-limit", type=float, default=60.0, help="CP-SAT and MILP time limit")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=1,
                    help="instances solved at once, each in its own process (the report notes it)")
    ap.add_argument("--out", default=str(paths.results_dir() / "bench_exact.md"))
    ap.add_argument("--resume", action="store_true",
                    help="keep the finished rows of the CSV beside --out and run only the missing instances")
    args = ap.parse_args(argv)
    import sys

    args.argv = [a for a in (sys.argv[1:] if argv is None else argv) if a != "--resume"]
    args.t0 = time.perf_counter()
    args.commit = paths.git_commit(short=True)  # the code this run started with (later commits do not change the header)
    limits = {"search": args.search_time_limit, "cpsat": args.time_limit, "milp": args.time_limit,
              "threads": args.threads, "search_memory": args.search_memory_limit, "rate": args.rate}
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    load0 = os.getloadavg()
    large = args.seeds if args.large_seeds is None else args.large_seeds
    jobs = [("random", n, s) for n in args.sizes for s in range(args.seeds if n < 18 else large)]
    jobs += [("jaillet", n, s) for n in args.jaillet_sizes for s in range(args.jaillet_seeds)]
    jobs += [("random-poisson", n, s) for n in args.poisson_sizes for s in range(args.seeds if n < 18 else large)]
    # easiest first (Jaillet n is about as hard as random n + 6), so a cut-short run keeps the easy rows
    jobs.sort(key=lambda j: (j[1] + (6 if j[0] == "jaillet" else 0), j[0] == "random-poisson"))
    jobs += [("jaillet-paper", None, s) for s in range(args.jaillet_paper_seeds)]
    wanted = {_job_key(*job) for job in jobs}
    rows = [r for r in load_rows(args.out) if _job_key(r["family"], r["n"], r["seed"]) in wanted] if args.resume else []
    args.resumed = len(rows)
    done = {_job_key(r["family"], r["n"], r["seed"]) for r in rows}
    lines = write(rows, args, limits, started, load0, args.out) if rows else []
    todo = [job for job in jobs if _job_key(*job) not in done]
    order = {_job_key(*job): k for k, job in enumerate(jobs)}
    executor = make_executor("local", jobs=args.jobs)
    aborted = True  # unless the loop ends: a Ctrl-C or an error kills the running workers
    try:
        for _, row in executor.unordered(one, [(*job, limits) for job in todo]):
            rows.append(row)  # the CSV holds every finished row, so --resume loses none
            rows.sort(key=lambda r: order[_job_key(r["family"], r["n"], r["seed"])])
            print(row, flush=True)
            lines = write(rows, args, limits, started, load0, args.out)
        aborted = False
    finally:
        executor.close(abort=aborted)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
