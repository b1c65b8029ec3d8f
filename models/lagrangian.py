"""The Lagrangian (dual) bound of the time-indexed LP (:mod:`models.timeindexed`), computed
without building the Pyomo model.

Relax the memory rows with multipliers ``lam_tau >= 0``. For fixed multipliers every
request picks its cheapest start independently::

    L(lam) = sum_i min_{t in W_i} [t + o_i - a_i + sum_{tau=t+1}^{t+o_i} lam_tau (s_i + tau - t)]
             - M sum_tau lam_tau

For any feasible schedule the brackets sum to at most its TEL (every memory row holds), so
``L(lam) <= OPT`` for every ``lam >= 0``: whatever multipliers are used, the value computed
here is a proven lower bound (given start windows ``W_i`` that keep an optimal schedule, as
:func:`models.timeindexed.optimality_windows` does). The largest ``L`` over ``lam`` is the
value of the LP relaxation with the same rows (the remaining rows, one start per request,
have integral vertices), which ``models.lp`` computes through Pyomo.

With prefix sums ``Lam_k = sum_{tau<=k} lam_tau`` and ``Q_k = sum_{tau<=k} tau lam_tau`` the
bracket is ``t + o - a + (s - t)(Lam_{t+o} - Lam_t) + Q_{t+o} - Q_t``: O(1) per start and
O(n T) per evaluation. Multipliers are nonzero only on memory rows up to a horizon ``H``
(by default the makespan of the upper-bound schedule); for ``t >= H`` the bracket is then
``t + o - a``, increasing in t, so starts after ``max(a_i, H)`` are never cheaper and are
not scanned. Requests with equal ``(s, o, a, window)`` are one class (weight = size).

Multiplier sources (``method``):

- ``"lp"``: the memory-row duals of the LP restricted to starts that finish by ``H``
  (built directly as sparse arrays and solved by highspy's dual simplex);
- ``"smooth"``: L-BFGS-B on the entropy-smoothed dual (each min replaced by a soft-min at
  inverse temperature beta, raised in steps), which needs only O(n T) per gradient;
- ``"auto"``: ``"lp"`` while the LP has at most ``lp_max_nonzeros`` nonzeros, else ``"smooth"``
  (an LP that ends without optimal duals hands the time left to ``"smooth"``).

The reported bound is always the exact ``L`` at the best multipliers found, less a
floating-point safety margin (:data:`SAFETY`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from numba import njit

from kvsched.bounds import lower_bound
from kvsched.instance import Instance
from kvsched.result import Result, safety_wall_time
from kvsched.schedule import Schedule

from .highs import ITERATIONS_PER_SECOND

#: relative margin subtracted from every computed Lagrangian value (float64 round-off)
SAFETY = 1e-9
#: largest LP (nonzeros) that method "auto" hands to highspy
LP_MAX_NONZEROS = 3_000_000
#: inverse temperatures of the smoothed dual, in units of n_classes / L(0) (see smooth_multipliers)
BETAS = (30.0, 300.0, 3000.0, 30000.0)
#: deterministic mode: smoothed-dual evaluations per nominal second
EVALUATIONS_PER_SECOND = 200


@dataclass
class Relaxation:
    """The per-class data of the relaxed time-indexed model.

    ``lo`` / ``hi``: start windows; ``H``: last round with a multiplier; ``rows``: the
    rounds ``1..H`` that carry a memory row (completion rounds, as in the LP).
    """

    M: int
    s: np.ndarray
    o: np.ndarray
    a: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    count: np.ndarray
    members: list
    H: int
    rows: np.ndarray  # rounds (1-based) with a memory row, ascending, all <= H
    horizon: int  # last round any start in the windows can hold memory

    @property
    def scan_hi(self) -> np.ndarray:
        """Last start scanned per class: ``min(hi, max(lo, H))``."""
        return np.minimum(self.hi, np.maximum(self.lo, self.H))


def relaxation(instance: Instance, windows: list, H: Optional[int] = None) -> Relaxation:
    """Classes of ``instance`` under ``windows``; ``H`` defaults to the full horizon
    (then the maximum of ``L`` is exactly the LP value of :mod:`models.lp` without core rows)."""
    groups: dict = {}
    for i in range(instance.n):
        key = (instance.prompts[i], instance.outputs[i], instance.arrivals[i], int(windows[i][0]), int(windows[i][1]))
        groups.setdefault(key, []).append(i)
    keys = list(groups)
    col = lambda j: np.array([k[j] for k in keys], dtype=np.int64)  # noqa: E731
    s, o, a, lo, hi = (col(j) for j in range(5))
    if (hi < lo).any():
        raise ValueError("empty start window")
    horizon = int((hi + o).max())
    H = horizon if H is None else int(min(max(H, 1), horizon))
    # completion rounds t + o for t in [lo, hi]: the union of intervals [lo + o, hi + o]
    mark = np.zeros(horizon + 2, dtype=np.int64)
    np.add.at(mark, lo + o, 1)
    np.add.at(mark, hi + o + 1, -1)
    is_row = np.cumsum(mark)[: H + 1] > 0
    return Relaxation(instance.M, s, o, a, lo, hi, np.array([len(groups[k]) for k in keys], dtype=np.int64),
                      [groups[k] for k in keys], H, np.nonzero(is_row)[0].astype(np.int64), horizon)


def _prefix(rel: Relaxation, lam_rows: np.ndarray) -> tuple:
    """Prefix sums ``Lam``, ``Q`` over rounds ``0..H + max o`` of the multipliers."""
    size = rel.H + int(rel.o.max()) + 2
    lam = np.zeros(size)
    lam[rel.rows] = lam_rows
    return np.cumsum(lam), np.cumsum(lam * np.arange(size))


@njit(cache=True)
def _cheapest(s, o, a, lo, hi, Lam, Q):  # pragma: no cover - compiled
    best = np.empty(len(s))
    start = np.empty(len(s), dtype=np.int64)
    for c in range(len(s)):
        b, bt = np.inf, lo[c]
        for t in range(lo[c], hi[c] + 1):
            e = t + o[c]
            v = t + o[c] - a[c] + (s[c] - t) * (Lam[e] - Lam[t]) + (Q[e] - Q[t])
            if v < b:
                b, bt = v, t
        best[c], start[c] = b, bt
    return best, start


@njit(cache=True)
def _soft(s, o, a, lo, hi, count, Lam, Q, beta, size):  # pragma: no cover - compiled
    total = 0.0
    d2 = np.zeros(size + 2)
    buf = np.empty(int((hi - lo).max()) + 1)
    for c in range(len(s)):
        width = hi[c] - lo[c] + 1
        low = np.inf
        for k in range(width):
            t = lo[c] + k
            e = t + o[c]
            v = t + o[c] - a[c] + (s[c] - t) * (Lam[e] - Lam[t]) + (Q[e] - Q[t])
            buf[k] = v
            if v < low:
                low = v
        z = 0.0
        for k in range(width):
            buf[k] = np.exp(-beta * (buf[k] - low))
            z += buf[k]
        total += count[c] * (low - np.log(z) / beta)
        for k in range(width):
            p = count[c] * buf[k] / z
            t = lo[c] + k
            d2[min(t + 1, size + 1)] += p * (s[c] + 1)
            d2[min(t + 2, size + 1)] -= p * s[c]
            d2[min(t + o[c] + 1, size + 1)] -= p * (s[c] + o[c] + 1)
            d2[min(t + o[c] + 2, size + 1)] += p * (s[c] + o[c])
    return total, d2[:size]


def value(rel: Relaxation, lam_rows: np.ndarray) -> tuple:
    """``(L, starts)``: the exact Lagrangian value (less the safety margin) at ``lam_rows``
    (clipped at 0) and each class's cheapest start."""
    lam_rows = np.maximum(np.asarray(lam_rows, dtype=float), 0.0)
    Lam, Q = _prefix(rel, lam_rows)
    best, starts = _cheapest(rel.s, rel.o, rel.a, rel.lo, rel.scan_hi, Lam, Q)
    total = float((rel.count * best).sum())
    penalty = float(rel.M * lam_rows.sum())
    margin = SAFETY * (float((rel.count * np.abs(best)).sum()) + penalty) + SAFETY
    return total - penalty - margin, starts


def smoothed(rel: Relaxation, lam_rows: np.ndarray, beta: float) -> tuple:
    """``(L_beta, gradient)`` of the soft-min dual (concave, smooth, below ``L`` up to the
    scanned starts): the gradient is the expected memory in each row round less ``M``."""
    Lam, Q = _prefix(rel, lam_rows)
    total, d2 = _soft(rel.s, rel.o, rel.a, rel.lo, rel.scan_hi, rel.count.astype(float), Lam, Q, float(beta),
                      rel.H + 1)
    usage = np.cumsum(np.cumsum(d2))[rel.rows]
    return total - rel.M * float(np.sum(lam_rows)), usage - rel.M


# ------------------------------------------------------------------ multiplier sources

def lp_columns(rel: Relaxation) -> tuple:
    """Sparse columns of the LP restricted to starts finishing by ``H``:
    ``(class, start, row index, coefficient)`` arrays per nonzero and the column list."""
    row_of = np.full(rel.H + 1, -1, dtype=np.int64)
    row_of[rel.rows] = np.arange(len(rel.rows))
    cols_c, cols_t = [], []
    for c in range(len(rel.s)):
        last = min(int(rel.hi[c]), rel.H - int(rel.o[c]))
        ts = np.arange(int(rel.lo[c]), last + 1)
        cols_c.append(np.full(len(ts), c))
        cols_t.append(ts)
    return np.concatenate(cols_c), np.concatenate(cols_t), row_of


def lp_nonzeros(rel: Relaxation) -> int:
    """Nonzeros of the restricted LP (memory rows + assignment rows)."""
    width = np.maximum(0, np.minimum(rel.hi, rel.H - rel.o) - rel.lo + 1)
    return int((width * (rel.o + 1)).sum())


def lp_multipliers(rel: Relaxation, time_limit: float = 60.0, threads: int = 1,
                   iteration_limit: Optional[int] = None) -> tuple:
    """``(lam_rows, LP value or None, status)`` from highspy's dual simplex on the restricted LP
    (stopped after ``iteration_limit`` simplex iterations if given)."""
    import highspy

    from .highs import quiet_highs

    cc, ct, row_of = lp_columns(rel)
    ncol, nrow_mem, ncls = len(cc), len(rel.rows), len(rel.s)
    o = rel.o[cc]
    # nonzeros of the memory rows: column j runs in rounds ct+1..ct+o
    reps = o
    jj = np.repeat(np.arange(ncol), reps)
    age = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps) + 1
    tau = np.repeat(ct, reps) + age
    ridx = row_of[tau]
    keep = ridx >= 0
    coef = (rel.s[cc][jj] + age)[keep].astype(float)
    rows_all = np.concatenate([ridx[keep], nrow_mem + cc])
    cols_all = np.concatenate([jj[keep], np.arange(ncol)])
    vals_all = np.concatenate([coef, np.ones(ncol)])
    order = np.lexsort((rows_all, cols_all))
    rows_all, cols_all, vals_all = rows_all[order], cols_all[order], vals_all[order]
    start = np.searchsorted(cols_all, np.arange(ncol + 1)).astype(np.int32)

    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = ncol, nrow_mem + ncls
    lp.col_cost_ = (ct + rel.o[cc] - rel.a[cc]).astype(float)
    lp.col_lower_ = np.zeros(ncol)
    lp.col_upper_ = rel.count[cc].astype(float)
    lp.row_lower_ = np.concatenate([np.full(nrow_mem, -highspy.kHighsInf), rel.count.astype(float)])
    lp.row_upper_ = np.concatenate([np.full(nrow_mem, float(rel.M)), rel.count.astype(float)])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = start
    lp.a_matrix_.index_ = rows_all.astype(np.int32)
    lp.a_matrix_.value_ = vals_all
    h = quiet_highs(threads=threads, time_limit=max(time_limit, 0.01))
    h.setOptionValue("solver", "simplex")
    if iteration_limit is not None:
        h.setOptionValue("simplex_iteration_limit", max(0, int(iteration_limit)))
    h.passModel(lp)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    sol = h.getSolution()
    lam = np.maximum(-np.asarray(sol.row_dual[:nrow_mem]), 0.0) if sol.dual_valid else np.zeros(nrow_mem)
    optimal = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return lam, (h.getInfo().objective_function_value if optimal else None), status


class _OutOfTime(Exception):
    pass


def smooth_multipliers(rel: Relaxation, time_limit: float = 60.0, lam0: Optional[np.ndarray] = None,
                       betas=BETAS, maxiter: int = 200, max_evals: Optional[int] = None) -> tuple:
    """``(lam_rows, evaluations)``: L-BFGS-B on the smoothed dual for each inverse
    temperature ``beta * n_classes / L0`` in turn (warm-started; ``L0`` the value at
    ``lam = 0``, so the smoothing error ``<= n log W / beta`` is a fixed fraction of the
    bound), within ``time_limit`` and ``max_evals`` evaluations. The multipliers returned are the ones of largest exact
    ``L`` among the end points of the stages. Variables are scaled by ``M``."""
    from functools import partial

    from scipy.optimize import minimize

    deadline = time.perf_counter() + time_limit
    z = np.zeros(len(rel.rows)) if lam0 is None else np.asarray(lam0, dtype=float) * rel.M
    scale = len(rel.s) / max(value(rel, np.zeros(len(rel.rows)))[0], 1.0)
    state = {"z": z, "evals": 0}

    def fun(zz, beta):
        if time.perf_counter() > deadline or (max_evals is not None and state["evals"] >= max_evals):
            raise _OutOfTime
        state["z"], state["evals"] = zz, state["evals"] + 1
        val, grad = smoothed(rel, zz / rel.M, beta)
        return -val, -grad / rel.M

    best_z, best_val = z, value(rel, z / rel.M)[0]
    for beta in betas:
        try:
            z = minimize(partial(fun, beta=beta * scale), z, jac=True, method="L-BFGS-B",
                         bounds=[(0, None)] * len(z), options={"maxiter": maxiter}).x
        except _OutOfTime:
            z = state["z"]
        val = value(rel, z / rel.M)[0]
        if val > best_val:
            best_z, best_val = z, val
        if time.perf_counter() > deadline or (max_evals is not None and state["evals"] >= max_evals):
            break
    return best_z / rel.M, state["evals"]


# ------------------------------------------------------------------ the bound

@dataclass
class LagrangianBound:
    """A proven lower bound ``bound = L(multipliers)`` and how it was obtained."""

    bound: float
    multipliers: np.ndarray  # per memory row in ``rows``
    rows: np.ndarray
    H: int
    method: str
    lp_value: Optional[float] = None  # the restricted LP's value when method "lp" solved it
    wall_time: float = 0.0
    info: dict = field(default_factory=dict)


def horizon_of(schedule: Schedule) -> int:
    """Makespan of a schedule (last completion round)."""
    return max(rs[-1][1] for rs in schedule.runs)


def lagrangian_bound(instance: Instance, windows: list, H: Optional[int] = None, method: str = "auto",
                     time_limit: float = 60.0, threads: int = 1,
                     lp_max_nonzeros: int = LP_MAX_NONZEROS, deterministic: bool = False) -> LagrangianBound:
    """The Lagrangian bound for ``windows`` with multipliers on rows ``<= H`` (default: the
    full horizon). ``method``: "lp", "smooth" or "auto" (see the module doc).
    ``deterministic``: ``time_limit`` is a work budget: ``ITERATIONS_PER_SECOND * time_limit``
    simplex iterations (:mod:`kvsched.models.highs`) and :data:`EVALUATIONS_PER_SECOND` dual
    evaluations per second of it; wall time is then only a safety stop."""
    t0 = time.perf_counter()
    iterations = evals_cap = None
    if deterministic:
        iterations = max(1, int(ITERATIONS_PER_SECOND * time_limit))
        evals_cap = max(1, int(EVALUATIONS_PER_SECOND * time_limit))
        time_limit = safety_wall_time(time_limit)
    rel = relaxation(instance, windows, H)
    if method == "auto":
        method = "lp" if lp_nonzeros(rel) <= lp_max_nonzeros else "smooth"
    info = {"classes": len(rel.s), "rows": len(rel.rows), "H": rel.H, "horizon_full": rel.horizon}
    lp_val = None
    if method == "lp":
        lam, lp_val, status = lp_multipliers(rel, time_limit, threads, iteration_limit=iterations)
        info.update(lp_status=status, lp_nonzeros=lp_nonzeros(rel))
        left = time_limit - (time.perf_counter() - t0)
        if lp_val is None and left > 0:  # no optimal duals: the smoothed dual with the time left
            lam_s, evals = smooth_multipliers(rel, left, max_evals=evals_cap)
            info.update(evaluations=evals)
            if value(rel, lam_s)[0] > value(rel, lam)[0]:
                lam, method = lam_s, "lp+smooth"
    elif method == "smooth":
        lam, evals = smooth_multipliers(rel, time_limit, max_evals=evals_cap)
        info.update(evaluations=evals)
    else:
        raise ValueError(f"unknown method {method!r}; known: auto, lp, smooth")
    bound, _ = value(rel, lam)
    zero, _ = value(rel, np.zeros(len(rel.rows)))  # lam = 0 gives sum of (a_i + o_i - a_i) at earliest starts
    if zero > bound:
        bound, lam = zero, np.zeros(len(rel.rows))
    return LagrangianBound(bound, lam, rel.rows, rel.H, method, lp_val, time.perf_counter() - t0, info)


def solve_lagrangian(instance: Instance, time_limit: float = 60.0, threads: int = 1, seed: int = 0,
                     ub_schedule: Optional[Schedule] = None, window_cut: bool = True, method: str = "auto",
                     horizon: str = "makespan", deterministic: bool = False) -> Result:
    """The Lagrangian bound as a :class:`Result`: the incumbent is the upper-bound schedule
    (validated), the bound ``max(Lagrangian, closed form)``. ``horizon``: "makespan" (rows up
    to the UB schedule's makespan) or "full" (every row: the maximum is the LP value).
    ``deterministic``: see :func:`lagrangian_bound`."""
    from .milp import upper_bound
    from .timeindexed import optimality_windows
    from .windows import start_windows

    t0 = time.perf_counter()
    ub_sched, ub, ub_source = upper_bound(instance, ub_schedule)
    closed = float(lower_bound(instance))
    windows = optimality_windows(instance, ub) if window_cut else start_windows(instance, ub, cut=False)
    H = horizon_of(ub_sched) if horizon == "makespan" else None
    remaining = time_limit if deterministic else max(0.1, time_limit - (time.perf_counter() - t0))
    lb = lagrangian_bound(instance, windows, H, method, remaining, threads, deterministic=deterministic)
    params = {"time_limit": time_limit, "deterministic": deterministic, "window_cut": window_cut, "method": lb.method,
              "horizon": horizon,
              "H": lb.H, "ub": ub, "ub_source": ub_source, **lb.info}
    return Result(solver="lagrangian", bound=max(closed, lb.bound), schedule=ub_sched, threads=threads, seed=seed,
                  deterministic=deterministic,
                  params=params, solver_version=_version(), wall_time=time.perf_counter() - t0,
                  message=(f"Lagrangian {lb.bound:.3f} ({lb.method}, rows <= {lb.H}); restricted LP {lb.lp_value}; "
                           f"closed-form bound {closed:g}; UB {ub} from {ub_source}"))


def _version() -> str:
    from importlib.metadata import version

    return f"numpy {np.__version__} / scipy {version('scipy')} / highspy {version('highspy')}"
