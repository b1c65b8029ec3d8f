"""Compiled kernels of the state-space search (``docs/model.md``, "Exact search").

State ``i``: ``R[i]`` remaining (unstarted) requests per class, ``F[i, r-1]`` the memory the
started requests hold in round ``t + r`` (``r = 1..H``, ``H = max o``), ``g[i]`` the cost so
far ``sum_started (C_j - a_j) + sum_waiting (t - a_j)``, ``tt[i]`` the round it was reached at
and ``teff[i]`` that round while some waiting request has not arrived yet (else -1: the cost
still to come does not depend on the round, so states reached at different rounds merge).
Starting the set S at round t and moving to t + 1 costs ``sum_S o_j + |U \\ S|``.

The dominance store is an open-addressing table keyed by ``(U, teff)``; each entry owns a
block of records ``(sum F, g, state, F)`` in one arena (``a_*``), contiguous so that a scan reads
memory in order: a prefix sorted by ``sum F`` and a short unsorted tail. A record with the same
key, ``F`` pointwise <= and ``g`` <= dominates, and only records with ``sum F`` <= the new one's can
dominate it (``dominance`` 1 scans the prefix up to there and the tail; 2 keeps blocks sorted,
scans on and removes the records the new state dominates). A full block
moves to the arena's top with twice the room; the arena is compacted when it grows.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# step() return codes
BUDGET, DONE, GROW_POOL, GROW_HEAP, GROW_TABLE, WANT_LP, GROW_ARENA = 0, 1, 2, 3, 4, 5, 6
# counters (ctr[...]); C_ATOP: the arena's first unused record, C_MAXCAP: the largest block
# C_QUICK: children pruned by the parent's quick Lagrangian bound (of C_PRUNE)
C_NS, C_HEAP, C_UB, C_GOAL, C_EXP, C_GEN, C_DOM, C_KILL, C_TAB, C_PRUNE, C_SCAN, C_LPREQ, C_ATOP, C_MAXCAP, C_QUICK = range(15)
N_CTR = 15
TIE = 128  # heap key = (g + h) * TIE + (TIE - 1 - started requests): deeper first on ties


@njit(cache=True, inline="always")
def _push(hkey, hidx, size, key, idx):
    j = size
    hkey[j] = key
    hidx[j] = idx
    while j > 0:
        p = (j - 1) >> 1
        if hkey[p] <= hkey[j]:
            break
        hkey[p], hkey[j] = hkey[j], hkey[p]
        hidx[p], hidx[j] = hidx[j], hidx[p]
        j = p
    return size + 1


@njit(cache=True, inline="always")
def _sift_down(hkey, hidx, size, j):
    """Move entry j down to its place in the heap of ``size`` entries."""
    while True:
        a = 2 * j + 1
        if a >= size:
            break
        b = a + 1
        if b < size and hkey[b] < hkey[a]:
            a = b
        if hkey[j] <= hkey[a]:
            break
        hkey[a], hkey[j] = hkey[j], hkey[a]
        hidx[a], hidx[j] = hidx[j], hidx[a]
        j = a


@njit(cache=True, inline="always")
def _pop(hkey, hidx, size):
    """Remove the top; return the new size (the top was read before the call)."""
    size -= 1
    hkey[0] = hkey[size]
    hidx[0] = hidx[size]
    _sift_down(hkey, hidx, size, 0)
    return size


@njit(cache=True)
def rekey(hkey, hidx, size, g, h, R, ntot, alive):
    """Key every live state on a dive's heap by g + h, as the exact run does, and restore the
    heap order; returns the new size (the exact run continues from the last dive's store)."""
    w = 0
    for j in range(size):
        i = hidx[j]
        if alive[i] == 0:
            continue
        nU = 0
        for c in range(R.shape[1]):
            nU += R[i, c]
        hkey[w] = (g[i] + h[i]) * TIE + TIE - 1 - (ntot - nU)
        hidx[w] = i
        w += 1
    for j in range(w // 2 - 1, -1, -1):
        _sift_down(hkey, hidx, w, j)
    return w


@njit(cache=True, inline="always")
def window_max(F, i, H, win):
    """``win[o, p] = max_{p < r <= min(p + o, H)} (f[r-1] + r)`` for f = F[i]: a request (s, o)
    fits alone on top of f from relative round p on iff ``win[o, p] <= M - s + p`` (its k-th
    token is held in round p + k; beyond H, f = 0 and s + o <= M)."""
    for p in range(H):
        m = -(1 << 30)
        for o in range(1, H + 1):
            r = p + o
            if r <= H:
                v = F[i, r - 1] + r
                if v > m:
                    m = v
            win[o, p] = m


@njit(cache=True, inline="always")
def _lagrange(F, i, R, tau, H, co, ecomp, seq, m, lam, amin, lam_msuf, ls, nU):
    """``sum_U min_{q >= tau + e_c} A_c(q) - nU tau - sum_r lam[tau + r] (M - f_r)`` for state i
    with multiplier set ls, over the m classes ``seq[:m] & 255`` with waiting requests (rows are
    indexed, not sliced: a slice costs two reference counts)."""
    L = lam.shape[1]
    lag = 0.0
    for j in range(m):
        c = seq[j] & 255
        q = tau + ecomp[c]
        lag += R[i, c] * (amin[ls, c, q] if q < L else q + co[c])
    lag -= nU * tau
    lag -= lam_msuf[ls, tau + 1] if tau + 1 < L else 0.0
    for r in range(1, H + 1):
        if tau + r < L:
            lag += lam[ls, tau + r] * F[i, r - 1]
    return lag


@njit(cache=True, inline="always")
def _tighten(F, i, R, H, M, cs, co, ecomp, win, use):
    """Raise ``f_r`` to ``M - use_r``, with ``use_r`` an upper bound on the memory the waiting
    requests can hold in round r when each starts where it fits alone (a start at relative
    round p >= e_c with ``win[o_c, p] <= M - s_c + p``): every schedule feasible on f stays
    feasible, so the state is equivalent, and a round no waiting request can reach becomes full.
    An all-zero f is left as it is (the search skips idling on an empty memory). Returns True
    if some round was raised."""
    empty = True
    for r in range(H):
        if F[i, r] > 0:
            empty = False
            break
    if empty:
        return False
    for r in range(H + 1):
        use[r] = 0
    for c in range(cs.shape[0]):
        if R[i, c] == 0:
            continue
        room = M - cs[c]
        oc = co[c]
        covered = 0  # rounds 1..covered have their largest age from an earlier (smaller) start
        for p in range(ecomp[c], H):
            if win[oc, p] > room + p:
                continue
            last = p + oc if p + oc < H else H
            for r in range(covered + 1 if covered >= p else p + 1, last + 1):
                use[r] += R[i, c] * (cs[c] + r - p)
            covered = last
            if covered == H:
                break
    raised = False
    for r in range(1, H + 1):
        if F[i, r - 1] < M - use[r]:
            F[i, r - 1] = M - use[r]
            raised = True
    return raised


@njit(cache=True, inline="always")
def _earliest(F, i, R, t, H, M, cs, co, ca, ecomp, seq, win):
    """For state i: ``win`` (:func:`window_max`), ``ecomp[c]`` the earliest relative start at
    which class c fits alone on top of f (from its arrival on), and ``seq[:m]`` the m classes
    with waiting requests as ``(e_c + o_c) << 8 | c``, sorted. Returns (|U|, m)."""
    window_max(F, i, H, win)
    m = 0
    nU = 0
    for c in range(cs.shape[0]):
        if R[i, c] == 0:
            continue
        nU += R[i, c]
        p0 = ca[c] - t
        if p0 < 0:
            p0 = 0
        e = p0
        room = M - cs[c]
        while e < H and win[co[c], e] > room + e:
            e += 1
        ecomp[c] = e
        v = e + co[c]
        j = m
        while j > 0 and (seq[j - 1] >> 8) > v:
            seq[j] = seq[j - 1]
            j -= 1
        seq[j] = (v << 8) | c
        m += 1
    return nU, m


@njit(cache=True, inline="always")
def _estimate(F, i, R, t, H, M, cvol, vorder, use_lag, lam, amin, lam_msuf, tau_of, ls, ub_gap, co, ecomp, seq,
              nU, m):
    """The larger of the order-statistics and the Lagrangian bound for state i, given
    :func:`_earliest`'s ``ecomp`` and ``seq``; returns early (with a value >= ``ub_gap``) once
    the order-statistics bound reaches ``ub_gap``."""
    # order statistics: k-th smallest completion >= max(k-th smallest e + o, fluid round)
    total = 0
    ai = 0  # position in the sorted (e + o) list
    aleft = R[i, seq[0] & 255]
    vol = 0
    free = 0
    r = 0
    for q in range(vorder.shape[0]):
        c = vorder[q]
        for _ in range(R[i, c]):
            vol += cvol[c]
            while free < vol:
                r += 1
                free += M - (F[i, r - 1] if r <= H else 0)
            a = seq[ai] >> 8
            total += a if a > r else r
            aleft -= 1
            if aleft == 0 and ai + 1 < m:
                ai += 1
                aleft = R[i, seq[ai] & 255]
    if total >= ub_gap or not use_lag:
        return total
    # Lagrangian bound with the root multipliers read from round tau on; tau = t (the
    # current round) and the rounds at which the root LP has nU requests left to start
    best = -1e18
    for z in range(4):
        if z > 0 and tau_of[nU] < 0:
            break
        tau = t if z == 0 else tau_of[nU] + z - 2
        if tau < 0 or (z > 0 and tau == t):
            continue
        lag = _lagrange(F, i, R, tau, H, co, ecomp, seq, m, lam, amin, lam_msuf, 0, nU)
        if lag > best:
            best = lag
    if ls > 0:  # the multipliers of the node LP solved at an ancestor (or at this state)
        lag = _lagrange(F, i, R, t, H, co, ecomp, seq, m, lam, amin, lam_msuf, ls, nU)
        if lag > best:
            best = lag
    lagi = np.int64(np.ceil(best - 1e-6))
    return lagi if lagi > total else total


@njit(cache=True, inline="always")
def bound(F, i, R, t, H, M, cs, co, ca, cvol, vorder, use_lag, lam, amin, lam_msuf, tau_of, ls, ub_gap, ecomp, seq,
          win, tighten, use):
    """Lower bound on the cost still to come, ``sum_U (C_j - t)``, from state i (U = R[i],
    f = F[i]) at round t: the larger of the order-statistics bound and the Lagrangian bound,
    a value >= ``ub_gap`` once it reaches ``ub_gap``. With ``tighten``, a state the bound does
    not prune has its f raised to the equivalent profile of :func:`_tighten` (F[i] changes),
    and both bounds are taken again on it. ``ecomp``, ``seq``, ``win`` (H + 1 by H) and
    ``use`` (H + 1) are scratch."""
    nU, m = _earliest(F, i, R, t, H, M, cs, co, ca, ecomp, seq, win)
    if nU == 0:
        return 0
    h = _estimate(F, i, R, t, H, M, cvol, vorder, use_lag, lam, amin, lam_msuf, tau_of, ls, ub_gap, co, ecomp, seq,
                  nU, m)
    if tighten and h < ub_gap and _tighten(F, i, R, H, M, cs, co, ecomp, win, use):
        h2 = _estimate(F, i, R, t, H, M, cvol, vorder, use_lag, lam, amin, lam_msuf, tau_of, ls, ub_gap, co, ecomp,
                       seq, nU, m)
        if h2 > h:
            h = h2
    return h


@njit(cache=True, inline="always")
def _slot(tab_key, tab_teff, tab_off, key, te):
    """The table slot of key ``(key, te)``: its own, or the empty one (``tab_off == -2``) it goes to."""
    mask = tab_key.shape[0] - 1
    hsh = (key * np.int64(-7046029254386353131) + te * np.int64(0x9E3779B1)) & np.int64(0x7FFFFFFFFFFFFFFF)
    j = hsh & mask
    while tab_off[j] != -2:
        if tab_key[j] == key and tab_teff[j] == te:
            return j
        j = (j + 1) & mask
    return j


@njit(cache=True)
def rehash(tab_key, tab_teff, tab_off, tab_len, tab_srt, tab_cap, tab_last, new_key, new_teff, new_off, new_len,
           new_srt, new_cap, new_last):
    for j in range(tab_key.shape[0]):
        if tab_off[j] != -2:
            k = _slot(new_key, new_teff, new_off, tab_key[j], tab_teff[j])
            new_key[k] = tab_key[j]
            new_teff[k] = tab_teff[j]
            new_off[k] = tab_off[j]
            new_len[k] = tab_len[j]
            new_srt[k] = tab_srt[j]
            new_cap[k] = tab_cap[j]
            new_last[k] = tab_last[j]


@njit(cache=True)
def compact(tab_off, tab_len, tab_cap, a_sf, a_g, a_idx, a_F, n_sf, n_g, n_idx, n_F, ctr):
    """Copy every block into the new arena ``n_*``, in table order and without the holes that
    moved blocks left behind."""
    top = 0
    H = a_F.shape[1]
    for j in range(tab_off.shape[0]):
        if tab_off[j] < 0:
            continue
        off = tab_off[j]
        for q in range(tab_len[j]):
            n_sf[top + q] = a_sf[off + q]
            n_g[top + q] = a_g[off + q]
            n_idx[top + q] = a_idx[off + q]
            for r in range(H):
                n_F[top + q, r] = a_F[off + q, r]
        tab_off[j] = top
        top += tab_cap[j]
    ctr[C_ATOP] = top


@njit(cache=True)
def merge_tail(a_sf, a_g, a_idx, a_F, off, S, T):
    """Sort the block's unsorted tail ``[off + S, off + S + T)`` by sum F and merge it into the
    sorted prefix ``[off, off + S)``, from the back. Records are copied field by field: a
    row slice or a helper taking arrays would cost reference counts per record."""
    H = a_F.shape[1]
    t_sf = a_sf[off + S:off + S + T].copy()
    t_g = a_g[off + S:off + S + T].copy()
    t_idx = a_idx[off + S:off + S + T].copy()
    t_F = a_F[off + S:off + S + T].copy()
    order = np.argsort(t_sf)
    i = S - 1
    k = T - 1
    for w in range(off + S + T - 1, off - 1, -1):
        if k < 0:
            break
        if i >= 0 and a_sf[off + i] > t_sf[order[k]]:
            p = off + i
            a_sf[w] = a_sf[p]
            a_g[w] = a_g[p]
            a_idx[w] = a_idx[p]
            for r in range(H):
                a_F[w, r] = a_F[p, r]
            i -= 1
        else:
            p = order[k]
            a_sf[w] = t_sf[p]
            a_g[w] = t_g[p]
            a_idx[w] = t_idx[p]
            for r in range(H):
                a_F[w, r] = t_F[p, r]
            k -= 1


@njit(cache=True, inline="always")
def _insert(ns, ukey, teff, g, sumf, F, alive, tab_key, tab_teff, tab_off, tab_len, tab_srt, tab_cap, tab_last,
            a_sf, a_g, a_idx, a_F, ctr, dominance, H):
    """Put candidate ``ns`` into the store unless a stored state dominates it; remove (and mark
    dead) the stored states it dominates (level 2, or an identical dearer one at level 0).
    Returns True if it was kept. A block is a prefix sorted by sum F (scanned up to the first
    larger sum) and an unsorted tail of new records (scanned whole), merged into the prefix once
    it holds about the square root of the prefix's length; the caller has checked that the arena
    has room for a block twice the largest. Array comparisons are written out: a helper taking
    arrays costs reference counts."""
    j = _slot(tab_key, tab_teff, tab_off, ukey[ns], teff[ns])
    if tab_off[j] == -2:
        tab_key[j] = ukey[ns]
        tab_teff[j] = teff[ns]
        tab_off[j] = -1
        tab_len[j] = 0
        tab_srt[j] = 0
        tab_cap[j] = 0
        tab_last[j] = -1
        ctr[C_TAB] += 1
    sf = sumf[ns]
    gn = g[ns]
    d = tab_last[j]  # the last state of this key that dominated a candidate: often does again
    if dominance > 0 and d >= 0 and sumf[d] <= sf and g[d] <= gn:
        leq = True  # F[d] <= F[ns] pointwise
        for r in range(H):
            if F[d, r] > F[ns, r]:
                leq = False
                break
        if leq:
            ctr[C_DOM] += 1
            return False
    off = tab_off[j]
    ln = tab_len[j]
    S = tab_srt[j]
    if dominance == 2 and ln > S:  # the kill pass below needs the block sorted
        merge_tail(a_sf, a_g, a_idx, a_F, off, S, ln - S)
        S = ln
    first_eq = S  # the first record of the sorted prefix with an equal or larger sum F
    q = 0
    while q < ln:
        p = off + q
        se = a_sf[p]
        if q < S and se > sf:  # the rest of the prefix cannot dominate: go to the tail
            if first_eq == S:
                first_eq = q
            q = S
            continue
        q += 1
        if se > sf:
            continue
        ctr[C_SCAN] += 1
        if q <= S and se == sf and first_eq == S:
            first_eq = q - 1
        if dominance > 0 and a_g[p] > gn:
            continue
        if dominance == 0 and se < sf:
            continue
        leq = True  # a_F[p] <= F[ns] pointwise
        for r in range(H):
            if a_F[p, r] > F[ns, r]:
                leq = False
                break
        if not leq:
            continue
        if dominance > 0:
            ctr[C_DOM] += 1
            tab_last[j] = a_idx[p]
            return False
        # level 0, equal sums: pointwise <= means identical
        if a_g[p] <= gn:
            ctr[C_DOM] += 1
            return False
        alive[a_idx[p]] = 0
        ctr[C_KILL] += 1
        a_g[p] = gn  # the cheaper twin takes its place
        a_idx[p] = ns
        alive[ns] = 1
        return True
    if dominance == 2:  # remove the records with sum F >= sf that ns dominates (the block is sorted)
        w = first_eq
        ins = first_eq
        for q in range(first_eq, ln):
            p = off + q
            ctr[C_SCAN] += 1
            if a_g[p] >= gn:
                geq = True  # F[ns] <= a_F[p] pointwise
                for r in range(H):
                    if F[ns, r] > a_F[p, r]:
                        geq = False
                        break
                if geq:
                    alive[a_idx[p]] = 0
                    ctr[C_KILL] += 1
                    continue
            if w != q:
                a_sf[off + w] = a_sf[p]
                a_g[off + w] = a_g[p]
                a_idx[off + w] = a_idx[p]
                for r in range(H):
                    a_F[off + w, r] = a_F[p, r]
            w += 1
            if a_sf[off + w - 1] <= sf:
                ins = w
        pos = ins
        ln = w
        S = w + 1  # after the insertion below, the whole block is sorted
    else:
        pos = ln  # append to the tail
    if ln == tab_cap[j]:  # full: move the block to the arena's top with twice the room
        cap = 4 if ln == 0 else 2 * ln
        top = ctr[C_ATOP]
        for q in range(ln):
            a_sf[top + q] = a_sf[off + q]
            a_g[top + q] = a_g[off + q]
            a_idx[top + q] = a_idx[off + q]
            for r in range(H):
                a_F[top + q, r] = a_F[off + q, r]
        off = top
        tab_off[j] = top
        tab_cap[j] = cap
        ctr[C_ATOP] = top + cap
        if cap > ctr[C_MAXCAP]:
            ctr[C_MAXCAP] = cap
    for q in range(ln, pos, -1):  # level 2: make room at pos, keeping the block sorted
        p = off + q
        a_sf[p] = a_sf[p - 1]
        a_g[p] = a_g[p - 1]
        a_idx[p] = a_idx[p - 1]
        for r in range(H):
            a_F[p, r] = a_F[p - 1, r]
    p = off + pos
    a_sf[p] = sf
    a_g[p] = gn
    a_idx[p] = ns
    for r in range(H):
        a_F[p, r] = F[ns, r]
    ln += 1
    tab_len[j] = ln
    T = ln - S
    if dominance != 2 and T >= 16 and T * T >= S:  # tail ~ sqrt(prefix): both costs O(sqrt) per insert
        merge_tail(a_sf, a_g, a_idx, a_F, off, S, ln - S)
        S = ln
    tab_srt[j] = S
    alive[ns] = 1
    return True


@njit(cache=True)
def init_root(ukey0, teff0, g0, n_cls, H, M, cs, co, ca, cvol, vorder, use_lag, lam, amin, lam_msuf, tau_of, tighten,
              ukey, teff, tt, g, h, sumf, parent, adv, alive, F, R,
              tab_key, tab_teff, tab_off, tab_len, tab_srt, tab_cap, tab_last, a_sf, a_g, a_idx, a_F, hkey, hidx, ctr):
    C = cs.shape[0]
    ukey[0] = ukey0
    teff[0] = teff0
    tt[0] = 0
    g[0] = g0
    sumf[0] = 0
    parent[0] = -1
    adv[0] = 0
    for r in range(H):
        F[0, r] = 0
    n = 0
    for c in range(C):
        R[0, c] = n_cls[c]
        n += n_cls[c]
    ecomp = np.zeros(C, np.int64)
    seq = np.zeros(C + 1, np.int64)
    h[0] = bound(F, 0, R, 0, H, M, cs, co, ca, cvol, vorder, use_lag, lam, amin, lam_msuf, tau_of, 0,
                 np.int64(1) << 60, ecomp, seq, np.zeros((H + 1, H), np.int64), tighten, np.zeros(H + 1, np.int64))
    ctr[C_NS] = 1
    _insert(0, ukey, teff, g, sumf, F, alive, tab_key, tab_teff, tab_off, tab_len, tab_srt, tab_cap, tab_last, a_sf, a_g, a_idx,
            a_F, ctr, 2, H)
    ctr[C_HEAP] = _push(hkey, hidx, 0, (g0 + h[0]) * TIE + TIE - 1, 0)
    return h[0]


@njit(cache=True)
def step(budget, ntot, H, M, cs, co, ca, cvol, vorder, radix, use_lag, lam, amin, lam_msuf, tau_of, dominance,
         tighten, quick_prune, lp_left, weight, ukey, teff, tt, g, h, sumf, parent, adv, alive, F, R, lset, lpflag,
         tab_key, tab_teff, tab_off, tab_len, tab_srt, tab_cap, tab_last, a_sf, a_g, a_idx, a_F, hkey, hidx, ctr):
    """Expand up to ``budget`` states best-first (least g + h, or with ``weight`` > 1000 the
    least g + weight / 1000 * h of a dive, which only looks for incumbents). Returns DONE
    when the least g + h on the frontier reaches the incumbent (a dive: when the frontier is
    empty), BUDGET when the budget is spent, GROW_* when an array must grow first (the state
    being expanded, if any, is back on the heap; the children it already produced are found
    again as duplicates when it is expanded anew)."""
    C = cs.shape[0]
    N = ukey.shape[0]
    HC = hkey.shape[0]
    w = np.zeros(H, np.int64)
    k = np.zeros(C, np.int64)
    av = np.zeros(C, np.int64)
    ecomp = np.zeros(C, np.int64)
    seq = np.zeros(C + 1, np.int64)
    win = np.zeros((H + 1, H), np.int64)
    use = np.zeros(H + 1, np.int64)
    dlag = np.zeros(C)
    L = lam.shape[1]
    done = 0
    while done < budget:
        if ctr[C_TAB] * 2 >= tab_key.shape[0]:
            return GROW_TABLE
        hs = ctr[C_HEAP]
        if hs == 0:
            return DONE
        key = hkey[0]
        i = hidx[0]
        if alive[i] == 0:
            ctr[C_HEAP] = _pop(hkey, hidx, hs)
            continue
        ub = ctr[C_UB]
        if weight == 1000 and key // TIE >= ub:
            return DONE
        if g[i] + h[i] >= ub:  # (a dive's key does not order by g + h)
            ctr[C_HEAP] = _pop(hkey, hidx, hs)
            continue
        nU = 0
        for c in range(C):
            nU += R[i, c]
        want = (g[i] + (h[i] * weight) // 1000) * TIE + TIE - 1 - (ntot - nU)
        if want != key:  # h[i] was raised by a node LP: re-queue under the new key
            ctr[C_HEAP] = _pop(hkey, hidx, hs)
            ctr[C_HEAP] = _push(hkey, hidx, ctr[C_HEAP], want, i)
            continue
        if lp_left > 0 and lpflag[i] == 0 and use_lag:
            lpflag[i] = 1
            ctr[C_LPREQ] = i
            return WANT_LP
        ctr[C_HEAP] = _pop(hkey, hidx, hs)
        done += 1
        ctr[C_EXP] += 1
        t = tt[i]
        gi = g[i]
        nU = 0
        na = 0
        tnext = np.int64(1) << 40
        for c in range(C):
            rc = R[i, c]
            nU += rc
            if rc > 0:
                if ca[c] <= t:
                    av[na] = c
                    na += 1
                elif ca[c] < tnext:
                    tnext = ca[c]
        for r in range(H):
            w[r] = F[i, r]
        for q in range(na):
            k[q] = 0
        fzero = sumf[i] == 0
        jump = na == 0 and fzero
        # the Lagrangian bound of a child at tau = t + 1 with the root multipliers, from the parent:
        # lag0 - |U'| (t + 1) + sum over started classes of k dlag (docs/model.md §5.8)
        quick = quick_prune and use_lag and not jump
        if quick:
            _earliest(F, i, R, t, H, M, cs, co, ca, ecomp, seq, win)
            lag0 = -(lam_msuf[0, t + 2] if t + 2 < L else 0.0)
            for rr in range(2, H + 1):
                if t + rr < L:
                    lag0 += lam[0, t + rr] * F[i, rr - 1]
            for c in range(C):
                if R[i, c] > 0:
                    q = t + (ecomp[c] if ecomp[c] > 0 else 1)  # the child's e_c >= e_c - 1
                    lag0 += R[i, c] * (amin[0, c, q] if q < L else q + co[c])
            for qq in range(na):
                c = av[qq]
                q = t + (ecomp[c] if ecomp[c] > 0 else 1)
                dlag[qq] = -(amin[0, c, q] if q < L else q + co[c])
                for kk in range(2, co[c] + 1):
                    if t + kk < L:
                        dlag[qq] += lam[0, t + kk] * (cs[c] + kk)
        first = True
        q = na - 1
        while True:
            if first:
                first = False
                if fzero and not jump and teff[i] == -1:
                    continue  # idling on an empty memory reaches this very state again, dearer
            else:
                # next feasible count vector (odometer, last class fastest)
                moved = False
                while q >= 0:
                    c = av[q]
                    s_c = cs[c]
                    o_c = co[c]
                    fits = k[q] < R[i, c]
                    if fits:
                        for kk in range(1, o_c + 1):
                            if w[kk - 1] + s_c + kk > M:
                                fits = False
                                break
                    if fits:
                        for kk in range(1, o_c + 1):
                            w[kk - 1] += s_c + kk
                        k[q] += 1
                        q = na - 1
                        moved = True
                        break
                    for kk in range(1, o_c + 1):
                        w[kk - 1] -= k[q] * (s_c + kk)
                    k[q] = 0
                    q -= 1
                if not moved:
                    break
            # emit the child for counts k
            ns = ctr[C_NS]
            arena_full = ctr[C_ATOP] + 2 * ctr[C_MAXCAP] + 4 >= a_sf.shape[0]
            if ns + 2 >= N or ctr[C_HEAP] + 2 >= HC or ctr[C_TAB] * 4 >= 3 * tab_key.shape[0] or arena_full:
                # no room: put i back, grow, expand it again
                ctr[C_HEAP] = _push(hkey, hidx, ctr[C_HEAP], key, i)
                ctr[C_EXP] -= 1
                if ns + 2 >= N:
                    return GROW_POOL
                if ctr[C_HEAP] + 2 >= HC:
                    return GROW_HEAP
                return GROW_ARENA if arena_full else GROW_TABLE
            dt = 1
            if jump:
                dt = tnext - t
            t2 = t + dt
            cost = 0
            nS = 0
            uk = ukey[i]
            for c in range(C):
                R[ns, c] = R[i, c]
            for qq in range(na):
                c = av[qq]
                if k[qq] > 0:
                    R[ns, c] -= k[qq]
                    nS += k[qq]
                    cost += k[qq] * co[c]
                    uk -= k[qq] * radix[c]
            nU2 = nU - nS
            g2 = gi + cost + nU2 * dt
            ctr[C_GEN] += 1
            if quick and nU2 > 0:
                lag = lag0 - nU2 * t2
                for qq in range(na):
                    if k[qq] > 0:
                        lag += k[qq] * dlag[qq]
                if g2 + np.int64(np.ceil(lag - 1e-6)) >= ctr[C_UB]:
                    ctr[C_PRUNE] += 1
                    ctr[C_QUICK] += 1
                    if na == 0:
                        break
                    continue
            sf = 0
            for r in range(H - 1):
                F[ns, r] = w[r + 1]
                sf += w[r + 1]
            F[ns, H - 1] = 0
            parent[ns] = i
            adv[ns] = dt
            lset[ns] = lset[i]
            lpflag[ns] = 0
            ukey[ns] = uk
            tt[ns] = t2
            g[ns] = g2
            sumf[ns] = sf
            if nU2 == 0:
                if g2 < ctr[C_UB]:
                    ctr[C_UB] = g2
                    ctr[C_GOAL] = ns
                    alive[ns] = 0
                    teff[ns] = -1
                    h[ns] = 0
                    ctr[C_NS] = ns + 1
                if jump:
                    break
                continue
            te = -1
            for c in range(C):
                if R[ns, c] > 0 and ca[c] > t2:
                    te = t2
                    break
            teff[ns] = te
            hb = bound(F, ns, R, t2, H, M, cs, co, ca, cvol, vorder, use_lag, lam, amin, lam_msuf, tau_of,
                       lset[i], ctr[C_UB] - g2, ecomp, seq, win, tighten, use)
            sf = 0  # the bound may have raised F[ns] (tighten)
            for r in range(H):
                sf += F[ns, r]
            sumf[ns] = sf
            if g2 + hb >= ctr[C_UB]:
                ctr[C_PRUNE] += 1
            else:
                h[ns] = hb
                if _insert(ns, ukey, teff, g, sumf, F, alive, tab_key, tab_teff, tab_off, tab_len, tab_srt, tab_cap, tab_last,
                           a_sf, a_g, a_idx, a_F, ctr, dominance, H):
                    ctr[C_NS] = ns + 1
                    ctr[C_HEAP] = _push(hkey, hidx, ctr[C_HEAP], (g2 + (hb * weight) // 1000) * TIE + TIE - 1 - (ntot - nU2), ns)
            if jump or na == 0:
                break
    return BUDGET


@njit(cache=True)
def frontier_bound(hkey, hidx, size, alive, ub):
    """Least g + h over the live states on the heap (at most ``ub``)."""
    best = ub
    for j in range(size):
        if alive[hidx[j]] and hkey[j] // TIE < best:
            best = hkey[j] // TIE
    return best
