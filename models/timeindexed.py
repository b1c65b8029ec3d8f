"""The time-indexed model of SPEC section 1 (Jaillet et al.'s hindsight IP) as a Pyomo
``ConcreteModel``, split like PyJobShop into variables, constraints and objective.

Conventions. ``x[i,t] = 1`` iff request i starts at round t (processed in rounds
``t+1 .. t+o_i``, holding ``s_i + tau - t`` tokens in round tau). Requests with equal
``(s, o, a)`` are interchangeable; with ``aggregate=True`` they form one class c and the
integer ``y[c,t]`` counts the members starting at t (with ``aggregate=False`` every
request is its own class of size 1, i.e. ``y = x``). Rows:

- assignment: ``sum_t y[c,t] = n_c``;
- memory, for every round tau that can be a completion round (memory only grows between
  completions, so these rounds suffice for integer points):
  ``sum over (c,t) with t < tau <= t+o_c of (s_c + tau - t) y[c,t] <= M``;
- optional "core" rows (all of them, or those a separation loop found violated; see
  :func:`core_families`).

Objective: TEL ``sum (t + o_c - a_c) y[c,t]``. Starts are restricted to the given windows
(:func:`optimality_windows`, or the uncut :func:`models.windows.start_windows`); members of a
class share a window. Aggregation shrinks the model and gives the same LP bound (the
per-request LP maps onto the class LP by summing members). Pyomo is imported inside the
functions (lazy adapter).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from kvsched.bounds import lower_bound
from kvsched.instance import Instance


@dataclass(frozen=True)
class RequestClass:
    """Interchangeable requests: same prompt ``s``, output ``o``, arrival ``a`` and window."""

    s: int
    o: int
    a: int
    window: tuple  # (earliest, latest) start round
    members: tuple  # request indices, ascending

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def starts(self) -> range:
        return range(self.window[0], self.window[1] + 1)


def optimality_windows(instance: Instance, ub: int) -> list:
    """Start windows that keep every optimal schedule when ``ub`` is the value of a feasible
    schedule: the UB cut of :func:`models.windows.start_windows` intersected with

    - the volume cut ``p_i - a_i <= UB - o_i - LB(others)``: the other requests alone form
      a feasible schedule of the sub-instance, so their latencies sum to at least its
      closed-form :func:`kvsched.bounds.lower_bound`;
    - no idle round after the last arrival: if no request runs in a round t > max a, every
      request starting at or after t can start one round earlier (the rounds from t on
      hold only them), so an optimal schedule has ``C_i <= max a + sum_j o_j``.
    """
    from .windows import start_windows

    total, last_arrival = sum(instance.outputs), max(instance.arrivals)
    windows = []
    for i, (lo, hi) in enumerate(start_windows(instance, ub, cut=True)):
        o, a = instance.outputs[i], instance.arrivals[i]
        others = lower_bound(instance.subset([j for j in range(instance.n) if j != i])) if instance.n > 1 else 0
        windows.append((lo, min(hi, a + ub - o - others, last_arrival + total - o)))
    return windows


def request_classes(instance: Instance, windows: list, aggregate: bool = True) -> list:
    """Group requests by ``(s, o, a, window)`` (or one class per request)."""
    groups = defaultdict(list)
    for i in range(instance.n):
        key = (instance.prompts[i], instance.outputs[i], instance.arrivals[i], tuple(windows[i]))
        groups[key if aggregate else (i,) + key].append(i)
    classes = [RequestClass(k[-4], k[-3], k[-2], k[-1], tuple(m)) for k, m in groups.items()]
    return sorted(classes, key=lambda c: c.members[0])


def completion_rounds(classes: list) -> list:
    """Every round in which some class can complete: where the memory rows are needed."""
    return sorted({t + c.o for c in classes for t in c.starts})


def core_families(classes: list, M: int) -> list:
    """Core inequalities ``(L, k, h)``: at every round at most k requests of L have age
    greater than h. L = ``{j : s_j >= s*, o_j >= o*}`` for thresholds on both, and
    ``h = max(0, floor((M - s_L - o_L) / k) - s_L)`` with ``s_L``, ``o_L`` the least prompt
    and output in L. (Take k+1 of them, let i complete first: at C_i the others hold
    ``>= s_L + h + 1`` each and i holds ``>= s_L + o_L``, more than M in total.) Per L only
    the smallest k per distinct h is kept (it dominates); rows with ``h >= max o`` are empty."""
    families, seen_sets = [], set()
    for s_star in sorted({c.s for c in classes}):
        for o_star in sorted({c.o for c in classes}):
            L = tuple(ci for ci, c in enumerate(classes) if c.s >= s_star and c.o >= o_star)
            if not L or L in seen_sets:
                continue
            seen_sets.add(L)
            size = sum(classes[ci].size for ci in L)
            s_L = min(classes[ci].s for ci in L)
            o_L = min(classes[ci].o for ci in L)
            o_max = max(classes[ci].o for ci in L)
            seen_h = set()
            for k in range(1, size):
                h = max(0, (M - s_L - o_L) // k - s_L)
                if h in seen_h or h >= o_max:
                    continue
                seen_h.add(h)
                families.append((L, k, h))
    return families


def add_variables(m, classes: list, relax: bool) -> None:
    import pyomo.environ as pyo

    m.C = pyo.Set(initialize=range(len(classes)))
    m.CT = pyo.Set(dimen=2, initialize=[(ci, t) for ci, c in enumerate(classes) for t in c.starts])
    domain = pyo.NonNegativeReals if relax else pyo.NonNegativeIntegers
    m.y = pyo.Var(m.CT, domain=domain, bounds=lambda _m, ci, t: (0, classes[ci].size))


def core_row_terms(classes: list, row: tuple) -> list:
    """``[(c, t)]`` of core row ``(L, k, h, tau)``: starts of L-members running at tau with
    age ``tau - t > h``, i.e. ``tau - o_c <= t <= tau - h - 1``."""
    L, _, h, tau = row
    terms = []
    for ci in L:
        c = classes[ci]
        terms += [(ci, t) for t in range(max(c.window[0], tau - c.o), min(c.window[1], tau - h - 1) + 1)]
    return terms


def all_core_rows(classes: list, M: int) -> list:
    """Every core row ``(L, k, h, tau)`` (families times completion rounds) that has terms."""
    rows = [fam + (tau,) for fam in core_families(classes, M) for tau in completion_rounds(classes)]
    return [row for row in rows if core_row_terms(classes, row)]


def violated_core_rows(classes: list, M: int, counts: dict, tol: float = 1e-6) -> list:
    """``[(violation, row)]`` of the core rows an (LP) point ``{(c, t): y}`` violates, most
    violated first. Uses prefix sums per class, so each row costs O(|L|)."""
    prefix = []
    for ci, c in enumerate(classes):
        acc, run = {c.window[0] - 1: 0.0}, 0.0
        for t in c.starts:
            run += counts.get((ci, t), 0.0)
            acc[t] = run
        prefix.append(acc)

    def started(ci, lo, hi):  # class-ci mass starting in [lo, hi]
        c = classes[ci]
        lo, hi = max(lo, c.window[0]), min(hi, c.window[1])
        return prefix[ci][hi] - prefix[ci][lo - 1] if lo <= hi else 0.0

    out, rounds = [], completion_rounds(classes)
    for L, k, h in core_families(classes, M):
        for tau in rounds:
            lhs = sum(started(ci, tau - classes[ci].o, tau - h - 1) for ci in L)
            if lhs > k + tol:
                out.append((lhs - k, (L, k, h, tau)))
    return sorted(out, key=lambda vr: -vr[0])


def add_constraints(m, classes: list, M: int, core_rows=()) -> None:
    import pyomo.environ as pyo

    def assign_row(_m, ci):
        c = classes[ci]
        return _linear([1] * len(c.starts), [m.y[ci, t] for t in c.starts]) == c.size

    m.assign = pyo.Constraint(m.C, rule=assign_row)

    rounds = completion_rounds(classes)
    m.R = pyo.Set(initialize=rounds)

    def memory_row(_m, tau):
        coefs, variables = [], []
        for ci, c in enumerate(classes):
            # running at tau: t < tau <= t + o  <=>  tau - o <= t <= tau - 1
            for t in range(max(c.window[0], tau - c.o), min(c.window[1], tau - 1) + 1):
                coefs.append(c.s + tau - t)
                variables.append(m.y[ci, t])
        if not variables:
            return pyo.Constraint.Skip
        return _linear(coefs, variables) <= M

    m.memory = pyo.Constraint(m.R, rule=memory_row)
    m.core = pyo.ConstraintList()
    add_core_rows(m, classes, core_rows)


def add_core_rows(m, classes: list, rows) -> None:
    """Append core rows ``(L, k, h, tau)`` to ``m.core`` (a persistent solver picks them up
    on its next solve)."""
    for row in rows:
        terms = core_row_terms(classes, row)
        if terms:
            m.core.add(_linear([1] * len(terms), [m.y[key] for key in terms]) <= row[1])


def _linear(coefs, variables):
    from pyomo.core.expr.numeric_expr import LinearExpression

    return LinearExpression(constant=0, linear_coefs=list(coefs), linear_vars=list(variables))


def add_objective(m, classes: list) -> None:
    import pyomo.environ as pyo

    m.tel = pyo.Objective(
        expr=sum((t + classes[ci].o - classes[ci].a) * m.y[ci, t] for ci, t in m.CT), sense=pyo.minimize
    )


class ModelTooLarge(ValueError):
    """The model would exceed the nonzero budget (Pyomo needs about 1 kB per nonzero)."""


def estimated_nonzeros(classes: list, core_rows=()) -> int:
    """Upper bound on the constraint nonzeros of :func:`build_model`."""
    nnz = 2 * sum(c.o * len(c.starts) for c in classes)  # memory rows + assignment rows
    return nnz + sum(sum(classes[ci].o for ci in row[0]) for row in core_rows)


def build_model(instance: Instance, windows: list, relax: bool = False, aggregate: bool = True,
                core=False, max_nonzeros: int = 2_000_000):
    """The time-indexed model; ``m.classes`` holds the :class:`RequestClass` list. ``core``:
    False, True (every core row) or a list of core rows ``(L, k, h, tau)``. Raises
    :class:`ModelTooLarge` rather than build more than ``max_nonzeros`` nonzeros."""
    import pyomo.environ as pyo

    classes = request_classes(instance, windows, aggregate)
    core_rows = all_core_rows(classes, instance.M) if core is True else list(core or ())
    nnz = estimated_nonzeros(classes, core_rows)
    if nnz > max_nonzeros:
        raise ModelTooLarge(f"time-indexed model needs about {nnz} nonzeros (> max_nonzeros = {max_nonzeros})")
    m = pyo.ConcreteModel(name=f"timeindexed[{instance.name or instance.digest[:12]}]")
    m.classes = classes
    add_variables(m, classes, relax)
    add_constraints(m, classes, instance.M, core_rows)
    add_objective(m, classes)
    return m


def class_counts(classes: list, starts: list) -> dict:
    """``{(c, t): number of class-c members starting at t}`` for a per-request start list."""
    counts = defaultdict(int)
    for ci, c in enumerate(classes):
        for i in c.members:
            counts[ci, starts[i]] += 1
    return dict(counts)


def disaggregate(classes: list, counts: dict, n: int) -> list:
    """Per-request starts from integer class counts ``{(c, t): y}``: the members of a class
    take the class's starts in ascending order (any assignment is valid, members are
    interchangeable)."""
    starts = [None] * n
    for ci, c in enumerate(classes):
        slots = []
        for t in c.starts:
            slots += [t] * int(round(counts.get((ci, t), 0)))
        if len(slots) != c.size:
            raise ValueError(f"class {ci} has {c.size} members but {len(slots)} starts")
        for i, t in zip(c.members, slots):
            starts[i] = t
    return starts
