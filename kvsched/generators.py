"""Seeded instance families for tests and benchmarks (docs/model.md §7.1).

:data:`FAMILIES` maps a name to ``fn(n, seed, **kw) -> Instance``. Every draw comes from
``numpy.random.default_rng(seed)`` in a fixed order, so (family, n, seed, kw) fixes the
instance (compare ``Instance.digest``). The instance name records the parameters.

- ``random``: M = 40, s_i and o_i uniform on 1..11, all arrivals 0; ``rate`` > 0 gives Poisson
  arrivals instead (:func:`poisson_arrivals`, drawn from the family's generator after s and o).
- ``tiny``: n <= 7 requests for the exhaustive oracle: M = 10, s_i on 1..4, o_i on 1..5.
- ``jaillet``: Jaillet et al.'s synthetic instances, both arrival models.
- ``partition``: a 3-partition YES instance with o_i = 1 and known optimum (:func:`known_optimum`).
- ``sf-lower-bound``: the talk's family against SF with heterogeneous prompts (docs/model.md §7.2).
"""

from __future__ import annotations

import math
from typing import Callable, Dict, Optional, Sequence, Union

import numpy as np

from .instance import Instance, InstanceError
from .theory.families import split_into_triples


class GeneratorError(InstanceError):
    """Bad generator parameters (one line, names the parameter)."""


def _need_n(family: str, n: Optional[int], lo: int = 1, hi: Optional[int] = None) -> int:
    if n is None:
        raise GeneratorError(f"family '{family}' needs n (CLI: --n)")
    if n < lo or (hi is not None and n > hi):
        raise GeneratorError(f"family '{family}': n must be in {lo}..{hi if hi is not None else ''}, got {n}")
    return n


def poisson_arrivals(n: int, rate: float, seed: Union[int, np.random.Generator] = 0) -> np.ndarray:
    """Arrival rounds of n requests of a Poisson process with ``rate`` requests per round: n
    exponential gaps of mean 1/rate are drawn from ``seed`` (an int, or a generator whose
    stream continues), their running sums shifted so the first request arrives at time 0,
    and ``a_i = floor(t_i)`` (docs/model.md §7.1)."""
    if not rate > 0:
        raise GeneratorError(f"rate must be > 0, got {rate}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    times = np.cumsum(rng.exponential(1.0 / rate, size=n))
    times -= times[0]
    return np.floor(times).astype(np.int64)


def _uniform_family(name: str, n, seed, M, s_max, o_max, rate, n_max=None) -> Instance:
    n = _need_n(name, n, 1, n_max)
    if s_max + o_max > M:
        raise GeneratorError(f"family '{name}': s_max + o_max = {s_max + o_max} exceeds M = {M}")
    rng = np.random.default_rng(seed)
    s = rng.integers(1, s_max + 1, size=n)
    o = rng.integers(1, o_max + 1, size=n)
    arrivals = tuple(poisson_arrivals(n, rate, rng).tolist()) if rate is not None else ()
    tag = f"-rate{rate:g}" if rate is not None else ""
    return Instance(M, tuple(s.tolist()), tuple(o.tolist()), arrivals, name=f"{name}-n{n}-seed{seed}{tag}")


def random_family(n: Optional[int], seed: int = 0, M: int = 40, s_max: int = 11, o_max: int = 11,
                  rate: Optional[float] = None) -> Instance:
    """``random``: s_i, o_i uniform on 1..11 (``s_max``, ``o_max``), M = 40; arrivals 0 or
    Poisson with ``rate`` requests per round."""
    return _uniform_family("random", n, seed, M, s_max, o_max, rate)


def tiny(n: Optional[int] = 5, seed: int = 0, M: int = 10, s_max: int = 4, o_max: int = 5,
         rate: Optional[float] = None) -> Instance:
    """``tiny``: n <= 7 requests (default 5), M = 10, s_i on 1..4, o_i on 1..5: small enough
    for the exhaustive oracle, tight enough that memory binds."""
    return _uniform_family("tiny", 5 if n is None else n, seed, M, s_max, o_max, rate, n_max=7)


def jaillet(n: Optional[int] = None, seed: int = 0, model: int = 1, M: Optional[int] = None) -> Instance:
    """Jaillet et al.'s synthetic instances (docs/model.md §7.1), drawn in this order:
    M ~ U{30..50} (unless given), one prompt size s ~ U{1..5} for all requests,
    then model 1: n ~ U{40..60} unless ``n`` is given, o_i ~ U{1..M-s}, all arrivals 0;
    model 2: rate ~ U[0.5, 1.5], horizon T ~ U{40..60}, Poisson(rate) arrivals in each round
    0..T-1 (so n is random and ``n`` must be None), o_i ~ U{1..M-s}."""
    if model not in (1, 2):
        raise GeneratorError(f"family 'jaillet': model must be 1 or 2, got {model}")
    rng = np.random.default_rng(seed)
    M_ = int(rng.integers(30, 51))
    if M is not None:
        M_ = M
    s = int(rng.integers(1, 6))
    if M_ < s + 1:
        raise GeneratorError(f"family 'jaillet': M = {M_} leaves no room for prompt size {s}")
    if model == 1:
        n_draw = int(rng.integers(40, 61))
        n = n_draw if n is None else _need_n("jaillet", n)
        arrivals: Sequence[int] = ()
        tag = "m1"
    else:
        if n is not None:
            raise GeneratorError("family 'jaillet' model 2: n is random (Poisson arrivals), do not give n")
        rate = float(rng.uniform(0.5, 1.5))
        horizon = int(rng.integers(40, 61))
        counts = rng.poisson(rate, size=horizon)
        while counts.sum() == 0:  # probability about e^-20; keeps the instance non-empty
            counts = rng.poisson(rate, size=horizon)
        arrivals = tuple(np.repeat(np.arange(horizon), counts).tolist())
        n = len(arrivals)
        tag = f"m2-rate{rate:.3f}-T{horizon}"
    o = rng.integers(1, M_ - s + 1, size=n)
    return Instance(M_, (s,) * n, tuple(o.tolist()), arrivals, name=f"jaillet-{tag}-n{n}-seed{seed}")


def partition(n: Optional[int], seed: int = 0, M: int = 40) -> Instance:
    """A 3-partition YES instance with o_i = 1 and m = n / 3; optimum TCT = 3m(m+1)/2.

    The values w_i = s_i + 1 (a request with o_i = 1 holds w_i in its one round) lie strictly
    between M/4 and M/2 and are drawn as m triples each summing to exactly M, then shuffled;
    why that makes 3m(m+1)/2 the optimum: :mod:`kvsched.theory.families`."""
    n = _need_n("partition", n, 3)
    if n % 3:
        raise GeneratorError(f"family 'partition': n must be a multiple of 3 (n = 3m), got {n}")
    lo, hi = max(2, M // 4 + 1), (M + 1) // 2 - 1  # integers strictly inside (M/4, M/2), s_i >= 1
    if hi < lo or not 3 * lo <= M <= 3 * hi:
        raise GeneratorError(f"family 'partition': M = {M} admits no triple of integers >= 2 strictly inside"
                             " (M/4, M/2) summing to M")
    rng = np.random.default_rng(seed)
    m = n // 3
    w = []
    while len(w) < n:
        a, b = (int(x) for x in rng.integers(lo, hi + 1, size=2))
        c = M - a - b
        if lo <= c <= hi:
            w += [a, b, c]
    w = np.array(w)[rng.permutation(n)]
    return Instance(M, tuple((w - 1).tolist()), (1,) * n, name=f"partition-m{m}-seed{seed}-opt{3 * m * (m + 1) // 2}")


def known_optimum(inst: Instance) -> Optional[int]:
    """The optimum TCT 3m(m+1)/2 if ``inst`` has the ``partition`` form (o_i = 1, arrivals 0,
    n = 3m, every s_i + 1 strictly inside (M/4, M/2)) and the values s_i + 1 split into m
    triples of sum M (:func:`kvsched.theory.families.split_into_triples`); otherwise None."""
    n, M = inst.n, inst.M
    if n % 3 or set(inst.outputs) != {1} or not inst.all_at_zero:
        return None
    w = [s + 1 for s in inst.prompts]
    if not all(4 * x > M and 2 * x < M for x in w) or sum(w) != (n // 3) * M:
        return None
    m = n // 3
    return 3 * m * (m + 1) // 2 if split_into_triples(w, M) is not None else None


def sf_lower_bound(n: Optional[int] = None, seed: int = 0, M: int = 16) -> Instance:
    """The talk's family against SF (Jaillet et al.): with k = sqrt(M), M requests of
    type 1 (s = k - 1, o = 1) then M^1.5 = k^3 requests of type 2 (s = 1, o = 2), all at 0;
    n = M + k^3 is derived (``n`` may be given only to confirm it). M must be a perfect square
    >= 4. The family is deterministic: ``seed`` is accepted for the common signature, unused.
    (docs/model.md §7.2: the talk's claimed ratio (2/13) sqrt(M) is not what the model of §1 gives.)"""
    k = math.isqrt(M)
    if k * k != M or k < 2:
        raise GeneratorError(f"family 'sf-lower-bound': M must be a perfect square >= 4, got {M}")
    size = M + k ** 3
    if n is not None and n != size:
        raise GeneratorError(f"family 'sf-lower-bound': n is derived (n = M + M^1.5 = {size} for M = {M}), got {n}")
    prompts = (k - 1,) * M + (1,) * k ** 3
    outputs = (1,) * M + (2,) * k ** 3
    return Instance(M, prompts, outputs, name=f"sf-lower-bound-M{M}")


FAMILIES: Dict[str, Callable[..., Instance]] = {
    "random": random_family,
    "tiny": tiny,
    "jaillet": jaillet,
    "partition": partition,
    "sf-lower-bound": sf_lower_bound,
}


def generate(family: str, n: Optional[int] = None, seed: int = 0, **kw) -> Instance:
    """``FAMILIES[family](n, seed, **kw)`` with a clear error for an unknown family or option."""
    if family not in FAMILIES:
        raise GeneratorError(f"unknown family '{family}'; known: {', '.join(FAMILIES)}")
    fn = FAMILIES[family]
    allowed = set(fn.__code__.co_varnames[2:fn.__code__.co_argcount])
    extra = set(kw) - allowed
    if extra:
        raise GeneratorError(f"family '{family}' takes no option(s) {sorted(extra)}; options: {sorted(allowed)}")
    return fn(n, seed, **kw)
