"""How long the time-indexed MILP (HiGHS, 1 thread) takes to prove `random` instances, and
the LP bound beside it. Prints a table and writes ``results/bench_exact_milp_<family>.md``.

    python3 -m kvsched.experiments.bench_exact_milp --sizes 8 12 16 --seeds 0 1 --time-limit 120
    python3 -m kvsched.experiments.bench_exact_milp --family jaillet --sizes 10 --seeds 0 1 2 --variant core=0

Each ``--variant key=value`` adds a MILP run with that option changed (values are ints;
core=0 turns the separated core rows off, core=1 adds all of them).
Numbers only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import time

from kvsched import paths
from kvsched.generators import FAMILIES
from kvsched.models.lp import solve_lp
from kvsched.models.milp import solve_milp

COLUMNS = ("n", "seed", "variant", "ub", "objective", "bound", "gap", "status", "time_s", "lp_bound", "lp_time_s",
           "columns", "rows")


def parse_variant(text: str) -> dict:
    opts = {}
    for part in filter(None, text.split(",")):
        key, value = part.split("=")
        opts[key] = int(value)
    return opts


def bench(family: str, sizes, seeds, time_limit: float, threads: int, variants) -> list:
    rows = []
    for n in sizes:
        for seed in seeds:
            inst = FAMILIES[family](n, seed)
            lp = solve_lp(inst, time_limit=time_limit, threads=threads)
            for name, opts in variants:
                res = solve_milp(inst, time_limit=time_limit, threads=threads, seed=0, **opts)
                row = {"n": n, "seed": seed, "variant": name, "ub": res.params["ub"], "objective": res.objective,
                       "bound": round(res.bound, 2), "gap": round(res.gap, 4), "status": res.status,
                       "time_s": round(res.wall_time, 2), "lp_bound": round(lp.bound, 2),
                       "lp_time_s": round(lp.wall_time, 2), "columns": res.params.get("columns"),
                       "rows": res.params.get("rows")}
                rows.append(row)
                print(" | ".join(str(row[c]) for c in COLUMNS), flush=True)
    return rows


def markdown(rows, args) -> str:
    lines = [
        f"# Time-indexed MILP on `{args.family}` (kvsched.generators)",
        "",
        f"HiGHS via Pyomo, threads = {args.threads}, time limit {args.time_limit:g} s per solve "
        f"(heuristic + build + solve), {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC. "
        "`ub` = best heuristic (MIP start); `bound` = max(HiGHS dual bound, closed form); "
        "`lp_bound` = LP relaxation of the same windows.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    lines += ["| " + " | ".join(str(r[c]) for c in COLUMNS) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family", default="random", choices=["random", "jaillet"])
    ap.add_argument("--sizes", type=int, nargs="+", default=[8, 12, 16])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--variant", action="append", default=[], help="e.g. core=1 or aggregate=0,window_cut=0")
    ap.add_argument("--out", default=None, help="default: results/bench_exact_milp_<family>.md")
    args = ap.parse_args(argv)
    variants = [("default", {})] + [(v, parse_variant(v)) for v in args.variant]
    print(" | ".join(COLUMNS))
    rows = bench(args.family, args.sizes, args.seeds, args.time_limit, args.threads, variants)
    out = args.out or str(paths.results_dir() / f"bench_exact_milp_{args.family}.md")
    with open(out, "w") as fh:
        fh.write(markdown(rows, args))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
