"""The numba state-space search (docs/model.md §5.8) against its DyPDL model on didppy
(``models/search/didp.py``), side by side on the same instances with the same time limit.

Every instance (all arrivals at 0) is solved by ``search`` (the default, with its Lagrangian
bound), ``search`` without the Lagrangian bound (the bound family the DyPDL model expresses),
and ``solve_didp`` with CAASDy (A*) and with CABS, one at a time in this process. A method
"proves" an instance when its validated objective equals the ceiling of its own bound; a run
that does not prove is timed at its wall time (about the limit), so a ratio against it is a
lower bound on the true ratio. Needs the optional extra (``pip install -e ".[didp]"``).

    python -m kvsched.experiments.bench_didp --sizes 10 12 14 16 --seeds 5 \\
        --jaillet-sizes 8 10 --jaillet-seeds 3 --time-limit 30
Writes ``results/bench_didp.md`` and prints the same tables.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import resource
import statistics
from importlib.metadata import version

from kvsched import Instance, paths
from kvsched.generators import FAMILIES
from kvsched.models.search import solve_search
from kvsched.models.search.didp import solve_didp
from kvsched.result import finish

#: column name -> how to run it
METHODS = {
    "search": lambda inst, tl: solve_search(inst, time_limit=tl),
    "search-nolag": lambda inst, tl: solve_search(inst, time_limit=tl, lagrangian=False),
    "didp-CAASDy": lambda inst, tl: solve_didp(inst, time_limit=tl, solver="CAASDy"),
    "didp-CABS": lambda inst, tl: solve_didp(inst, time_limit=tl, solver="CABS"),
}


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def instances(args):
    for n in args.sizes:
        for s in range(args.seeds):
            yield "random", n, s, FAMILIES["random"](n=n, seed=s, M=40)
    for n in args.jaillet_sizes:
        for s in range(args.jaillet_seeds):
            yield "jaillet-m1", n, s, FAMILIES["jaillet"](n=n, seed=s, model=1)


def run_one(inst: Instance, methods, tl: float) -> dict:
    row = {}
    for name in methods:
        res = finish(METHODS[name](inst, tl), inst)
        row[name] = {"proven": res.optimal, "time": res.wall_time, "expanded": res.params.get("expanded"),
                     "objective": res.objective, "bound": res.ceil_bound}
    return row


def _med(xs):
    return statistics.median(xs) if xs else float("nan")


def render(rows, methods, header: list) -> str:
    out = list(header)
    out += ["", "## Per instance", "",
            "time in s (a `*` marks a run that did not prove: its time is about the limit); exp = expansions "
            "(didp: every start of one request is a transition, so its expansions count intermediate states)", "",
            "| family | n | seed | " + " | ".join(f"{m} obj/lb | {m} s | {m} exp" for m in methods) + " |",
            "|" + "---|" * (3 + 3 * len(methods))]
    for fam, n, seed, row in rows:
        cells = []
        for m in methods:
            r = row[m]
            cells += [f"{r['objective']}/{r['bound']}", f"{r['time']:.2f}{'' if r['proven'] else '*'}", f"{r['expanded']}"]
        out.append(f"| {fam} | {n} | {seed} | " + " | ".join(cells) + " |")
    out += ["", "## Per size", "",
            "proven of k; median time (s) and median expansions over all instances of the size; ratio = median over "
            "instances of time(didp) / time(search), where a didp time-out counts at its time (so the ratio is then a "
            "lower bound)", "",
            "| family | n | " + " | ".join(f"{m} proven | {m} med s | {m} med exp" for m in methods)
            + " | " + " | ".join(f"{m}/search" for m in methods if m.startswith("didp")) + " |",
            "|" + "---|" * (2 + 3 * len(methods) + sum(m.startswith("didp") for m in methods))]
    groups: dict = {}
    for fam, n, _seed, row in rows:
        groups.setdefault((fam, n), []).append(row)
    all_ratio = {m: [] for m in methods if m.startswith("didp")}
    for (fam, n), rs in groups.items():
        cells = []
        for m in methods:
            cells += [f"{sum(r[m]['proven'] for r in rs)}/{len(rs)}", f"{_med([r[m]['time'] for r in rs]):.2f}",
                      f"{_med([r[m]['expanded'] for r in rs]):.0f}"]
        for m in all_ratio:
            ratios = [r[m]["time"] / max(r["search"]["time"], 1e-3) for r in rs]
            all_ratio[m] += ratios
            cells.append(f"{_med(ratios):.1f}")
        out.append(f"| {fam} | {n} | " + " | ".join(cells) + " |")
    total = len(rows)
    out += ["", "## Overall", ""]
    for m in methods:
        out.append(f"- {m}: proven {sum(row[m]['proven'] for *_, row in rows)}/{total}")
    for m, rs in all_ratio.items():
        faster = sum(row[m]["time"] < row["search"]["time"] for *_, row in rows)
        out.append(f"- {m}: median time ratio {m}/search = {_med(rs):.1f} over {total} instances; "
                   f"faster than search on {faster}")
    return "\n".join(out) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[10, 12, 14, 16])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--jaillet-sizes", type=int, nargs="*", default=[8, 10])
    ap.add_argument("--jaillet-seeds", type=int, default=3)
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--methods", nargs="*", default=list(METHODS), choices=list(METHODS))
    ap.add_argument("--out", default=str(paths.results_dir() / "bench_didp.md"))
    args = ap.parse_args(argv)
    methods = args.methods
    if "search" not in methods:
        methods = ["search", *methods]
    # compile / load the numba kernels and didppy once, outside the timings
    warm = FAMILIES["random"](n=6, seed=0)
    run_one(warm, methods, 5.0)
    load0, t0, commit = _load(), datetime.datetime.now(datetime.timezone.utc), paths.git_commit(short=True)  # the code that runs
    vers = ", ".join(f"{p} {version(p)}" for p in ("didppy", "numba", "numpy", "highspy"))
    cmd = ("python -m kvsched.experiments.bench_didp --sizes " + " ".join(map(str, args.sizes))
           + f" --seeds {args.seeds} --jaillet-sizes " + " ".join(map(str, args.jaillet_sizes))
           + f" --jaillet-seeds {args.jaillet_seeds} --time-limit {args.time_limit:g}")
    rows = []
    for fam, n, seed, inst in instances(args):
        row = run_one(inst, methods, args.time_limit)
        rows.append((fam, n, seed, row))
        print(fam, n, seed, {m: (r["objective"], r["bound"], round(r["time"], 2), r["expanded"]) for m, r in row.items()},
              flush=True)
    load1 = _load()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    header = ["# Exact search: numba kernel vs DyPDL on didppy", "",
              f"Command: `{cmd}`", "",
              f"Commit {commit}; {vers}; Python {platform.python_version()}; {os.cpu_count()} cores; "
              f"started {t0.isoformat(timespec='seconds')}, finished "
              f"{datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}; "
              f"load average (1, 5, 15 min) at start {load0}, at end {load1}; peak RSS {rss:.0f} MB.", "",
              f"Time limit {args.time_limit:g} s per method and instance, methods run one at a time, single-threaded. "
              "search = `solve_search` defaults (order-statistics + Lagrangian bound); search-nolag = `lagrangian=False`; "
              "didp-* = `solve_didp` (fluid dual bound, warm start as primal bound) with didppy's CAASDy / CABS."]
    text = render(rows, methods, header)
    with open(args.out, "w") as fh:
        fh.write(text)
    print(text)


if __name__ == "__main__":
    main()
