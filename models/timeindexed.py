"""The time-indexed model of docs/model.md §5.3 (Jaillet et al.'s hindsight IP) as a Pyomo
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
- optional "core" rows (all of them, or those a separation loop found violated): the
  families of :func:`models.structure.core_families` at every completion round.

Objective: TEL ``sum (t + o_c - a_c) y[c,t]``. Starts are restricted to the given windows
(:func:`optimality_windows`, or the uncut :func:`models.windows.start_windows`); members of a
class share a window. Aggregation shrinks the model and gives the same LP bound (the
per-request LP maps onto the class LP by summing members). Pyomo is imported inside the
functions (lazy adapter).
"""

from __future__ import annotations

from collections import defaultdict

from kvsched.bounds import lower_bound
from kvsched.instance import Instance

from .structure import core_families, request_classes


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


def completion_rounds(classes: list) -> list:
    """Every round in which some class can complete: where the memory rows are needed."""
    return sorted({t + c.o for c in classes for t in c.starts})


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
    """The time-indexed model; ``m.classes`` holds the :class:`~models.structure.RequestClass` list. ``core``:
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
