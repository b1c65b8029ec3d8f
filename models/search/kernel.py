"""Compiled kernels of the state-space search (``docs/model.md``, "Exact search").

State ``i``: ``R[i]`` remaining (unstarted) requests per class, ``F[i, r-1]`` the memory the
started requests hold in round ``t + r`` (``r = 1..H``, ``H = max o``), ``g[i]`` the cost so
far ``sum_started (C_j - a_j) + sum_waiting (t - a_j)``, ``tt[i]`` the round it was reached at
and ``teff[i]`` that round while some waiting request has not arrived yet (else -1: the cost
still to come does not depend on the round, so states reached at different rounds merge).
Starting the set S at round t and moving to t + 1 costs ``sum_S o_j + |U \\ S|``.

The dominance store is an open-addressing table keyed by ``(U, teff)`` whose entries head a
chain of states sorted by ``sum(F)``: a state with the same key, ``F`` pointwise <= and ``g``
<= dominates, and only chain members with ``sum(F)`` <= the new one's can dominate it
(``dominance`` 1 stops the scan there; 2 scans on and unlinks the members the new state dominates).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# step() return codes
BUDGET, DONE, GROW_POOL, GROW_HEAP, GROW_TABLE, WANT_LP = 0, 1, 2, 3, 4, 5
# counters (ctr[...])
C_NS, C_HEAP, C_UB, C_GOAL, C_EXP, C_GEN, C_DOM, C_KILL, C_TAB, C_PRUNE, C_SCAN, C_LPREQ = range(12)
TIE = 128  # heap key = (g + h) * TIE + (TIE - 1 - started requests): deeper first on ties


@njit(cache=True)
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


@njit(cache=True)
def _pop(hkey, hidx, size):
    """Remove the top; return the new size (the top was read before the call)."""
    size -= 1
    hkey[0] = hkey[size]
    hidx[0] = hidx[size]
    j = 0
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
    return size


@njit(cache=True)
def earliest_fit(f, H, M, s, o, p0):
    """Least relative start ``p >= p0`` at which a request (s, o) fits alone on top of f."""
    p = p0
    while p < H:
        ok = True
        for k in range(1, o + 1):
            r = p + k
            if r > H:
                break
            if f[r - 1] + s + k > M:
                ok = False
                break
        if ok:
            return p
        p += 1
    return p


@njit(cache=True)
def _lagrange(f, rem, tau, H, co, ecomp, lam, amin, lam_msuf, nU):
    """``sum_U min_{q >= tau + e_c} A_c(q) - nU tau - sum_r lam[tau + r] (M - f_r)``."""
    L = lam.shape[0]
    lag = 0.0
    for c in range(co.shape[0]):
        if rem[c] == 0:
            continue
        q = tau + ecomp[c]
        lag += rem[c] * (amin[c, q] if q < L else q + co[c])
    lag -= nU * tau
    lag -= lam_msuf[tau + 1] if tau + 1 < L else 0.0
    for r in range(1, H + 1):
        if tau + r < L:
            lag += lam[tau + r] * f[r - 1]
    return lag


@njit(cache=True)
def bound(f, rem, t, H, M, cs, co, ca, cvol, vorder, use_lag, lam, amin, lam_msuf, tau_of, ls, ub_gap, ecomp, seq):
    """Lower bound on the cost still to come, ``sum_U (C_j - t)``, from state (U = rem, f) at
    round t: the larger of the order-statistics bound and the Lagrangian bound. Returns early
    (with a value >= ``ub_gap``) once the order-statistics bound reaches ``ub_gap``."""
    C = cs.shape[0]
    m = 0  # classes with waiting requests, (e_c + o_c) insertion-sorted into ecomp / seq
    nU = 0
    for c in range(C):
        if rem[c] == 0:
            continue
        nU += rem[c]
        p0 = ca[c] - t
        if p0 < 0:
            p0 = 0
        e = earliest_fit(f, H, M, cs[c], co[c], p0)
        ecomp[c] = e
        v = e + co[c]
        j = m
        while j > 0 and (seq[j - 1] >> 8) > v:
            seq[j] = seq[j - 1]
            j -= 1
        seq[j] = (v << 8) | c
        m += 1
    if nU == 0:
        return 0
    # order statistics: k-th smallest completion >= max(k-th smallest e + o, fluid round)
    total = 0
    ai = 0  # position in the sorted (e + o) list
    aleft = rem[seq[0] & 255]
    vol = 0
    free = 0
    r = 0
    for q in range(C):
        c = vorder[q]
        for _ in range(rem[c]):
            vol += cvol[c]
            while free < vol:
                r += 1
                free += M - (f[r - 1] if r <= H else 0)
            a = seq[ai] >> 8
            total += a if a > r else r
            aleft -= 1
            if aleft == 0 and ai + 1 < m:
                ai += 1
                aleft = rem[seq[ai] & 255]
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
        lag = _lagrange(f, rem, tau, H, co, ecomp, lam[0], amin[0], lam_msuf[0], nU)
        if lag > best:
            best = lag
    if ls > 0:  # the multipliers of the node LP solved at an ancestor (or at this state)
        lag = _lagrange(f, rem, t, H, co, ecomp, lam[ls], amin[ls], lam_msuf[ls], nU)
        if lag > best:
            best = lag
    lag = best
    lagi = np.int64(np.ceil(lag - 1e-6))
    return lagi if lagi > total else total


@njit(cache=True)
def _slot(tab_key, tab_teff, tab_head, key, te):
    mask = tab_key.shape[0] - 1
    hsh = (key * np.int64(-7046029254386353131) + te * np.int64(0x9E3779B1)) & np.int64(0x7FFFFFFFFFFFFFFF)
    j = hsh & mask
    while tab_head[j] != -2:
        if tab_key[j] == key and tab_teff[j] == te:
            return j
        j = (j + 1) & mask
    return j


@njit(cache=True)
def rehash(tab_key, tab_teff, tab_head, tab_last, new_key, new_teff, new_head, new_last):
    for j in range(tab_key.shape[0]):
        if tab_head[j] != -2:
            k = _slot(new_key, new_teff, new_head, tab_key[j], tab_teff[j])
            new_key[k] = tab_key[j]
            new_teff[k] = tab_teff[j]
            new_head[k] = tab_head[j]
            new_last[k] = tab_last[j]


@njit(cache=True, inline="always")
def _pointwise_leq(F, a, b, H):
    """``F[a, r] <= F[b, r]`` in every round r."""
    for r in range(H):
        if F[a, r] > F[b, r]:
            return False
    return True


@njit(cache=True)
def _insert(ns, ukey, teff, g, sumf, F, alive, nxt, tab_key, tab_teff, tab_head, tab_last, ctr, dominance, H):
    """Put candidate ``ns`` into the store unless a stored state dominates it; unlink (and
    mark dead) the stored states it dominates. Returns True if it was kept."""
    j = _slot(tab_key, tab_teff, tab_head, ukey[ns], teff[ns])
    if tab_head[j] == -2:
        tab_key[j] = ukey[ns]
        tab_teff[j] = teff[ns]
        tab_head[j] = -1
        tab_last[j] = -1
        ctr[C_TAB] += 1
    sf = sumf[ns]
    gn = g[ns]
    d = tab_last[j]  # the last state of this key that dominated a candidate: often does again
    if dominance > 0 and d >= 0 and sumf[d] <= sf and g[d] <= gn and _pointwise_leq(F, d, ns, H):
        ctr[C_DOM] += 1
        return False
    e = tab_head[j]
    prev = -1
    after = -1
    while e != -1:
        nx = nxt[e]
        se = sumf[e]
        ctr[C_SCAN] += 1
        if dominance > 0:
            if se <= sf and g[e] <= gn:
                if _pointwise_leq(F, e, ns, H):
                    ctr[C_DOM] += 1
                    tab_last[j] = e
                    return False
            elif dominance == 1 and se > sf:
                break
            if dominance == 2 and se >= sf and g[e] >= gn:
                if _pointwise_leq(F, ns, e, H):
                    alive[e] = 0
                    ctr[C_KILL] += 1
                    if prev == -1:
                        tab_head[j] = nx
                    else:
                        nxt[prev] = nx
                    e = nx
                    continue
        elif se == sf:
            same = True
            for r in range(H):
                if F[e, r] != F[ns, r]:
                    same = False
                    break
            if same:
                if g[e] <= gn:
                    ctr[C_DOM] += 1
                    return False
                alive[e] = 0
                ctr[C_KILL] += 1
                if prev == -1:
                    tab_head[j] = nx
                else:
                    nxt[prev] = nx
                e = nx
                continue
        if se <= sf:
            after = e
        prev = e
        e = nx
    if after == -1:
        nxt[ns] = tab_head[j]
        tab_head[j] = ns
    else:
        nxt[ns] = nxt[after]
        nxt[after] = ns
    alive[ns] = 1
    return True


@njit(cache=True)
def init_root(ukey0, teff0, g0, n_cls, H, M, cs, co, ca, cvol, vorder, use_lag, lam, amin, lam_msuf, tau_of,
              ukey, teff, tt, g, h, sumf, parent, adv, alive, nxt, F, R,
              tab_key, tab_teff, tab_head, tab_last, hkey, hidx, ctr):
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
    h[0] = bound(F[0], R[0], 0, H, M, cs, co, ca, cvol, vorder, use_lag, lam, amin, lam_msuf, tau_of, 0,
                 np.int64(1) << 60, ecomp, seq)
    ctr[C_NS] = 1
    _insert(0, ukey, teff, g, sumf, F, alive, nxt, tab_key, tab_teff, tab_head, tab_last, ctr, 2, H)
    ctr[C_HEAP] = _push(hkey, hidx, 0, (g0 + h[0]) * TIE + TIE - 1, 0)
    return h[0]


@njit(cache=True)
def step(budget, ntot, H, M, cs, co, ca, cvol, vorder, radix, use_lag, lam, amin, lam_msuf, tau_of, dominance,
         lp_left, weight, ukey, teff, tt, g, h, sumf, parent, adv, alive, nxt, F, R, lset, lpflag,
         tab_key, tab_teff, tab_head, tab_last, hkey, hidx, ctr):
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
            if ns + 2 >= N or ctr[C_HEAP] + 2 >= HC or ctr[C_TAB] * 4 >= 3 * tab_key.shape[0]:
                # no room: put i back, grow, expand it again
                ctr[C_HEAP] = _push(hkey, hidx, ctr[C_HEAP], key, i)
                ctr[C_EXP] -= 1
                if ns + 2 >= N:
                    return GROW_POOL
                return GROW_HEAP if ctr[C_HEAP] + 2 >= HC else GROW_TABLE
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
                    nxt[ns] = -1
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
            hb = bound(F[ns], R[ns], t2, H, M, cs, co, ca, cvol, vorder, use_lag, lam, amin, lam_msuf, tau_of,
                       lset[i], ctr[C_UB] - g2, ecomp, seq)
            if g2 + hb >= ctr[C_UB]:
                ctr[C_PRUNE] += 1
            else:
                h[ns] = hb
                if _insert(ns, ukey, teff, g, sumf, F, alive, nxt, tab_key, tab_teff, tab_head, tab_last, ctr, dominance, H):
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
