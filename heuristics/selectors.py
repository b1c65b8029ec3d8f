"""Batch selectors for Sorted-F (Wang, Ye, Zhou 2025; docs/model.md §3.4).

A *batch* X is a set of requests that fits alone in memory when all its members start
together: for every member i, ``sum_{j in X, o_j >= o_i} (s_j + o_i) <= M`` (the peak of
the joint-start profile is reached at a member's completion round; members with equal o
count each other). Its quality metric is ``F(X) = sum_{i in X} o_i / |X|^2``; smaller is
better, and ties go to the larger ``|X|`` (the order ``(F, -|X|)``).

Every selector has the signature ``select(s, o, M, **kw) -> np.ndarray`` of chosen indices
into ``s`` / ``o`` (sorted ascending, never empty when the pool is non-empty), and always
returns a feasible batch:

- :func:`dp_select`: exact DP over (count, prompt sum) -> least sum of o.
- :func:`scaled_dp_select`: the same DP with prompt sizes rounded up to a grid.
- :func:`swap_select`: local search with add / remove / swap moves.
- :func:`quantile_select`: quantile-threshold greedy on a sample.
- :func:`greedy_select`: ascending ``s + o`` while they fit (the "largest batch" packing).

Within one Sorted-F run, :func:`make_selector` gives the DPs as :class:`DPScan` sessions,
called with ``ids=`` (the pool's request indices) so each call reuses the DP table of the
scan prefix it shares with the previous call; the other selectors ignore ``ids``.

"Added in order while they fit" means the longest feasible prefix of the order (it stops at
the first request that does not fit, like the admission engine's prefix rule).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

_INF = np.int32(2**30)  # sums of o in a feasible batch are <= M * H_n, far below this


# --------------------------------------------------------------------------- batch tools
def batch_peak(s: np.ndarray, o: np.ndarray) -> int:
    """Peak memory of the batch when all members start together (0 for an empty batch):
    ``max_i sum_{j: o_j >= o_i} s_j + |{j: o_j >= o_i}| o_i``."""
    if len(s) == 0:
        return 0
    order = np.argsort(-np.asarray(o), kind="stable")
    od = np.asarray(o)[order]
    # a tie group's last position carries the whole group, and dominates its other positions
    return int((np.cumsum(np.asarray(s)[order]) + np.arange(1, len(od) + 1) * od).max())


def quality(o_sum: int, k: int) -> float:
    """``F = sum o / k^2``."""
    return o_sum / (k * k)


def better(a: tuple, b: tuple) -> bool:
    """Is batch ``a = (sum_o, k)`` strictly better than ``b`` in the order ``(F, -|X|)``?
    Exact integer comparison; ``b = None`` (no batch yet) loses to any batch."""
    if b is None:
        return True
    lhs, rhs = int(a[0]) * int(b[1]) ** 2, int(b[0]) * int(a[1]) ** 2
    return lhs < rhs or (lhs == rhs and a[1] > b[1])


def max_batch_size(s: np.ndarray, o: np.ndarray, M: int) -> int:
    """An upper bound on ``|X|`` for any feasible X: the member with the least o gives
    ``sum_{j in X} s_j + |X| min(o) <= M``. ``O(n)`` (selection of the smallest prompts)."""
    n = len(s)
    if n == 0:
        return 0
    s = np.asarray(s)
    omin = int(np.min(o))
    m = min(n, 64)
    while True:
        small = np.sort(np.partition(s, m - 1)[:m] if m < n else s)
        k = int(np.searchsorted(np.cumsum(small) + np.arange(1, m + 1) * omin, M, side="right"))
        if k < m or m == n:
            return k
        m = min(n, 4 * m)


def longest_feasible_prefix(s: np.ndarray, o: np.ndarray, M: int, order: np.ndarray,
                            base: np.ndarray | None = None, probes: int = 8) -> np.ndarray:
    """The longest prefix P of ``order`` such that ``base + P`` is a batch (``base`` must be
    one). Returns the indices of P. A superset of an infeasible set is infeasible, so the
    answer is one cut, found by a ``probes``-ary search: each round evaluates the peaks of
    up to ``probes`` prefixes at once (members sorted by o once, prefix membership as a
    mask), so a cut among L candidates takes ``log_probes(L)`` vectorised rounds."""
    base = np.zeros(0, dtype=np.int64) if base is None else np.asarray(base, dtype=np.int64)
    order = np.asarray(order, dtype=np.int64)
    L = len(order)
    if L == 0:
        return order
    members = np.concatenate([base, order])
    pos = np.concatenate([np.full(len(base), -1), np.arange(L)])  # prefix rank; base: always in
    srt = np.argsort(-o[members], kind="stable")
    od, sd, pd = o[members][srt], s[members][srt], pos[srt]
    lo, hi = 0, L  # prefix lo is feasible; the answer is in [lo, hi]
    while lo < hi:
        g = min(probes, hi - lo)
        ms = lo + 1 + (hi - lo - 1) * np.arange(g) // max(1, g - 1)  # strictly increasing, ends at hi
        inc = pd[None, :] < ms[:, None]
        cs = np.cumsum(np.where(inc, sd, 0), axis=1)
        peak = np.where(inc, cs + np.cumsum(inc, axis=1) * od, 0).max(axis=1)
        ok = peak <= M  # True then False (monotone)
        k = int(ok.sum())
        lo = int(ms[k - 1]) if k else lo
        hi = int(ms[k]) - 1 if k < len(ms) else hi
    return order[:lo]


# --------------------------------------------------------------------------- DP selectors
class DPScan:
    """Exact DP for prompt sizes rounded up to multiples of ``grid`` (``grid = 1``: exact),
    reusable across the calls of one Sorted-F run.

    Candidates are scanned by decreasing o (ties: increasing id). ``T[k, S]`` is the least
    sum of o over k scanned candidates whose rounded prompt sum is ``S`` grid units.
    Including candidate i (the least o so far) is allowed iff
    ``grid (S + ceil(s_i / grid)) + (k + 1) o_i <= M``: the constraint of i, which also
    covers every earlier member with the same o; members with larger o are not affected.
    The answer minimises ``(F, -k)``, then the prompt sum S, then is the set the backward
    reconstruction finds (for each cell, the latest candidate that improved it).

    Reuse: the table after the first ``r`` candidates depends only on them, so a snapshot
    is kept every ``every`` candidates; when the next call's scan shares a prefix with the
    previous one (Sorted-F removes a batch, mostly of small-o requests, which sit at the
    end of the scan), the scan restarts from the last snapshot inside that prefix.
    """

    #: refuse tables whose reconstruction bits could exceed this many bytes
    MAX_BYTES = 2 << 30

    def __init__(self, M: int, grid: int = 1, every: int = 32):
        self.M, self.grid, self.every = int(M), int(grid), every
        self.ids = np.zeros(0, dtype=np.int64)  # scan order of the previous call (ids)
        self.K = -1
        self.steps: list = []
        self.snaps: dict = {}  # position r -> (T rows/cols used, reach)
        self.restarts: list = []  # (position restarted from, scan length): for measuring reuse

    def __call__(self, s, o, M=None, ids=None, **_) -> np.ndarray:
        s, o = np.asarray(s, dtype=np.int64), np.asarray(o, dtype=np.int64)
        n = len(s)
        ids = np.arange(n, dtype=np.int64) if ids is None else np.asarray(ids, dtype=np.int64)
        M, grid = self.M, self.grid
        order = np.lexsort((ids, -o))
        sid = ids[order]
        su = -(-s[order] // grid)
        so = o[order]
        W = M // grid
        K = max_batch_size(su * grid, so, M)
        # shared prefix with the previous scan
        m = min(len(sid), len(self.ids))
        diff = np.flatnonzero(sid[:m] != self.ids[:m])
        common = int(diff[0]) if len(diff) else m
        if n * (K + 1) * (W + 1) // 8 > self.MAX_BYTES:
            raise ValueError(f"the DP over {n} candidates (up to {K} per batch, {W + 1} prompt sums) could need "
                             f"{n * (K + 1) * (W + 1) / 8 / 2**30:.1f} GiB: use a candidate pool (pool=200) "
                             "or another selector")
        if K > self.K:
            self.K, self.snaps, common = K, {}, 0
        K = self.K
        r0 = max([r for r in self.snaps if r <= common], default=0)
        T = np.full((K + 1, W + 1), _INF, dtype=np.int32)
        if r0:
            snap, reach = self.snaps[r0]
            T[: snap.shape[0], : snap.shape[1]] = snap
        else:
            T[0, 0], reach = 0, 0
        self.snaps = {r: v for r, v in self.snaps.items() if r <= r0}
        del self.steps[r0:]
        self.restarts.append((r0, n))
        self.ids = sid
        cols = np.arange(W + 1)
        for r in range(r0, n):
            if r and r % self.every == 0 and r not in self.snaps:
                rows = min(K, r) + 1
                self.snaps[r] = (T[:rows, : reach + 1].copy(), reach)
            oi, si = int(so[r]), int(su[r])
            kk = min(K - 1, r, (M - grid * si) // oi - 1)  # largest count before including i
            lims = (M - np.arange(1, kk + 2) * oi) // grid - si  # largest S per count
            c0 = int(min(reach, lims[0])) if kk >= 0 else -1
            reach = min(W, reach + si)
            if c0 < 0:
                self.steps.append(None)
                continue
            cand = T[: kk + 1, : c0 + 1] + np.int32(oi)
            target = T[1: kk + 2, si: si + c0 + 1]
            imp = cand < target
            imp &= cols[: c0 + 1] <= lims[:, None]
            np.copyto(target, cand, where=imp)
            self.steps.append((kk + 1, c0 + 1, np.packbits(imp, axis=None)))
        return np.sort(order[self._reconstruct(T, su)])

    def _reconstruct(self, T: np.ndarray, su: np.ndarray) -> np.ndarray:
        """Scan positions of the best batch."""
        best_o = T[1:].min(axis=1)
        k, best = 0, None
        for kk in range(1, len(best_o) + 1):
            v = int(best_o[kk - 1])
            if v < _INF and better((v, kk), best):
                k, best = kk, (v, kk)
        if k == 0:
            return np.zeros(0, dtype=np.int64)
        S = int(np.argmin(T[k]))
        chosen = []
        for r in range(len(self.steps) - 1, -1, -1):
            if k == 0:
                break
            step = self.steps[r]
            if step is None:
                continue
            rows, width, bits = step
            ps = S - int(su[r])
            if ps < 0 or ps >= width or k - 1 >= rows:
                continue
            pos = (k - 1) * width + ps
            if (bits[pos >> 3] >> (7 - (pos & 7))) & 1:
                chosen.append(r)
                k, S = k - 1, ps
        assert k == 0 and S == 0, "DP reconstruction failed"
        return np.asarray(chosen, dtype=np.int64)


def dp_select(s, o, M: int, **_) -> np.ndarray:
    """Exact minimiser of ``(F, -|X|)`` over all batches (docs/model.md §3.4, exact DP).

    Time ``O(n K W)`` numpy cell updates per call (K = :func:`max_batch_size`, W = M), and
    memory for one "improved" bit per cell and candidate; meant for pools of a few hundred.
    """
    return DPScan(M)(s, o)


def scaled_grid(s, o, M: int, epsilon: float) -> int:
    """Grid width ``delta = 1 + floor(epsilon M / K)`` with K = :func:`max_batch_size`:
    rounding each prompt up costs at most ``delta - 1`` per member, so at most
    ``(delta - 1) K <= epsilon M`` per constraint."""
    K = max(1, max_batch_size(np.asarray(s), np.asarray(o), int(M)))
    return 1 + int(epsilon * M // K)


def scaled_dp_select(s, o, M: int, epsilon: float = 0.1, **_) -> np.ndarray:
    """Scaled DP: the exact DP with every prompt rounded up to a multiple of
    ``delta = scaled_grid(s, o, M, epsilon)``; the table has ``M / delta ~ K / epsilon``
    columns instead of M.

    Guarantee (what is implemented and tested):
    - the chosen X is a batch for the true prompts (rounding up only adds memory);
    - ``(F, -|X|)`` of X is at least as good as that of every batch X' that still fits when
      each member's constraint carries a margin of ``(delta - 1)`` per counted member,
      i.e. ``sum_{j in X', o_j >= o_i} (s_j + delta - 1 + o_i) <= M``; in particular
      ``F(X) <= F*(M - (delta - 1) K) <= F*((1 - epsilon) M)``, the exact optimum with the
      memory reduced by at most ``epsilon M`` (resource augmentation).
    No multiplicative bound ``F(X) <= (1 + epsilon) F*(M)`` holds for prompt rounding in
    general: a lone request with ``s + o = M`` and s not a multiple of delta is lost.
    """
    s, o = np.asarray(s, dtype=np.int64), np.asarray(o, dtype=np.int64)
    X = DPScan(M, scaled_grid(s, o, M, epsilon))(s, o)
    return with_singleton(s, o, X)


def with_singleton(s: np.ndarray, o: np.ndarray, X: np.ndarray) -> np.ndarray:
    """X, or the best lone request if that is better (or X is empty)."""
    # a lone request is always a batch: never return nothing (rounding may lose them all)
    j = int(np.argmin(o))
    if not len(X) or better((int(o[j]), 1), (int(o[X].sum()), len(X))):
        return np.array([j], dtype=np.int64)
    return X


# --------------------------------------------------------------------------- local search
class _Members:
    """Slack structure of a batch: which outsiders can join, in ``O(log k)`` each."""

    def __init__(self, s, o, M, idx):
        asc = idx[np.argsort(o[idx], kind="stable")]
        self.o_a = o[asc]
        s_a = s[asc]
        k = len(asc)
        # group-level prompt sum and count of members with o >= o_i
        first = np.searchsorted(self.o_a, self.o_a, side="left")
        self.suf_s = np.concatenate([np.cumsum(s_a[::-1])[::-1], [0]])
        slack = M - (self.suf_s[first] + (k - first) * self.o_a)
        # joining j reduces the slack of every member with o_i <= o_j by s_j + o_i
        self.pm = np.concatenate([[np.iinfo(np.int64).max], np.minimum.accumulate(slack - self.o_a)])
        self.k, self.M = k, M

    def can_join(self, s_j, o_j):
        q = np.searchsorted(self.o_a, o_j, side="right")
        q0 = np.searchsorted(self.o_a, o_j, side="left")
        own = self.suf_s[q0] + s_j + (self.k - q0 + 1) * o_j <= self.M
        return own & (s_j <= self.pm[q])


def swap_select(s, o, M: int, max_iter: int = 1000, **_) -> np.ndarray:
    """Local swap search: start from :func:`greedy_select` (ascending ``s + o`` added while
    they fit); repeatedly apply the best improving move in ``(F, -|X|)`` among adding one
    outsider, removing one member, or swapping one member for one outsider; stop at a
    local optimum or after ``max_iter`` moves. Ties between moves: add, then remove, then swap; lower index first.
    One pass is ``O(k n log k)`` vectorised."""
    s, o = np.asarray(s, dtype=np.int64), np.asarray(o, dtype=np.int64)
    M = int(M)
    n = len(s)
    inside = np.zeros(n, dtype=bool)
    inside[greedy_select(s, o, M)] = True
    for _ in range(max_iter):
        idx = np.flatnonzero(inside)
        out = np.flatnonzero(~inside)
        k, so = len(idx), int(o[idx].sum())
        cur = (so, k)
        move, best = None, None
        if len(out):
            ok = _Members(s, o, M, idx).can_join(s[out], o[out])
            if ok.any():
                cand = out[ok]
                j = cand[np.argmin(o[cand])]
                val = (so + int(o[j]), k + 1)
                if better(val, cur):
                    move, best = ((), (j,)), val
        if k >= 2:
            r = idx[np.argmax(o[idx])]
            val = (so - int(o[r]), k - 1)
            if better(val, cur) and better(val, best):
                move, best = ((r,), ()), val
        if len(out):
            for r in idx:
                rest = idx[idx != r]
                cand = out[o[out] < o[r]]
                if not len(cand):
                    continue
                ok = _Members(s, o, M, rest).can_join(s[cand], o[cand])
                if not ok.any():
                    continue
                cand = cand[ok]
                j = cand[np.argmin(o[cand])]
                val = (so - int(o[r]) + int(o[j]), k)
                if better(val, cur) and better(val, best):
                    move, best = ((r,), (j,)), val
        if move is None:
            break
        inside[list(move[0])] = False
        inside[list(move[1])] = True
    return np.flatnonzero(inside)


# --------------------------------------------------------------------------- greedy
def greedy_select(s, o, M: int, **_) -> np.ndarray:
    """Ascending ``s + o`` (ties: o, index) added while they fit: "largest batch first"."""
    s, o = np.asarray(s, dtype=np.int64), np.asarray(o, dtype=np.int64)
    return np.sort(sorted_prefix(s, o, int(M), np.arange(len(s)), s + o, o))


def _smallest(key: np.ndarray, m: int, tie: np.ndarray) -> np.ndarray:
    """Positions of the ``m`` smallest ``key`` values, sorted by (key, tie, position);
    ``O(n)`` selection, then a sort of the cut-off value class and everything below it."""
    n = len(key)
    if m < n:
        cut = np.partition(key, m - 1)[m - 1]
        sub = np.flatnonzero(key <= cut)
    else:
        sub = np.arange(n)
    return sub[np.lexsort((sub, tie[sub], key[sub]))][:m]


def sorted_prefix(s, o, M: int, cand: np.ndarray, key: np.ndarray, tie: np.ndarray,
                  base: np.ndarray | None = None) -> np.ndarray:
    """The longest feasible prefix (on top of ``base``) of the requests ``cand`` sorted by
    ``(key, tie, index)`` (``key`` / ``tie`` are indexed like ``s``). Galloping: only the
    first 32, 128, ... of the order are ever sorted, so a batch of k costs ``O(n + k log k)``."""
    m = 32
    while True:
        top = cand[_smallest(key[cand], m, tie[cand])] if len(cand) else cand
        P = longest_feasible_prefix(s, o, M, top, base)
        if len(P) < len(top) or len(top) == len(cand):
            return P
        m *= 4


QUANTILE_LEVELS = (0.1, 0.25, 0.5, 0.75, 0.9)


def quantile_select(s, o, M: int, levels: Sequence[float] = QUANTILE_LEVELS, sample: int = 1000,
                    seed: int = 0, **_) -> np.ndarray:
    """Quantile greedy. On a seeded sample (with replacement) of ``sample`` requests, for
    each level q take the lower q-quantiles of ``s + o`` and of ``o``; the requests below
    both thresholds are added by ascending ``s + o`` (ties: o, index) while they fit; the
    remaining memory is filled with the other requests by ascending ``o / (s + o)`` (ties:
    s + o, index) while they fit. The best batch over the levels in ``(F, -|X|)`` is
    returned (ties: the lower level). ``O(n)`` per level (selection, no full sort)."""
    s, o = np.asarray(s, dtype=np.int64), np.asarray(o, dtype=np.int64)
    M = int(M)
    n = len(s)
    rng = np.random.default_rng(seed)
    smp = rng.integers(0, n, size=sample) if n > sample else np.arange(n)
    size = s + o
    ratio = o / size
    qs = np.sort(size[smp]), np.sort(o[smp])
    at = [int(q * (len(smp) - 1)) for q in levels]  # the "lower" sample quantile
    best, best_val = None, None
    rest = np.ones(n, dtype=bool)
    for a in at:
        t_size, t_o = qs[0][a], qs[1][a]
        below = np.flatnonzero((size <= t_size) & (o <= t_o))
        X0 = sorted_prefix(s, o, M, below, size, o)
        rest[X0] = False
        X = np.concatenate([X0, sorted_prefix(s, o, M, np.flatnonzero(rest), ratio, size, base=X0)])
        rest[X0] = True
        if not len(X):
            continue
        val = (int(o[X].sum()), len(X))
        if better(val, best_val):
            best, best_val = X, val
    return np.sort(best)


SELECTORS = {
    "dp": dp_select,
    "scaled-dp": scaled_dp_select,
    "swap": swap_select,
    "quantile": quantile_select,
}


def make_selector(name: str, s, o, M: int, epsilon: float = 0.1):
    """A selector for one Sorted-F run over the pool ``(s, o)``: the DPs come as
    :class:`DPScan` sessions that reuse the shared scan prefix between calls (the scaled
    DP's grid is fixed from the whole pool, whose K bounds every sub-pool's)."""
    if name not in SELECTORS:
        raise ValueError(f"unknown selector {name!r}; known: {sorted(SELECTORS)}")
    if name == "dp":
        return DPScan(M)
    if name == "scaled-dp":
        scan = DPScan(M, scaled_grid(s, o, M, epsilon))

        def scaled(s_, o_, M_=None, ids=None, **_):
            return with_singleton(np.asarray(s_), np.asarray(o_), scan(s_, o_, ids=ids))

        scaled.scan = scan
        return scaled
    return SELECTORS[name]

