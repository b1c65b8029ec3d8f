"""Benchmark: wall time of :func:`kvsched.traces.load_trace` on every preset of the shared
data folder (whole file, ``drop_invalid=True``), split into reading + row checks and the
``Instance`` construction. Prints a table and writes ``results/bench_traces.md``.

Run: ``python3 -m kvsched.experiments.bench_traces [--M 16492]``. Presets whose file is absent are listed
as absent."""

from __future__ import annotations

import argparse
import platform
import time

from kvsched import paths
from kvsched.instance import Instance
from kvsched.paths import shared_trace
from kvsched.traces import PRESETS, load_trace


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--M", type=int, default=16_492, help="KV-cache size (default: 16,492, Llama-2-70B on two A100s)")
    args = ap.parse_args(argv)
    rows = ["| preset | unit | rows in file | requests | dropped invalid | dropped s+o>M | load (s) | Instance alone, re-timed (s) |",
            "|---|---|---|---|---|---|---|---|"]
    for name, p in PRESETS.items():
        if shared_trace(p.filename) is None:
            rows.append(f"| {name} | {p.unit.split()[0]} | absent | | | | | |")
            continue
        t0 = time.perf_counter()
        load = load_trace(name, args.M, drop_invalid=True)
        total = time.perf_counter() - t0
        inst = load.instance
        t1 = time.perf_counter()
        Instance(inst.M, inst.prompts, inst.outputs, inst.arrivals)
        build = time.perf_counter() - t1
        rows.append(f"| {name} | {p.unit.split()[0]} | {load.rows_in_file:,} | {inst.n:,} | {load.dropped_invalid:,} "
                    f"| {load.dropped_too_long:,} | {total:.3f} | {build:.3f} |")
    text = "\n".join([
        "# Trace loading times", "",
        f"`python3 -m kvsched.experiments.bench_traces --M {args.M}` on {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. "
        "Whole files, `drop_invalid=True`, all arrivals 0. The last column re-times only the "
        "validated `Instance` construction (a per-request Python loop), which dominates.", "",
        *rows, ""])
    print(text)
    paths.results_dir().mkdir(exist_ok=True)
    (paths.results_dir() / "bench_traces.md").write_text(text)


if __name__ == "__main__":
    main()
