"""Online policies under prediction uncertainty: speed, Chen et al.'s three prediction
experiments, and the A_max lower-bound family. Prints and writes ``results/bench_online.md``.

Run: ``python3 -m kvsched.experiments.bench_online`` (``--quick`` skips the 100,000-request timings).
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from kvsched import paths
from kvsched import predictions as P
from kvsched.generators import poisson_arrivals
from kvsched.heuristics.baselines import mcsf
from kvsched.heuristics.online import POLICIES
from kvsched.instance import Instance
from kvsched.result import Result, finish
from kvsched.simulator import simulate, with_arrivals
from kvsched.workload import closeness_table, lmsys_like

M = 16_384  # KV cache (tokens) of the prediction experiments and timings
N = 2_000
RATES = (None, 0.6, 1.2)  # all at round 0, then Poisson arrivals (requests per round)
REAL_RATES = (None, 0.4)  # the word-count trace is about 2.7x heavier per request
SETTINGS = [("rough [1,1000]", P.common_interval), ("buckets of 100", P.buckets),
            ("overlap x=0.1", lambda i: P.overlapping(i, 0.1)), ("overlap x=0.95", lambda i: P.overlapping(i, 0.95)),
            ("overlap x=0.99", lambda i: P.overlapping(i, 0.99))]


def timed(name: str, inst: Instance, **params):
    """Simulate (CPU and wall seconds of the simulation alone), then validate."""
    policy = POLICIES[name](inst, **params)
    c0, w0 = time.process_time(), time.perf_counter()
    sched = simulate(inst, policy)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    res = finish(Result(name, schedule=sched, wall_time=wall), inst)
    return res, cpu, wall


def speed_section(sizes) -> list:
    lines = ["## Wall time per policy", "",
             f"LMSYS-like requests (the model above), all at round 0, M = {M:,}. Interval "
             "policies get bucket intervals, point policies noise:0.2 predictions, H-SF the true lengths. "
             "CPU = process time of the simulation alone; wall = elapsed (the machine's 2 cores are shared "
             "with other jobs, so wall > CPU). Validation of the runs is not included.", "",
             "| n | policy | predictions | CPU s | wall s | rounds (makespan) | cancellations | avg latency |",
             "|---|---|---|---|---|---|---|---|"]
    for n in sizes:
        inst = lmsys_like(n, M=M, seed=0)
        cases = [("hsf", inst, {}, "exact"), ("amax", P.buckets(inst), {"seed": 0}, "buckets"),
                 ("amin", P.buckets(inst), {"seed": 0, "convention": "W"}, "buckets"),
                 ("amin", P.buckets(inst), {"seed": 0, "convention": "V1"}, "buckets, V1"),
                 ("mcsf", P.noisy_points(inst, 0.2), {}, "noise:0.2"),
                 ("fcfs", P.noisy_points(inst, 0.2), {}, "noise:0.2")]
        for name, pi, params, label in cases:
            res, cpu, wall = timed(name, pi, **params)
            rep = res.report
            lines.append(f"| {n:,} | {name} | {label} | {cpu:.2f} | {wall:.2f} | {rep.makespan:,} | "
                         f"{rep.cancelled_runs:,} | {rep.avg_latency:.1f} |")
            print(lines[-1], flush=True)
        c0, w0 = time.process_time(), time.perf_counter()
        mcsf(inst)
        lines.append(f"| {n:,} | offline engine mcsf (reference) | exact | {time.process_time() - c0:.2f} | "
                     f"{time.perf_counter() - w0:.2f} | | | |")
        print(lines[-1], flush=True)
    return lines


def prediction_table(inst: Instance, title: str) -> tuple:
    """Average latency of H-SF, A_max, A_min (W and V1) for every prediction setting."""
    hsf = timed("hsf", inst)[0].report.avg_latency
    rows = [f"#### {title}", "", f"H-SF (true lengths): average latency **{hsf:.1f}** rounds.", "",
            "| predictions | A_max | A_min (W) | A_min (V1) | A_max / H-SF | A_min(W) / H-SF | A_min(W) cancellations |",
            "|---|---|---|---|---|---|---|"]
    ratios = {}
    for label, gen in SETTINGS:
        pi = gen(inst)
        amax = timed("amax", pi, seed=0)[0].report
        aw = timed("amin", pi, seed=0, convention="W")[0].report
        av = timed("amin", pi, seed=0, convention="V1")[0].report
        ratios[label] = (amax.avg_latency / hsf, aw.avg_latency / hsf, av.avg_latency / hsf)
        rows.append(f"| {label} | {amax.avg_latency:.1f} | {aw.avg_latency:.1f} | {av.avg_latency:.1f} | "
                    f"{ratios[label][0]:.2f} | {ratios[label][1]:.2f} | {aw.cancelled_runs:,} |")
        print(title, rows[-1], flush=True)
    return rows + [""], ratios


def arrival_variants(inst: Instance, rates=RATES) -> list:
    out = []
    for rate in rates:
        if rate is None:
            out.append(("all at round 0", inst))
        else:
            out.append((f"Poisson arrivals, {rate} requests per round (round = floor(time))",
                        with_arrivals(inst, poisson_arrivals(inst.n, rate, seed=1))))
    return out


def lower_bound_section() -> list:
    """A_max on N_l jobs of length l and N_u of length u = l / alpha, N_l / N_u = alpha^-1/2."""
    lines = ["## A_max lower-bound family", "",
             "N_l = r N_u requests of length l and N_u of length u = l r^2 (alpha = 1 / r^2), all with s = 1 "
             "and interval [l, u]; l = 10, M = (s + l)(s + u) * 2 (every batch full), N_u = 20 batches' worth. "
             "Ratios of A_max's TEL to H-SF's TEL for each reading (random order: seed 1). "
             "`tests/test_online_policies.py` checks that the simulated TELs equal a closed-form batch model, "
             "whose limit (s / l -> 0, many batches) is given in the last two columns.", "",
             "| alpha | stated lower bound r^2 (1 + r) / 2 | reuse, random | reuse, shorts first | "
             "reuse, longs first | no reuse (any order) | limit: reuse, longs first 2r^3(r+1)/(r^3+r+2) | "
             "limit: no reuse (r+1)^2 r^3/(r^3+r+2) |", "|---|---|---|---|---|---|---|---|"]
    s, l = 1, 10
    for r in (2, 3, 4):
        u = l * r * r
        Mb = (s + l) * (s + u) * 2
        Ku = Mb // (s + u)
        Nu = Ku * 20
        o = [l] * (r * Nu) + [u] * Nu
        inst = Instance(Mb, (s,) * len(o), tuple(o), lowers=(l,) * len(o), uppers=(u,) * len(o))
        h = timed("hsf", inst)[0].objective
        longs = np.argsort(np.argsort(-inst.o, kind="stable"), kind="stable")
        shorts = np.argsort(np.argsort(inst.o, kind="stable"), kind="stable")
        vals = [timed("amax", inst, tie_break=tb, seed=1, reuse_freed=reuse)[0].objective / h
                for tb, reuse in (("random", True), (shorts, True), (longs, True), ("random", False))]
        lines.append(f"| 1/{r * r} | {r * r * (1 + r) / 2:g} | " + " | ".join(f"{v:.3f}" for v in vals)
                     + f" | {2 * r ** 3 * (r + 1) / (r ** 3 + r + 2):.3f}"
                     + f" | {(r + 1) ** 2 * r ** 3 / (r ** 3 + r + 2):.3f} |")
        print(lines[-1], flush=True)
    # all requests short (o = l = 10, u = 40): no reuse exceeds the stated upper bound
    l, u = 10, 40
    Mb = (s + l) * (s + u) * 2
    n = Mb // (s + u) * 60
    short = Instance(Mb, (s,) * n, (l,) * n, lowers=(l,) * n, uppers=(u,) * n)
    h = timed("hsf", short)[0].objective
    no_reuse = timed("amax", short, reuse_freed=False)[0].objective / h
    reuse = timed("amax", short)[0].objective / h
    lines += ["", f"All {n:,} requests short (o = l = 10, u = 40, alpha = 1/4): A_max / H-SF = {reuse:.2f} with reuse "
              f"(tends to alpha^-1 = 4), {no_reuse:.2f} without (tends to alpha^-2 = 16; the stated upper bound "
              "alpha^-1 (1 + alpha^-1) / 2 is 10)."]
    lines += ["", "Reading that reaches the stated bound: **A_max that does not reuse memory freed by early "
              "finishers** (each admitted request keeps its believed peak reserved until p + u; option "
              "`reuse_freed=False`, CLI `--no-reuse`). With it every batch lasts u rounds whatever the order, "
              "and the ratio tends to (r+1)^2 r^3 / (r^3 + r + 2), which is exactly 6 at alpha = 1/4 but only "
              "13.5 and 22.9 at alpha = 1/9 and 1/16 (stated 18 and 40): the stated formula coincides with this "
              "family only at alpha = 1/4. The default reading (freed memory reused, as the worked "
              "check TEL 18 requires) with the adversarial order (long requests first among identical-looking "
              "ones) tends to 4 at alpha = 1/4: the reconstruction's \"about 4\". A random order with reuse "
              "stays near 1.5-3. Caveat: without reuse, the all-short instance above exceeds the stated upper "
              "bound, so that reading cannot be the analysed A_max either; it is kept as an option only.", ""]
    return lines


def quadratic_form(u: int) -> tuple:
    """Top generalised eigenpair of (A_u, B_u) (docs/model.md §7.3); eigenvector scaled to x_1 = 1."""
    from scipy.linalg import eigh

    idx = np.arange(1, u + 1)
    m = np.minimum.outer(idx, idx).astype(float)
    A = m ** 2 / np.outer(idx, idx) * (np.add.outer(idx, idx) ** 2 / 2 - m ** 2)
    w, v = eigh(A, m ** 2)
    return float(w[-1]), v[:, -1] / v[0, -1]


def amin_theory_section() -> list:
    """A_min on instances with lengths 1..u (interval [1, u], s = 1) against CR(A_min)."""
    lines = ["## A_min against its competitive ratio (quadratic form)", "",
             "Requests of lengths 1..u in proportions x (interval [1, u] for all), s = 1, M = 200 (s + u), "
             "3,000 requests of length 1; ratio A_min TEL / H-SF TEL, mean of tie-break seeds 0 and 1. "
             "x* is the top generalised eigenvector of (A_u, B_u), read as the counts per length.", "",
             "| u | CR(A_min) = max Rayleigh quotient | proportions x | A_min (W) / H-SF | A_min (V1) / H-SF |",
             "|---|---|---|---|---|"]
    s = 1
    above = []
    for u in (2, 3, 4):
        cr, x_star = quadratic_form(u)
        for x in (x_star, np.ones(u)):
            counts = np.maximum(1, np.rint(3000 * x / x[0])).astype(int)
            o = np.repeat(np.arange(1, u + 1), counts)
            inst = Instance(200 * (s + u), (s,) * o.size, tuple(o.tolist()), lowers=(1,) * o.size,
                            uppers=(u,) * o.size)
            h = timed("hsf", inst)[0].objective
            r = {c: np.mean([timed("amin", inst, seed=k, convention=c)[0].objective / h for k in (0, 1)])
                 for c in ("W", "V1")}
            label = "x* = (" + ", ".join(f"{v:.2f}" for v in x) + ")" if x is x_star else "uniform"
            lines.append(f"| {u} | {cr:.4f} | {label} | {r['W']:.3f} | {r['V1']:.3f} |")
            above += [f"{c} at u = {u} ({label}: {r[c]:.3f} > {cr:.3f})" for c in ("W", "V1") if r[c] > cr]
            print(lines[-1], flush=True)
    lines += ["", "A_min's admission check with overdue requests uses round t + 1 (candidates at their true "
              "memory s + 1 there). The variant that charges a candidate only s at round t (the talk's time "
              "convention; commit 6fc4ad5) measured 1.46 at u = 2, s = 1, equal counts, above CR = 1.25. "
              "Rows above the quadratic form: "
              + ("; ".join(above) if above else "none") + ". (A reconstruction reported that V1 "
              "exceeded the bound at u = 3, 4 while W stayed under it.)", ""]
    return lines


def real_trace_instance():
    try:
        from kvsched.traces import load_trace
    except ImportError:  # pragma: no cover - the trace module is another engineer's
        return None, ""
    try:
        load = load_trace("lmsys-100k", M=M, n=N, seed=0, drop_invalid=True)
    except Exception as exc:  # absent data folder
        return None, f"real LMSYS trace not available: {exc}"
    return load.instance, load.summary()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="skip the 100,000-request timings")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    out = ["# Online policies under prediction uncertainty", "",
           f"Generated by `python3 -m kvsched.experiments.bench_online` on {platform.python_version()} / "
           f"{platform.machine()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. "
           "Conventions: docs/model.md §1, §4; A_min convention W unless marked V1; one workload seed (0), "
           "one tie-break seed (0).", ""]
    base = lmsys_like(N, M=M, seed=0)
    out += ["## LMSYS-like workload: target vs achieved", "",
            f"Sample: n = {N:,}, seed 0 (`kvsched.workload.lmsys_like`).", "", closeness_table(base), "",
            "The model matches mean, median and variance of the published sample exactly; its output tail is "
            f"lighter than the sample's (the largest of these 2,000 outputs is {int(base.o.max())}, published 883).",
            ""]
    out += speed_section([N] if args.quick else [N, 100_000]) + [""]
    out += ["## Prediction experiments (Chen et al.)", "",
            f"Average latency (rounds) on the LMSYS-like workload, n = {N:,}, M = {M:,} tokens. With this M "
            "the mean request needs about 12,000 token-rounds, so memory can serve at most about 1.37 "
            "requests per round: 0.6 per round is a moderate load, 1.2 a heavy one, and 2,000 requests at "
            "round 0 an overloaded batch.", ""]
    verdict = {}
    for title, inst in arrival_variants(base):
        rows, ratios = prediction_table(inst, f"LMSYS-like, {title}")
        out += rows
        verdict[title] = ratios
    real, note = real_trace_instance()
    if real is not None:
        out += ["### Real LMSYS-Chat-1M lengths (WORD counts, not tokens)", "",
                f"{note}. The lengths are whitespace-separated words of whole conversations (docs/model.md §7.1), "
                "used here as if they were tokens.", ""]
        for title, inst in arrival_variants(real, REAL_RATES):
            rows, _ = prediction_table(inst, f"LMSYS words, {title}")
            out += rows
    elif note:
        out += [note, ""]
    out += ["## Does \"A_min stays close to H-SF while A_max degrades with wide intervals\" hold?", ""]
    for title, ratios in verdict.items():
        worst_min = max(r[1] for r in ratios.values())
        amax_rough, amax_x01 = ratios["rough [1,1000]"][0], ratios["overlap x=0.1"][0]
        out.append(f"- {title}: A_min(W) / H-SF between {min(r[1] for r in ratios.values()):.2f} and "
                   f"{worst_min:.2f}; A_max / H-SF {amax_x01:.2f} at x = 0.1, "
                   f"{ratios['overlap x=0.99'][0]:.2f} at x = 0.99, {amax_rough:.2f} with [1, 1000].")
    out += ["", "Verdict: A_max degrades with wide intervals in every setting, drastically with [1, 1000] "
            "(it believes every request needs s + 1000 tokens). A_min stays within a few percent of H-SF "
            "whenever requests arrive over time, also at heavy load and also on the real word-count trace, so "
            "the claim holds there. It does not hold for the overloaded batch with every request at round 0: "
            "there A_min is about 2x H-SF with [1, 1000] (1.8x on the word-count trace) and 1.15-1.4x with "
            "x = 0.95 / 0.99, because every "
            "request starts from the same small estimate, the first admissions are a random mix, and short "
            "requests are separated from long ones only by overdue refinement and cancellations. Convention "
            "V1 gives nearly the same latencies as W. The talk states neither the arrival process nor M of "
            "its experiments.", ""]
    out += lower_bound_section()
    out += amin_theory_section()
    out += [f"Total benchmark time: {time.perf_counter() - t0:.0f} s (wall)."]
    text = "\n".join(out) + "\n"
    paths.results_dir().mkdir(exist_ok=True)
    (paths.results_dir() / "bench_online.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
