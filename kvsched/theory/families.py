"""Lower-bound instance families (docs/model.md §7.2), with witness schedules: the one home
of every family whose point is a ratio, and of the schedules that certify it.

Each family returns a :class:`kvsched.instance.Instance` (all arrivals 0; seeded where
random). A *witness* is an explicit feasible schedule (validate it with
:func:`kvsched.validator.validate`): its TCT bounds OPT from above, so ``TCT(ALG) /
TCT(witness)`` is a certified lower bound on ALG's competitive ratio, with no solver.

* :func:`sf_seed_family`: the talk's family against SF (type 1: ``s = sqrt(M) - 1, o = 1``,
  M of them; type 2: ``s = 1, o = 2``, ``M^1.5`` of them); it does *not* show
  Omega(sqrt M): type 2's own processing (~2.5 M^2 staggered, 3 M^2 batched) dominates
  the ~M^2 delay SF causes, so the ratio stays below ~(3.5 + ...) / 2.5.
* :func:`sf_blocker_family`: one that does. X *blockers* ``(s, o) = (M - 1, 1)`` fill the
  whole memory for one round each; Y *small* requests ``(1, 2)`` run ``c = M // 5`` per
  round when staggered (a cohort holds 2 then 3 tokens per request: 5c <= M). SF and FCFS
  (blockers listed first) run the blockers first, one per round, so every small request
  waits X rounds: ``TCT(SF) >= X Y``. Sorted-F picks batches of small requests first
  (``F = 6 / M`` for M / 3 of them against ``F = 1`` for a blocker). With ``r = Y / X`` and
  X large: ``TCT(SF) ~ X^2/2 + X Y + 2.5 Y^2 / M`` and the witness (small first) has
  ``~ 2.5 Y^2 / M + 5 X Y / M + X^2 / 2``; the ratio ``(1/2 + r + 2.5 r^2/M) /
  (1/2 + 5 r/M + 2.5 r^2/M)`` peaks near ``r = sqrt(M/5)`` at about ``sqrt(M/5) + 1``,
  i.e. ``0.447 sqrt(M)`` (> the claimed (2/13) sqrt(M) = 0.154 sqrt(M)); with ``Y = M``
  (the variant of the Sorted-F benchmarks) it still grows like ``sqrt(M)``. Blockers of
  size ``sqrt(M)`` (k per round) only give Theta(M^(1/4)): the ratio is ``r / k`` at best.
  The defaults are X = isqrt(M), Y = round(X sqrt(M / 5)).
* :func:`amax_family`: ``N_l`` requests of length l and ``N_u`` of length u, ``N_l / N_u =
  alpha^-1/2`` (alpha = l / u), every request with the one interval [l, u], so A_max sees
  a single common interval (its tie-break is the only order it uses).
* :func:`three_partition`: o_i = 1 and values ``w_i = s_i + 1`` strictly inside (M/4, M/2)
  forming m triples of sum M. A request with o = 1 holds ``w_i`` in exactly one round; no
  round holds four (each > M/4), so the k-th completion is at round >= ceil(k/3) and
  ``TCT >= 3 (1 + ... + m) = 3m(m+1)/2``, attained by the triples in rounds 1..m. Conversely
  TCT = 3m(m+1)/2 forces three requests per round in rounds 1..m, each round of sum <= M
  with total mM, so every round sums to exactly M: a 3-partition. Hence deciding
  ``OPT <= 3m(m+1)/2`` is strongly NP-hard even with unit outputs. Built with
  :func:`kvsched.generators.partition`; :func:`split_into_triples` finds the triples (the one
  search, also behind :func:`kvsched.generators.known_optimum`) and
  :func:`three_partition_witness` schedules them.
* :func:`sorted_f_stagger_family`: our best attempt at Sorted-F's 48 (see its docstring):
  it shows a ratio approaching 2 (not more), the same for SF, FCFS and MC-SF.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from kvsched.instance import Instance
from kvsched.schedule import Schedule

# ------------------------------------------------------------------ witness helpers


def cohort_plan(M: int, s: int, o: int) -> tuple:
    """``(c, d)``: start ``c`` copies of a request ``(s, o)`` every ``d`` rounds, maximising
    the rate ``c / d`` subject to the steady-state memory: a phase ``f`` of the period sees
    ages ``f, f + d, ... <= o``, holding ``c * sum (s + age)``. Ramp-up holds less, so the
    plan is feasible from round 0. Ties: the smaller d."""
    if s + o > M:
        raise ValueError(f"a request (s={s}, o={o}) does not fit in M = {M}")
    best = (0.0, 1, 1)
    for d in range(1, o + 1):
        worst = max(sum(s + a for a in range(f, o + 1, d)) for f in range(1, d + 1))
        c = M // worst
        if c >= 1 and c / d > best[0] + 1e-12:
            best = (c / d, c, d)
    return best[1], best[2]


def _place_earliest(M: int, s: Sequence[int], o: Sequence[int], order, starts: dict, lo: int = 0) -> dict:
    """Place ``order`` one by one at the earliest round ``p >= lo`` (and >= the previous
    placement) at which memory stays <= M in every round of the request's window, given the
    already fixed ``starts``."""
    horizon = max([p + o[i] for i, p in starts.items()] + [0]) + sum(o[i] for i in order) + 2
    mem = np.zeros(horizon + 2, dtype=np.int64)
    for i, p in starts.items():
        mem[p + 1: p + o[i] + 1] += s[i] + np.arange(1, o[i] + 1)
    out = dict(starts)
    p = lo
    for i in order:
        ramp = s[i] + np.arange(1, o[i] + 1)
        while np.any(mem[p + 1: p + o[i] + 1] + ramp > M):
            p += 1
        mem[p + 1: p + o[i] + 1] += ramp
        out[i] = p
    return out


def _cohort_starts(M: int, idx: Sequence[int], s: int, o: int) -> dict:
    c, d = cohort_plan(M, s, o)
    return {i: d * (j // c) for j, i in enumerate(idx)}


# ------------------------------------------------------------------ SF / FCFS families


def sf_seed_family(M: int) -> Instance:
    """The talk's family (M a perfect square >= 4): M requests (sqrt(M) - 1, 1) listed
    first, then M^1.5 requests (1, 2)."""
    from kvsched.generators import sf_lower_bound

    return sf_lower_bound(None, 0, M)


def sf_blocker_family(M: int, blockers: int | None = None, small: int | None = None) -> Instance:
    """``blockers`` requests ``(M - 1, 1)`` listed first, then ``small`` requests ``(1, 2)``,
    all at round 0; M >= 4. Defaults: ``X = isqrt(M)`` blockers and ``Y = round(X sqrt(M / 5))``
    small ones, the ratio-maximising mix of the module docstring."""
    if M < 4:
        raise ValueError(f"M must be >= 4, got {M}")
    X = math.isqrt(M) if blockers is None else blockers
    Y = max(1, round(X * math.sqrt(M / 5))) if small is None else small
    return Instance(M, (M - 1,) * X + (1,) * Y, (1,) * X + (2,) * Y, name=f"sf-blockers-M{M}-X{X}-Y{Y}")


def small_first_witness(inst: Instance) -> Schedule:
    """A feasible schedule for the two-type SF families: the ``(1, 2)`` requests first in
    staggered cohorts (:func:`cohort_plan`), then every other request by ascending peak
    ``s + o`` at its earliest feasible round."""
    s, o = inst.prompts, inst.outputs
    small = [i for i in range(inst.n) if (s[i], o[i]) == (1, 2)]
    rest = sorted((i for i in range(inst.n) if (s[i], o[i]) != (1, 2)), key=lambda i: (s[i] + o[i], o[i], i))
    starts = _cohort_starts(inst.M, small, 1, 2) if small else {}
    lo = max(starts.values(), default=0)
    starts = _place_earliest(inst.M, s, o, rest, starts, lo)
    return Schedule.from_starts(inst, [starts[i] for i in range(inst.n)])


sf_seed_witness = small_first_witness
sf_blocker_witness = small_first_witness


# ------------------------------------------------------------------ A_max


def amax_family(M: int, l: int, u: int, n_u: int, s: int = 1, seed: int = 0) -> Instance:
    """``N_l = round(n_u * sqrt(u / l))`` requests of length ``l`` and ``n_u`` of length
    ``u``, prompt ``s``, all with the interval ``[l, u]``, in a seeded random order.
    alpha = l / u; choose u / l a perfect square for the exact ratio alpha^-1/2."""
    if not 1 <= l <= u:
        raise ValueError(f"need 1 <= l <= u, got l = {l}, u = {u}")
    if s + u > M:
        raise ValueError(f"s + u = {s + u} exceeds M = {M}")
    if n_u < 1:
        raise ValueError(f"n_u must be >= 1, got {n_u}")
    n_l = round(n_u * math.sqrt(u / l))
    outputs = np.array([l] * n_l + [u] * n_u)[np.random.default_rng(seed).permutation(n_l + n_u)]
    n = len(outputs)
    return Instance(M, (s,) * n, tuple(int(v) for v in outputs), (0,) * n, (l,) * n, (u,) * n,
                    name=f"amax-M{M}-l{l}-u{u}-Nl{n_l}-Nu{n_u}-s{s}-seed{seed}")


# ------------------------------------------------------------------ 3-partition


def three_partition(m: int, M: int = 40, seed: int = 0) -> Instance:
    """A YES instance of the 3-partition reduction: 3m requests with o_i = 1, OPT = 3m(m+1)/2."""
    from kvsched.generators import partition

    return partition(3 * m, seed, M)


def three_partition_optimum(m: int) -> int:
    return 3 * m * (m + 1) // 2


def split_into_triples(values: Sequence[int], target: int) -> list | None:
    """Index triples ``(i, j, k)`` with ``values[i] + values[j] + values[k] == target`` that
    use every index once, found by backtracking (largest value first, each pair of values
    tried once), or None if the multiset admits no such split."""
    order = sorted(range(len(values)), key=lambda i: -values[i])
    if len(order) % 3:
        return None
    triples: list = []

    def split(left: list) -> bool:
        if not left:
            return True
        first, rest = left[0], left[1:]
        tried = set()
        for a in range(len(rest)):
            for b in range(a + 1, len(rest)):
                pair = (values[rest[a]], values[rest[b]])
                if values[first] + pair[0] + pair[1] == target and pair not in tried:
                    tried.add(pair)
                    triples.append((first, rest[a], rest[b]))
                    if split(rest[:a] + rest[a + 1:b] + rest[b + 1:]):
                        return True
                    triples.pop()
        return False

    return triples if split(order) else None


def three_partition_witness(inst: Instance) -> Schedule:
    """The schedule with one triple of sum M per round (:func:`split_into_triples` on the
    values ``s_i + 1``); raises ValueError if there is no such split."""
    triples = None
    if all(o == 1 for o in inst.outputs):
        triples = split_into_triples([s + 1 for s in inst.prompts], inst.M)
    if triples is None:
        raise ValueError("not a 3-partition YES instance (o_i = 1, triples of s_i + 1 summing to M)")
    starts = [0] * inst.n
    for r, t in enumerate(triples):
        for i in t:
            starts[i] = r
    return Schedule.from_starts(inst, starts)


# ------------------------------------------------------------------ Sorted-F


def sorted_f_stagger_family(L: int, k: int, batches: int) -> Instance:
    """``k * batches`` identical requests ``(s, o) = (1, L)`` with ``M = k (L + 1)``.

    Reasoning. Sorted-F's metric ``F(X) = sum o / |X|^2 = L / |X|`` picks the largest set
    that fits when all its members *start together*: k requests, whose joint peak
    ``k (1 + L)`` is exactly M. Placement then puts the next request at its earliest
    feasible round, but at round L the first batch holds exactly M, so any request started
    before L would overflow there: the batches run back to back, ``k`` requests per L rounds,
    each holding ``1 + L/2`` tokens on average over its window. A staggered schedule
    (:func:`stagger_witness`) overlaps young and old requests and sustains up to about
    twice the throughput (memory per request ~ ``s + L/2`` instead of ``s + L``), so
    ``TCT(Sorted-F) / OPT -> 2`` as L, k and the number of batches grow (s = 1 << L).
    SF, FCFS and MC-SF behave the same here (all requests are equal). This is the largest
    gap we found by reasoning; it is far from 48, and the factor 2 cannot be beaten by this
    effect alone (memory ``s + age`` averages at least half the peak). Other losses in the
    48 chain (the min-F greedy, like min-sum set cover's factor 4; grouping; alignment) are
    left to the adversarial search. ``k >= L`` keeps the staggered cohorts integral."""
    if L < 1 or k < 1 or batches < 1:
        raise ValueError(f"need L, k, batches >= 1, got {L}, {k}, {batches}")
    n = k * batches
    return Instance(k * (L + 1), (1,) * n, (L,) * n, name=f"sorted-f-stagger-L{L}-k{k}-b{batches}")


def stagger_witness(inst: Instance) -> Schedule:
    """Staggered cohorts (:func:`cohort_plan`) for an instance of identical requests."""
    if len(set(inst.prompts)) != 1 or len(set(inst.outputs)) != 1:
        raise ValueError("stagger_witness needs identical requests")
    starts = _cohort_starts(inst.M, range(inst.n), inst.prompts[0], inst.outputs[0])
    return Schedule.from_starts(inst, [starts[i] for i in range(inst.n)])


def stagger_prediction(L: int, k: int, batches: int) -> float:
    """Predicted ``TCT(batched) / TCT(stagger witness)`` for :func:`sorted_f_stagger_family`:
    batched TCT ``= k L (1 + ... + batches)``; the witness's from :func:`cohort_plan`."""
    M, n = k * (L + 1), k * batches
    c, d = cohort_plan(M, 1, L)
    batched = k * L * batches * (batches + 1) // 2
    witness = sum(d * (j // c) + L for j in range(n))
    return batched / witness
