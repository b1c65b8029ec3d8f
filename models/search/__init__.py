"""Exact state-space search (``docs/model.md``, "Exact search"): best-first search over
states (U, f) with dominance, two admissible bounds and an incumbent from the heuristics,
improved first by weighted dives.

The hot loops are compiled with numba (:mod:`.kernel`, cached on disk after the first
call); HiGHS is imported only to compute the root LP's memory duals (:mod:`.duals`).
Deterministic: no randomness, ties broken by the number of started requests, then by the
heap's fixed order. Anytime: on a time or memory limit the best validated schedule is
returned with the least g + h over the frontier as the proven bound.
"""

from __future__ import annotations

import time
from typing import Optional

import numpy as np

from kvsched.instance import Instance
from kvsched.result import Result, Termination, objective_of, safety_wall_time
from kvsched.schedule import Schedule

from ..highs import ITERATIONS_PER_SECOND

MAX_N = 63  #: U is a mixed-radix count vector in one int64
MAX_M = 32767  #: memory values are stored as int16 (as int8 when M <= 127)
#: deterministic mode: expansions allowed per second of the nominal time limit (about half the
#: rate measured at n = 14-18 on one core, so the work limit rarely outlasts the wall clock)
EXPANSIONS_PER_SECOND = 20_000
#: dives before the exact run: (weight w on h, part of the dive budget); the dives together get
#: DIVE_SHARE of the time limit, counted in expansions at EXPANSIONS_PER_SECOND (and in time)
DIVES = ((2.0, 0.1), (1.25, 0.2), (1.1, 0.3), (1.05, 0.4))
DIVE_SHARE = 0.2
#: a growth of the arrays may start only this many times the last one's duration before the deadline
GROW_MARGIN = 2.5
#: initial rows of the pool, heap, table and arena; when full, the pool and the heap grow by
#: POOL_GROWTH (finer steps near the memory limit), the table and the arena double
INITIAL_SIZE = 1 << 16
POOL_GROWTH = 1.5


class _Classes:
    """Requests with equal (s, o, a) form a class; they start in index order."""

    def __init__(self, instance: Instance):
        groups: dict = {}
        for j, key in enumerate(zip(instance.prompts, instance.outputs, instance.arrivals)):
            groups.setdefault(key, []).append(j)
        self.members = list(groups.values())
        keys = list(groups)
        self.s = np.array([k[0] for k in keys], np.int64)
        self.o = np.array([k[1] for k in keys], np.int64)
        self.a = np.array([k[2] for k in keys], np.int64)
        self.n = np.array([len(m) for m in self.members], np.int64)
        self.vol = self.s * self.o + self.o * (self.o + 1) // 2
        self.vorder = np.argsort(self.vol, kind="stable").astype(np.int64)
        self.radix = np.cumprod(np.concatenate([[1], self.n[:-1] + 1])).astype(np.int64)


def _lagrange_tables(cls: _Classes, M: int, lam: np.ndarray, H: int):
    """``amin[c, q] = min_{q' >= q} q' + o_c + sum_k lam[q'+k] (s_c + k)`` and
    ``lam_msuf[q] = M sum_{r >= q} lam[r]``, for q < L (beyond: lam = 0)."""
    L = len(lam) + H + 1
    lamp = np.zeros(L + H + 1)
    lamp[:len(lam)] = lam
    C = len(cls.s)
    amin = np.empty((C, L))
    q = np.arange(L)
    for c in range(C):
        a = q + cls.o[c] + sum(lamp[q + k] * (cls.s[c] + k) for k in range(1, cls.o[c] + 1))
        a = np.minimum.accumulate(a[::-1])[::-1]
        amin[c] = np.minimum(a, L + cls.o[c])
    lam_l = lamp[:L].copy()
    lam_msuf = M * np.cumsum(lam_l[::-1])[::-1]
    return lam_l, amin, lam_msuf


class _Store:
    """The search's arrays; grown between kernel calls. Pool: one row per state;
    table: one slot per key (U, teff) owning a block of the arena, whose records (sum F, g,
    state, F) are the key's stored states, a prefix in order of sum F and a short unsorted tail
    (:mod:`.kernel`)."""

    POOL = ("ukey", "teff", "tt", "g", "h", "sumf", "parent", "adv", "alive", "F", "R", "lset", "lpflag")
    TABLE = ("tab_key", "tab_teff", "tab_off", "tab_len", "tab_srt", "tab_cap", "tab_last")
    ARENA = ("a_sf", "a_g", "a_idx", "a_F")

    def __init__(self, N: int, H: int, C: int, tab: int, M: int):
        self.ukey = np.zeros(N, np.int64)
        self.teff = np.zeros(N, np.int32)
        self.tt = np.zeros(N, np.int32)
        self.g = np.zeros(N, np.int64)
        self.h = np.zeros(N, np.int32)
        self.sumf = np.zeros(N, np.int32)
        self.parent = np.zeros(N, np.int32)
        self.adv = np.zeros(N, np.int32)
        self.alive = np.zeros(N, np.int8)
        self.F = np.zeros((N, H), np.int8 if M <= 127 else np.int16)
        self.R = np.zeros((N, C), np.int8)
        self.lset = np.zeros(N, np.int32)
        self.lpflag = np.zeros(N, np.int8)
        self.hkey = np.zeros(N, np.int64)
        self.hidx = np.zeros(N, np.int32)
        self._new_table(tab)
        self._new_arena(N)
        from .kernel import N_CTR

        self.ctr = np.zeros(N_CTR, np.int64)

    def _new_table(self, size: int):
        self.tab_key, self.tab_teff = np.zeros(size, np.int64), np.zeros(size, np.int32)
        self.tab_off = np.full(size, -2, np.int64)  # -2: empty slot, -1: a key without a block yet
        # block length, its sorted prefix's length, its capacity, the last dominator found
        self.tab_len, self.tab_srt = np.zeros(size, np.int32), np.zeros(size, np.int32)
        self.tab_cap, self.tab_last = np.zeros(size, np.int32), np.full(size, -1, np.int32)

    def _new_arena(self, size: int):
        self.a_sf, self.a_g = np.zeros(size, np.int32), np.zeros(size, np.int64)
        self.a_idx, self.a_F = np.zeros(size, np.int32), np.zeros((size, self.F.shape[1]), self.F.dtype)

    def nbytes(self, group=None) -> int:
        """Bytes of all arrays, or of those one ``grow_<group>`` call replaces."""
        names = {"pool": self.POOL, "heap": ("hkey", "hidx"), "table": self.TABLE, "arena": self.ARENA}
        return sum(getattr(self, k).nbytes for g in ([group] if group else names) for k in names[g])

    @staticmethod
    def _grow(arr):
        new = np.zeros((int(POOL_GROWTH * arr.shape[0]),) + arr.shape[1:], arr.dtype)  # lazily zeroed pages
        new[:arr.shape[0]] = arr
        return new

    def grow_pool(self):
        for k in self.POOL:
            setattr(self, k, self._grow(getattr(self, k)))

    def grow_heap(self):
        self.hkey, self.hidx = self._grow(self.hkey), self._grow(self.hidx)

    def grow_table(self):
        from .kernel import rehash

        old = [getattr(self, k) for k in self.TABLE]
        self._new_table(2 * self.tab_key.shape[0])
        rehash(*old, *(getattr(self, k) for k in self.TABLE))

    def growth(self, group: str) -> float:
        """How many times its present size a ``grow_<group>`` call makes that group."""
        if group in ("pool", "heap"):
            return POOL_GROWTH
        if group == "table":
            return 2.0
        return self._arena_rows() / self.a_sf.shape[0]

    def _arena_rows(self) -> int:
        """The arena's size after compaction: doubled until the blocks' room, plus twice the
        largest block, fills at most half of it."""
        from .kernel import C_MAXCAP

        need = int(self.tab_cap.sum()) + 2 * int(self.ctr[C_MAXCAP]) + 4
        rows = self.a_sf.shape[0]
        while rows < 2 * need:
            rows *= 2
        return rows

    def grow_arena(self):
        """Compact the blocks into a new arena (:meth:`_arena_rows`)."""
        from .kernel import compact

        old = [getattr(self, k) for k in self.ARENA]
        self._new_arena(self._arena_rows())
        compact(self.tab_off, self.tab_len, self.tab_cap, *old, *(getattr(self, k) for k in self.ARENA), self.ctr)


def _schedule(instance: Instance, cls: _Classes, st: _Store, goal: int) -> Schedule:
    """Replay the path root -> goal from round 0: each edge starts the counted requests of
    every class (lowest unstarted index first) and advances ``adv`` rounds."""
    path = []
    i = goal
    while i != -1:
        path.append(i)
        i = int(st.parent[i])
    path.reverse()
    starts = [None] * instance.n
    nxt = [0] * len(cls.members)
    t = 0
    for p, c in zip(path, path[1:]):
        for k in range(len(cls.members)):
            for _ in range(int(st.R[p, k]) - int(st.R[c, k])):
                starts[cls.members[k][nxt[k]]] = t
                nxt[k] += 1
        t += int(st.adv[c])
    return Schedule.from_starts(instance, starts)


def solve_search(instance: Instance, time_limit: Optional[float] = 60.0, ub_schedule: Optional[Schedule] = None,
                 memory_limit: float = 1500.0, dominance=True, lagrangian: bool = True,
                 lp_time_limit: float = 20.0, realign: bool = True, node_lps: int = 0,
                 deterministic: bool = False, dives=DIVES, tighten: bool = True, quick_prune: bool = True,
                 **opts) -> Result:
    """Exact optimum by best-first state-space search. ``memory_limit`` (MB) caps the search's
    arrays; ``dominance``: 1 (or True) drops a new state that a stored one dominates, 2 also
    unlinks the stored states the new one dominates, 0 (or False) merges only identical states
    (docs/model.md §5.8); ``lagrangian=False`` drops the LP-dual bound; ``tighten=False`` keeps
    each profile as it is instead of raising it to the equivalent profile both bounds see;
    ``quick_prune=False`` builds every child before bounding it (the same search, slower).
    ``dives``: (weight, part of the dive budget) of each incumbent-seeking dive before the exact
    run, ``()`` for none. ``opts`` (threads, seed, window_cut) are recorded only: the search is
    single-threaded and deterministic. ``deterministic``: stop on work, not time, after
    :data:`EXPANSIONS_PER_SECOND` expansions per second of ``time_limit`` (checked between
    kernel steps of a fixed size) and the root LP after ``ITERATIONS_PER_SECOND`` simplex
    iterations per second of its share (:mod:`kvsched.models.highs`), so the result does not
    depend on the machine's load."""
    from . import kernel as K

    t0 = time.perf_counter()
    if instance.n > MAX_N:
        raise ValueError(f"field 'requests': the search handles n <= {MAX_N} requests, got n = {instance.n}")
    if instance.M > MAX_M:
        raise ValueError(f"field 'M': the search handles M <= {MAX_M}, got M = {instance.M}")
    if isinstance(dominance, str) or dominance not in (0, 1, 2):  # True == 1, False == 0
        raise ValueError(f"field 'dominance': expected 0, 1 or 2 (or a bool), got {dominance!r}")
    if ub_schedule is None:
        from kvsched.heuristics import warm_start

        ub_schedule = warm_start(instance)[0]
    ub_schedule = Schedule.from_starts(instance, ub_schedule.starts)
    ub = objective_of(instance, ub_schedule)  # an infeasible warm start is caught at the boundary
    cls = _Classes(instance)
    H = int(cls.o.max())
    C = len(cls.s)
    M = instance.M
    lp_value = None
    lam = np.zeros(1)
    tau_of = np.full(instance.n + 1, -1, np.int64)
    from .duals import root_duals

    T = int(max(max(ub_schedule.completions), cls.a.max() + H)) + H
    if time_limit is not None:  # the root LP may use at most a third of the time
        lp_time_limit = min(lp_time_limit, max(1.0, time_limit / 3))
    lp_iterations = None
    if deterministic:  # ... of the work: simplex iterations, wall time only as a safety stop
        lp_iterations = int(ITERATIONS_PER_SECOND * lp_time_limit)
        lp_time_limit = safety_wall_time(lp_time_limit)
    if lagrangian:
        lam_lp, lp_value, waiting = root_duals(cls.s, cls.o, cls.a, cls.n, M, T, lp_time_limit, lp_iterations)
        if lam_lp is not None:
            lam = lam_lp
        if lam_lp is not None and realign:
            # tau_of[k]: the first round at which the root LP has at most k requests left to start
            tau_of = np.array([int(np.argmax(waiting <= k + 0.5)) for k in range(instance.n + 1)], np.int64)
    lam_l, amin, lam_msuf = _lagrange_tables(cls, M, lam, H)
    use_lag = bool(lagrangian and lp_value is not None)
    sets = ([lam_l], [amin], [lam_msuf])
    lam_s, amin_s, msuf_s = lam_l[None], amin[None], lam_msuf[None]

    ukey0 = int((cls.n * cls.radix).sum())
    teff0 = 0 if (cls.a > 0).any() else -1
    g0 = -int(sum(instance.arrivals))
    dom = int(dominance)
    limit_bytes = memory_limit * 2**20
    lps = 0

    def best_first(ub: int, weight: int, max_expanded: Optional[int], deadline: Optional[float], node_lps: int,
                   resume=None):
        """One best-first run from the root with incumbent ``ub``, or on from ``resume`` (a
        dive's store and root bound, its frontier re-keyed by g + h); returns its store, root
        bound and stop reason."""
        nonlocal lam_s, amin_s, msuf_s, lps
        grown = {}  # seconds the last growth of each kind of array took
        if resume is not None:
            st, root_h = resume
            st.ctr[K.C_HEAP] = K.rekey(st.hkey, st.hidx, int(st.ctr[K.C_HEAP]), st.g, st.h, st.R, instance.n, st.alive)
        else:
            st = _Store(INITIAL_SIZE, H, C, INITIAL_SIZE, M)
            st.ctr[K.C_UB] = ub
            st.ctr[K.C_GOAL] = -1
            root_h = K.init_root(ukey0, teff0, g0, cls.n, H, M, cls.s, cls.o, cls.a, cls.vol, cls.vorder, use_lag, lam_s,
                                 amin_s, msuf_s, tau_of, tighten, st.ukey, st.teff, st.tt, st.g, st.h, st.sumf, st.parent,
                                 st.adv, st.alive, st.F, st.R, *(getattr(st, k) for k in (*st.TABLE, *st.ARENA)), st.hkey,
                                 st.hidx, st.ctr)
        stop = "optimal"
        while True:
            code = K.step(2000, instance.n, H, M, cls.s, cls.o, cls.a, cls.vol, cls.vorder, cls.radix, use_lag, lam_s,
                          amin_s, msuf_s, tau_of, dom, tighten, quick_prune, node_lps - lps, weight, st.ukey, st.teff,
                          st.tt, st.g, st.h, st.sumf, st.parent, st.adv, st.alive, st.F, st.R, st.lset, st.lpflag,
                          *(getattr(st, k) for k in (*st.TABLE, *st.ARENA)), st.hkey, st.hidx, st.ctr)
            if code == K.DONE:
                break
            if code == K.WANT_LP:
                lps += 1
                i = int(st.ctr[K.C_LPREQ])
                t = int(st.tt[i])
                rem = st.R[i].astype(np.int64)
                arr = np.maximum(0, cls.a - t)
                cap = M - st.F[i].astype(np.int64)
                Tn = int(max(T - t, arr.max() + H)) + H
                lam_n, value, _ = root_duals(cls.s, cls.o, arr, rem, cap, Tn, lp_time_limit, lp_iterations)
                if lam_n is not None:
                    absolute = np.zeros(len(lam))
                    m = min(len(lam) - t, len(lam_n))
                    absolute[t:t + m] = lam_n[:m]  # node round r is absolute round t + r
                    tables = _lagrange_tables(cls, M, absolute, H)
                    for lst, arr_ in zip(sets, tables):
                        lst.append(arr_)
                    lam_s, amin_s, msuf_s = (np.stack(x) for x in sets)
                    st.lset[i] = len(sets[0]) - 1
                    # the node LP's value needs a horizon argument; its multipliers do not
                    hb = K.bound(st.F, i, st.R, t, H, M, cls.s, cls.o, cls.a, cls.vol, cls.vorder, use_lag, lam_s,
                                 amin_s, msuf_s, tau_of, st.lset[i], 1 << 60, np.zeros(C, np.int64),
                                 np.zeros(C + 1, np.int64), np.zeros((H + 1, H), np.int64), tighten,
                                 np.zeros(H + 1, np.int64))
                    st.h[i] = max(int(st.h[i]), int(hb))
                continue
            if code in (K.GROW_POOL, K.GROW_HEAP, K.GROW_TABLE, K.GROW_ARENA):
                group = {K.GROW_POOL: "pool", K.GROW_HEAP: "heap", K.GROW_TABLE: "table", K.GROW_ARENA: "arena"}[code]
                if st.nbytes() + st.growth(group) * st.nbytes(group) > limit_bytes:  # the peak while copying
                    stop = "memory-limit"
                    break
                # a growth copies more than the last one of its kind did: stop rather than
                # let a multi-gigabyte copy run past the deadline (and the caller's hard kill)
                if deadline is not None and time.perf_counter() + GROW_MARGIN * grown.get(code, 0.0) > deadline:
                    stop = "time-limit"
                    break
                began = time.perf_counter()
                getattr(st, f"grow_{group}")()
                grown[code] = time.perf_counter() - began
            if deadline is not None and time.perf_counter() > deadline:
                stop = "time-limit"
                break
            if max_expanded is not None and st.ctr[K.C_EXP] >= max_expanded:
                stop = "work-limit"
                break
        return st, root_h, stop

    # dives: weighted best-first runs that only look for a better incumbent (docs/model.md §5.8)
    deadline = None if time_limit is None or deterministic else t0 + time_limit
    work = None if time_limit is None or not deterministic else int(EXPANSIONS_PER_SECOND * time_limit)
    dive_work = int(DIVE_SHARE * EXPANSIONS_PER_SECOND * (time_limit if time_limit is not None else 60.0))
    found = [ub]
    dive_expanded = 0
    proven = None  # a dive whose frontier emptied has proven its incumbent optimal
    resume = None
    for weight, part in dives:
        cap = max(1, int(part * dive_work))
        cut = None if deadline is None else min(deadline, time.perf_counter() + part * DIVE_SHARE * time_limit)
        dive = best_first(ub, int(round(1000 * weight)), cap, cut, 0)
        dive_expanded += int(dive[0].ctr[K.C_EXP])
        if int(dive[0].ctr[K.C_GOAL]) >= 0:
            ub_schedule = _schedule(instance, cls, dive[0], int(dive[0].ctr[K.C_GOAL]))
            ub = int(dive[0].ctr[K.C_UB])
        found.append(ub)
        if dive[2] == "optimal":
            proven = dive
            break
    if proven is None:
        # the exact run goes on from the last dive's store when that dive stopped on its budget
        # (every state it dropped was dominated or had g + h >= an incumbent >= the present one)
        resume = (dive[0], dive[1]) if dives and dive[2] in ("time-limit", "work-limit") else None
        done = 0 if resume is None else int(dive[0].ctr[K.C_EXP])
        left = None if work is None else done + max(1, work - dive_expanded)
        st, root_h, stop = best_first(ub, 1000, left, deadline, node_lps, resume)
    else:
        st, root_h, stop = proven
    ctr = st.ctr
    best = int(ctr[K.C_UB])
    if stop == "optimal":
        bound = best
    else:
        bound = int(K.frontier_bound(st.hkey, st.hidx, int(ctr[K.C_HEAP]), st.alive, best))
    goal = int(ctr[K.C_GOAL])
    schedule = ub_schedule if goal < 0 else _schedule(instance, cls, st, goal)
    stats = {"expanded": int(ctr[K.C_EXP]), "generated": int(ctr[K.C_GEN]), "stored": int(ctr[K.C_NS]),
             "dominated": int(ctr[K.C_DOM]), "killed": int(ctr[K.C_KILL]), "pruned": int(ctr[K.C_PRUNE]),
             "pruned_quick": int(ctr[K.C_QUICK]), "keys": int(ctr[K.C_TAB]), "scanned": int(ctr[K.C_SCAN]), "node_lps": lps,
             "root_h": int(root_h) + g0, "lp_value": lp_value, "classes": C,
             "incumbent_start": found[0], "dive_incumbents": found[1:], "dive_expanded": dive_expanded,
             "proved_by_dive": proven is not None, "continued_dive": proven is None and resume is not None}
    termination = {"time-limit": Termination.TIME_LIMIT, "work-limit": Termination.WORK_LIMIT,
                   "memory-limit": Termination.MEMORY_LIMIT}.get(
        stop, Termination.CONVERGED)
    return Result(
        solver="search", termination=termination, bound=float(bound), schedule=schedule,
        wall_time=time.perf_counter() - t0, solver_version="kvsched search 1 (numba)", threads=1, seed=None,
        deterministic=deterministic,
        params={"time_limit": time_limit, "memory_limit": memory_limit, "dominance": dominance,
                "deterministic": deterministic,
                "lagrangian": lagrangian, "tighten": tighten, "quick_prune": quick_prune, **opts, **stats},
        message=f"{stats['expanded']} expanded, {stats['stored']} stored; root bound {stats['root_h']}",
        solver_status=stop,
    )
