"""Research bet: the Lagrangian bound of docs/model.md §5.9 with the memory constraint kept
exactly among the K longest requests ("K-DP bound"), measured on Jaillet model 1 at the
paper's size (n ~ U{40..60}).

Relax the memory rows of the time-indexed LP (§5.3) with multipliers ``lam >= 0`` but keep
the memory constraint among the set L of the K longest requests (largest ``o``; ties by
larger ``s``, then index)::

    L_K(lam) = DP_L(lam) + sum_{i not in L} min_{t in W_i} c_i(t) - M sum_tau lam_tau,
    c_i(t)   = t + o_i - a_i + sum_{k=1}^{o_i} lam_{t+k} (s_i + k),
    DP_L     = min over schedules of L alone that respect the memory limit M in every round,
               with starts in the same windows W_j, of sum_{j in L} c_j(p_j).

Every feasible schedule of the whole instance restricted to L is such a schedule, and the
brackets of the others sum to at most their latencies plus their share of the memory rows,
so ``L_K(lam) <= OPT`` for every ``lam >= 0`` (given windows that keep an optimal schedule,
§5.1), and ``L_K(lam) >= L(lam)`` at the same ``lam`` since ``DP_L >= sum_{j in L} min c_j``.
The multipliers are the LP duals :func:`kvsched.models.lagrangian.lagrangian_bound`
computes (method "lp", rows up to the best heuristic schedule's makespan), so the lift over
the Lagrangian is ``DP_L - sum_{j in L} min_t c_j(t)``.

``DP_L`` is an A* search over states ``(t, started members, f)`` with ``f[r]`` the memory the
started members hold in round ``t + r`` (``r = 1..max o`` over L); starting the set S at round
t costs ``sum_S c_j(t)``; the heuristic is the sum over unstarted members of the least
``c_j`` at a start ``>= t`` (admissible and consistent), a state with the same ``(t, started)``
and a pointwise smaller-or-equal ``f`` at smaller-or-equal cost dominates, identical members
start in index order. Stopped by its time limit, the least ``g + h`` on the frontier is still a
valid lower bound on ``DP_L`` (reported as such). Plain Python.

    python3 -m kvsched.experiments.bench_kdp --seeds 10 --K 2 4 6 8 --time-limit 60 --out results/bench_kdp.md

Per seed: the best heuristic schedule (:func:`kvsched.heuristics.warm_start`), the Lagrangian
bound at the LP duals, and ``L_K`` for each K with its time; gaps in points
``100 (best - ceil(bound)) / best``; the bet is kept only if some K lifts the bound by at
least 3 points on at least 7 of the seeds, within the time limit.
"""

from __future__ import annotations

import argparse
import datetime
import heapq
import math
import os
import platform
import statistics
import time
from dataclasses import dataclass
from importlib.metadata import version
from typing import Optional

import numpy as np

from kvsched import paths
from kvsched.generators import FAMILIES
from kvsched.heuristics import warm_start
from kvsched.instance import Instance
from kvsched.models.lagrangian import SAFETY, horizon_of, lagrangian_bound, relaxation, value
from kvsched.models.timeindexed import optimality_windows
from kvsched.validator import validate

#: lift (points of the proven gap) and number of seeds out of 10 the bet must reach
LIFT_POINTS, LIFT_SEEDS = 3.0, 7


# ------------------------------------------------------------------ costs under lam

def full_multipliers(lam_rows: np.ndarray, rows: np.ndarray, size: int) -> np.ndarray:
    """The multipliers per round ``0..size - 1`` (zero off the memory rows)."""
    lam = np.zeros(size)
    if len(rows):
        lam[np.asarray(rows, dtype=np.int64)] = np.maximum(np.asarray(lam_rows, dtype=float), 0.0)
    return lam


def start_costs(s: int, o: int, a: int, lo: int, hi: int, lam: np.ndarray) -> np.ndarray:
    """``c(t) = t + o - a + sum_{k=1}^{o} lam_{t+k} (s + k)`` for ``t = lo..hi`` (``lam`` must
    cover round ``hi + o``)."""
    ts = np.arange(lo, hi + 1)
    Lam = np.concatenate([[0.0], np.cumsum(lam)])  # Lam[x] = sum_{tau < x} lam_tau
    Q = np.concatenate([[0.0], np.cumsum(lam * np.arange(len(lam)))])
    # sum_{tau=t+1}^{t+o} lam_tau (s + tau - t)
    mem = (s - ts) * (Lam[ts + o + 1] - Lam[ts + 1]) + (Q[ts + o + 1] - Q[ts + 1])
    return ts + o - a + mem


# ------------------------------------------------------------------ DP over the K longest

@dataclass
class DPResult:
    """``value``: DP_L when ``exact``, else a lower bound on it (least ``g + h`` on the
    frontier at the stop); ``starts``: the members' starts of an optimal schedule when exact."""

    value: float
    exact: bool
    expanded: int
    stored: int
    wall_time: float
    starts: Optional[dict] = None


def _start_sets(avail: list, forced: list, f: tuple, prof: list, twin: list, M: int, mask: int, g: float,
                cost_now: dict) -> list:
    """Every subset S of ``avail`` (members that may start now) containing ``forced``, whose
    profiles fit on top of ``f`` and that respects the twin order: ``(f + profiles, mask | S,
    g + sum_S cost_now, S)`` per subset, depth first."""
    out = []
    stack = [(0, list(f), (), mask, g)]
    while stack:
        i, cur, chosen, mk, gg = stack.pop()
        if i == len(avail):
            if all(mk >> k & 1 for k in forced):
                out.append((tuple(cur), mk, gg, chosen))
            continue
        k = avail[i]
        stack.append((i + 1, cur, chosen, mk, gg))  # k waits
        if twin[k] >= 0 and not mk >> twin[k] & 1:
            continue
        p = prof[k]
        if all(cur[r] + p[r] <= M for r in range(len(p))):
            new = cur[:]
            for r in range(len(p)):
                new[r] += p[r]
            stack.append((i + 1, new, chosen + (k,), mk | (1 << k), gg + cost_now[k]))
    return out


def dp_members(instance: Instance, members: list, windows: list, lam: np.ndarray,
               time_limit: float = 60.0) -> DPResult:
    """``DP_L(lam)``: the least ``sum_{j in members} c_j(p_j)`` over schedules of ``members``
    alone that respect ``instance.M`` in every round, starts ``p_j`` in ``windows[j]``
    (A* described in the module doc). ``lam``: multipliers per round, long enough to cover
    every member's last round (zero-padded by the caller)."""
    t_start = time.perf_counter()
    deadline = t_start + time_limit
    M = instance.M
    K = len(members)
    if K == 0:
        return DPResult(0.0, True, 0, 0, 0.0, {})
    s = [instance.prompts[j] for j in members]
    o = [instance.outputs[j] for j in members]
    a = [instance.arrivals[j] for j in members]
    lo = [int(windows[j][0]) for j in members]
    hi = [int(windows[j][1]) for j in members]
    R = max(o)
    need = max(h + oo for h, oo in zip(hi, o)) + 1
    if len(lam) < need:
        lam = np.concatenate([lam, np.zeros(need - len(lam))])
    cost = [start_costs(s[k], o[k], a[k], lo[k], hi[k], lam).tolist() for k in range(K)]
    suffix = [np.minimum.accumulate(np.asarray(c)[::-1])[::-1].tolist() for c in cost]
    prof = [tuple(s[k] + r + 1 for r in range(o[k])) for k in range(K)]
    # identical members start in index order: twin[k] = the previous identical member or -1
    twin = [-1] * K
    for k in range(K):
        for q in range(k - 1, -1, -1):
            if (s[q], o[q], a[q], lo[q], hi[q]) == (s[k], o[k], a[k], lo[k], hi[k]):
                twin[k] = q
                break
    full = (1 << K) - 1
    zero = (0,) * R

    def h(t: int, mask: int) -> float:
        total = 0.0
        for k in range(K):
            if not mask >> k & 1:
                if t > hi[k]:
                    return math.inf
                total += suffix[k][max(t, lo[k]) - lo[k]]
        return total

    t0 = min(lo)
    store: dict = {}  # (t, mask) -> list of (g, f) not dominated when stored
    parent: dict = {}
    heap = [(h(t0, 0), 0, 0.0, t0, 0, zero)]
    store[(t0, 0)] = [(0.0, zero)]
    parent[(t0, 0, zero)] = None
    stored, counter, expanded = 1, 0, 0
    while heap:
        if time.perf_counter() > deadline:
            return DPResult(heap[0][0], False, expanded, stored, time.perf_counter() - t_start)
        key, _, g, t, mask, f = heapq.heappop(heap)
        entries = store.get((t, mask), ())
        if not any(eg <= g and ef == f for eg, ef in entries):
            continue  # removed: a dominating state was stored after it
        if mask == full:
            starts = {}
            node = (t, mask, f)
            while parent[node] is not None:
                prev, started = parent[node]
                for k in started:
                    starts[members[k]] = prev[0]
                node = prev
            return DPResult(g, True, expanded, stored, time.perf_counter() - t_start, starts)
        expanded += 1
        avail = [k for k in range(K) if not mask >> k & 1 and lo[k] <= t <= hi[k]]
        forced = [k for k in avail if hi[k] == t]
        children = _start_sets(avail, forced, f, prof, twin, M, mask, g, {k: cost[k][t - lo[k]] for k in avail})
        for cur, mk, gg, chosen in children:
            nf = cur[1:] + (0,)
            hh = h(t + 1, mk)
            if hh == math.inf:
                continue
            skey = (t + 1, mk)
            lst = store.get(skey)
            if lst is None:
                lst = store[skey] = []
            if any(eg <= gg and all(x <= y for x, y in zip(ef, nf)) for eg, ef in lst):
                continue
            lst[:] = [(eg, ef) for eg, ef in lst if not (gg <= eg and all(y <= x for x, y in zip(ef, nf)))]
            lst.append((gg, nf))
            parent[(t + 1, mk, nf)] = ((t, mask, f), chosen)
            counter += 1
            stored += 1
            heapq.heappush(heap, (gg + hh, counter, gg, t + 1, mk, nf))
    return DPResult(math.inf, True, expanded, stored, time.perf_counter() - t_start)


def longest(instance: Instance, K: int) -> list:
    """The K longest requests: largest ``o``, ties by larger ``s``, then smaller index."""
    order = sorted(range(instance.n), key=lambda i: (-instance.outputs[i], -instance.prompts[i], i))
    return sorted(order[:K])


@dataclass
class KDPBound:
    """``bound = lagrangian + lift``: a proven lower bound on the optimum (valid also when the
    DP stopped early, ``exact`` False)."""

    bound: float
    lagrangian: float
    lift: float
    members: list
    dp: DPResult


def kdp_bound(instance: Instance, K: int, lam_rows: np.ndarray, rows: np.ndarray, windows: list,
              time_limit: float = 60.0, H: Optional[int] = None) -> KDPBound:
    """``L_K(lam)`` of docs/model.md §5.9 with the memory constraint kept among the K longest
    requests: the Lagrangian ``L(lam)`` (:func:`kvsched.models.lagrangian.value`, rows
    ``rows``, multipliers ``lam_rows``) plus ``DP_L(lam) - sum_{j in L} min_t c_j(t)``.
    ``H``: the last multiplier row the relaxation was built with (default: the full horizon)."""
    rel = relaxation(instance, windows, H)
    lag, _ = value(rel, lam_rows)
    members = longest(instance, K)
    size = max(int(w[1]) + o for w, o in zip(windows, instance.outputs)) + 2
    lam = full_multipliers(lam_rows, rows, max(size, int(np.max(rows)) + 1 if len(rows) else size))
    own = 0.0
    for j in members:
        lo, hi = int(windows[j][0]), int(windows[j][1])
        own += float(start_costs(instance.prompts[j], instance.outputs[j], instance.arrivals[j], lo, hi, lam).min())
    dp = dp_members(instance, members, windows, lam, time_limit)
    lift = max(0.0, dp.value - own)
    lift -= SAFETY * (abs(dp.value) + abs(own)) + SAFETY  # float round-off margin
    lift = max(0.0, lift)
    return KDPBound(lag + lift, lag, lift, members, dp)


# ------------------------------------------------------------------ the benchmark

def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def gap_points(best: int, bound: float) -> float:
    """``100 (best - ceil(bound)) / best``."""
    return 100.0 * (best - math.ceil(bound - 1e-9)) / best


def one_seed(inst: Instance, Ks: list, time_limit: float) -> dict:
    """Best schedule, Lagrangian at the LP duals and ``L_K`` per K for one instance; the LP
    and every DP share ``time_limit`` (each DP gets what is left, split over the Ks left)."""
    t0 = time.perf_counter()
    sched, _, name = warm_start(inst)
    report = validate(inst, sched)  # the reported best is the validator's objective, not the heuristic's
    if not report.feasible:
        raise RuntimeError(f"warm start {name} is infeasible: {report.message}")
    best = report.objective
    windows = optimality_windows(inst, best)
    H = horizon_of(sched)
    lb = lagrangian_bound(inst, windows, H, method="lp", time_limit=time_limit)
    lag_time = time.perf_counter() - t0
    row = {"n": inst.n, "M": inst.M, "best": best, "best_by": name, "lag": lb.bound, "lag_time": lag_time,
           "lag_gap": gap_points(best, lb.bound), "K": {}}
    for i, K in enumerate(Ks):
        left = time_limit - (time.perf_counter() - t0)
        share = max(0.0, left) / (len(Ks) - i)
        t1 = time.perf_counter()
        kb = kdp_bound(inst, K, lb.multipliers, lb.rows, windows, share, lb.H)
        row["K"][K] = {"bound": kb.bound, "lift_value": kb.lift, "exact": kb.dp.exact, "time": time.perf_counter() - t1,
                       "expanded": kb.dp.expanded, "gap": gap_points(best, kb.bound),
                       "points": gap_points(best, lb.bound) - gap_points(best, kb.bound), "budget": share}
    row["time"] = time.perf_counter() - t0
    return row


def best_lift(row: dict) -> float:
    """The seed's lift in points of the best ``L_K`` over the Ks run (each is a valid bound)."""
    return max(k["points"] for k in row["K"].values())


def verdict(rows: list, Ks: list, time_limit: float) -> tuple:
    """``(kept, per-K count of seeds lifted by >= LIFT_POINTS, text)``: kept when the best
    ``L_K`` per seed lifts the bound by ``>= LIFT_POINTS`` on ``>= LIFT_SEEDS`` of 10 seeds
    (scaled to the number of seeds run)."""
    need = math.ceil(LIFT_SEEDS * len(rows) / 10)
    counts = {K: sum(r["K"][K]["points"] >= LIFT_POINTS for r in rows) for K in Ks}
    lifted = sum(best_lift(r) >= LIFT_POINTS for r in rows)
    kept = lifted >= need
    within = "within 10 minutes per seed" if time_limit >= 600 else f"within {time_limit:g} s per seed (not 10 minutes)"
    text = (f"**{'kept' if kept else 'not kept'}** {within}: the bar is a lift of >= {LIFT_POINTS:g} points on >= {need} "
            f"of {len(rows)} seeds; the best L_K per seed reaches it on {lifted} seeds (median best lift "
            f"{statistics.median(best_lift(r) for r in rows):.2f} points, largest {max(best_lift(r) for r in rows):.2f}).")
    return kept, counts, text


def render(rows: list, Ks: list, header: list, time_limit: float) -> str:
    out = list(header)
    out += ["", "## Per seed", "",
            "gap = 100 (best - ceil(bound)) / best, in points; lift = Lagrangian gap - L_K gap (points); "
            "s = seconds of the DP (a `*` marks a DP stopped by its time share: its bound is the least g + h on the "
            "frontier, still valid)", "",
            "| seed | n | M | best | Lagrangian | gap | LP+lag s | "
            + " | ".join(f"L_{K} | gap | lift | s" for K in Ks) + " | best lift |",
            "|" + "---|" * (8 + 4 * len(Ks))]
    for seed, r in rows:
        cells = []
        for K in Ks:
            k = r["K"][K]
            cells += [f"{k['bound']:.1f}", f"{k['gap']:.2f}", f"{k['points']:.2f}",
                      f"{k['time']:.2f}{'' if k['exact'] else '*'}"]
        out.append(f"| {seed} | {r['n']} | {r['M']} | {r['best']} | {r['lag']:.1f} | {r['lag_gap']:.2f} | "
                   f"{r['lag_time']:.2f} | " + " | ".join(cells) + f" | {best_lift(r):.2f} |")
    out += ["", "## Per K", "",
            f"| K | median lift (points) | min | max | seeds with lift >= {LIFT_POINTS:g} | DP exact | median DP s |",
            "|---|---|---|---|---|---|---|"]
    for K in Ks:
        pts = [r["K"][K]["points"] for _, r in rows]
        out.append(f"| {K} | {statistics.median(pts):.2f} | {min(pts):.2f} | {max(pts):.2f} | "
                   f"{sum(p >= LIFT_POINTS for p in pts)}/{len(rows)} | {sum(r['K'][K]['exact'] for _, r in rows)}/{len(rows)} | "
                   f"{statistics.median(r['K'][K]['time'] for _, r in rows):.2f} |")
    _, _, text = verdict([r for _, r in rows], Ks, time_limit)
    out += ["", "## Verdict", "", text]
    return "\n".join(out) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--K", type=int, nargs="*", default=[2, 4, 6, 8])
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds per seed (LP duals and every K)")
    ap.add_argument("--n", type=int, default=None, help="instance size (default: the paper's n ~ U{40..60})")
    ap.add_argument("--out", default=str(paths.results_dir() / "bench_kdp.md"))
    args = ap.parse_args(argv)
    Ks = sorted(set(args.K))
    warm = FAMILIES["jaillet"](n=6, seed=0, model=1)  # numba kernels of lagrangian.py, outside the timings
    one_seed(warm, [2], 5.0)
    load0, start, commit = _load(), datetime.datetime.now(datetime.timezone.utc), paths.git_commit(short=True)
    vers = ", ".join(f"{p} {version(p)}" for p in ("numpy", "scipy", "numba", "highspy"))
    cmd = (f"python3 -m kvsched.experiments.bench_kdp --seeds {args.seeds} --K " + " ".join(map(str, Ks))
           + f" --time-limit {args.time_limit:g}" + (f" --n {args.n}" if args.n else "") + f" --out {args.out}")
    rows = []
    for seed in range(args.seeds):
        inst = FAMILIES["jaillet"](seed=seed, model=1, n=args.n)
        r = one_seed(inst, Ks, args.time_limit)
        rows.append((seed, r))
        print(seed, r["n"], r["best"], round(r["lag_gap"], 2),
              {K: (round(k["points"], 2), round(k["time"], 1), k["exact"]) for K, k in r["K"].items()}, flush=True)
    load1 = _load()
    header = ["# Research bet: exact DP over the K longest requests on top of the Lagrangian bound", "",
              f"Command: `{cmd}`", "",
              f"Seeds 0..{args.seeds - 1} of `FAMILIES['jaillet'](seed=seed, model=1)`"
              + (f" with n = {args.n}" if args.n else " (n ~ U{40..60})") + f"; commit {commit}; {vers}; "
              f"Python {platform.python_version()}; {os.cpu_count()} cores shared with other jobs; "
              f"started {start.isoformat(timespec='seconds')}, finished "
              f"{datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}; "
              f"load average (1, 5, 15 min) at start {load0}, at end {load1}.", "",
              f"Time limit {args.time_limit:g} s per seed, one process, single-threaded: it covers the heuristics, the LP "
              "duals (highspy, `lagrangian_bound(method='lp')`, rows up to the best schedule's makespan) and the DPs, "
              "each K getting an equal share of what is left. best = `warm_start` (best heuristic). Lagrangian = L(lam) "
              "at the LP duals (docs/model.md §5.9); L_K = L(lam) + DP_L(lam) - sum_{j in L} min_t c_j(t), same lam, "
              "L = the K longest requests (module doc of `experiments/bench_kdp.py`)."]
    text = render(rows, Ks, header, args.time_limit)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as fh:
        fh.write(text)
    print(text)


if __name__ == "__main__":
    main()
