"""Memory multipliers for the search's Lagrangian bound (``docs/model.md``, "Exact search").

The class-aggregated time-indexed LP over rounds ``1..T``: ``x[c, p]`` requests of class c
start at round p (``a_c <= p <= T - o_c``), ``sum_p x[c, p] = n_c``, and in every round r the
memory ``sum (s_c + r - p) x[c, p]`` over the runs covering r is at most M; objective
``sum (p + o_c - a_c) x[c, p]``. It is solved once at the root with HiGHS (imported here,
lazily). Its memory-row duals ``lam_r >= 0`` are used only as Lagrange multipliers: every
``lam >= 0`` gives a valid bound, so the horizon T needs no optimality argument.
"""

from __future__ import annotations

import numpy as np


def root_duals(cs, co, ca, n_cls, M, T: int, time_limit: float = 30.0, iteration_limit=None):
    """``M``: the capacity, one number or one per round ``1..len(M)`` (M[-1] afterwards).
    Returns ``(lam, lp_value, waiting)``: ``lam[r]`` the multiplier of round r (index 0 unused,
    length T + 1) and ``waiting[tau]`` the LP's (fractional) number of requests starting at
    round tau or later; ``(None, None, None)`` if HiGHS does not reach an optimal LP within
    ``time_limit`` seconds (or ``iteration_limit`` simplex iterations)."""
    import highspy

    from kvsched.models.highs import quiet_highs

    C = len(cs)
    cols_c, cols_p = [], []
    for c in range(C):
        if n_cls[c] == 0:
            continue
        for p in range(int(ca[c]), T - int(co[c]) + 1):
            cols_c.append(c)
            cols_p.append(p)
    nc = len(cols_c)
    if nc == 0:
        return None, None, None
    cols_c = np.array(cols_c)
    cols_p = np.array(cols_p)
    o = np.asarray(co)[cols_c]
    cost = (cols_p + o - np.asarray(ca)[cols_c]).astype(float)
    # column j: class row c (0..C-1), memory rows C + r - 1 for r = p+1..p+o
    starts = np.zeros(nc + 1, dtype=np.int32)
    starts[1:] = np.cumsum(1 + o)
    index = np.empty(starts[-1], dtype=np.int32)
    value = np.empty(starts[-1], dtype=float)
    s = np.asarray(cs)[cols_c]
    for j in range(nc):
        b = starts[j]
        index[b] = cols_c[j]
        value[b] = 1.0
        k = np.arange(1, o[j] + 1)
        index[b + 1:b + 1 + o[j]] = C + cols_p[j] + k - 1
        value[b + 1:b + 1 + o[j]] = s[j] + k
    lp = highspy.HighsLp()
    lp.num_col_ = nc
    lp.num_row_ = C + T
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(nc)
    lp.col_upper_ = np.full(nc, highspy.kHighsInf)
    lp.row_lower_ = np.concatenate([np.asarray(n_cls, float), np.full(T, -highspy.kHighsInf)])
    cap = np.full(T, float(np.max(M)))
    if np.ndim(M):
        cap[:min(T, len(M))] = np.asarray(M, float)[:T]
    lp.row_upper_ = np.concatenate([np.asarray(n_cls, float), cap])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = starts
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = value
    h = quiet_highs(threads=1, time_limit=time_limit)
    if iteration_limit is not None:  # deterministic mode: a work limit
        h.setOptionValue("simplex_iteration_limit", max(0, int(iteration_limit)))
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None, None, None
    sol = h.getSolution()
    dual = np.asarray(sol.row_dual)[C:]
    lam = np.zeros(T + 1)
    lam[1:] = np.maximum(0.0, -dual)
    starting = np.bincount(cols_p, weights=np.asarray(sol.col_value), minlength=T + 1)
    waiting = np.cumsum(starting[::-1])[::-1]
    return lam, float(h.getInfo().objective_function_value), waiting
