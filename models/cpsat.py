"""CP-SAT model of the KV-cache TEL problem (OR-Tools), built like PyJobShop: one small
function per group of variables and constraints, then the objective.

Conventions. ``p_i`` is the start round of request i; it holds ``s_i + k`` tokens in round
``p_i + k`` for ``k = 1..o_i``. Round ``tau`` is the time interval ``[tau - 1, tau)``, so
the memory of every round is one cumulative of capacity ``M``:

- ``"unit"``: one fixed-size interval ``[p_i + k - 1, p_i + k)`` with demand ``s_i + k`` per
  (request, age k);
- ``"staircase"``: a base interval ``[p_i, p_i + o_i)`` with demand ``s_i + 1`` and nested
  intervals ``[p_i + k - 1, p_i + o_i)`` with demand 1 for ``k = 2..o_i``.

Start windows are cut to ``[a_i, a_i + UB - sum_j o_j]`` (``models.windows``) from the best
heuristic schedule, which is also the solution hint. Requests with equal ``(s, o, a)`` start
in index order. ortools is imported only when a model is built.

Defaults, as measured by ``experiments/bench_cpsat.py`` (``results/bench_cpsat.md``): the
unit and staircase cumulatives perform alike (unit kept); either alone leaves CP-SAT's bound
at the closed-form bound, so a redundant time-indexed layer (Booleans and one linear memory
row per round) is added when small enough: with it n = 12 is proved in 10-25 s, without it
not in 30 s. The "core" families (``core=True``) did not help on heterogeneous prompts and
are off.
"""

from __future__ import annotations

import math
import time

from kvsched.bounds import lower_bound
from kvsched.instance import Instance
from kvsched.result import NOT_REPRODUCIBLE, Result, Termination, objective_of, safety_wall_time
from kvsched.schedule import Schedule

from .structure import core_families, interchangeable_requests, request_classes
from .windows import horizon, start_windows

FORMULATIONS = ("unit", "staircase")
#: ``time_indexed=None`` adds the time-indexed layer only up to this many Booleans x[i,t]
#: (at n = 40 on ``random`` the windows give ~40,000 and CP-SAT's presolve alone outlasts 10 s)
TIME_INDEXED_MAX_BOOLEANS = 6000
#: full-problem CP-SAT workers of ``portfolio="prove"``
PROVING_SUBSOLVERS = ("default_lp", "max_lp")


# ----------------------------------------------------------------------------- variables
def start_variables(model, windows: list) -> list:
    """Start round ``p_i`` in its window."""
    return [model.new_int_var(lo, hi, f"p{i}") for i, (lo, hi) in enumerate(windows)]


# ----------------------------------------------------------------------------- constraints
def unit_intervals(model, instance: Instance, starts: list):
    """One unit interval per (request, age k) with demand ``s_i + k``."""
    intervals, demands = [], []
    for i, (p, s, o) in enumerate(zip(starts, instance.prompts, instance.outputs)):
        for k in range(1, o + 1):
            intervals.append(model.new_fixed_size_interval_var(p + (k - 1), 1, f"u{i}_{k}"))
            demands.append(s + k)
    return intervals, demands


def staircase_intervals(model, instance: Instance, starts: list):
    """A base interval over the whole run (demand ``s_i + 1``) plus one nested interval per
    later age k (demand 1) ending with the run."""
    intervals, demands = [], []
    for i, (p, s, o) in enumerate(zip(starts, instance.prompts, instance.outputs)):
        intervals.append(model.new_fixed_size_interval_var(p, o, f"b{i}"))
        demands.append(s + 1)
        for k in range(2, o + 1):
            intervals.append(model.new_fixed_size_interval_var(p + (k - 1), o - k + 1, f"n{i}_{k}"))
            demands.append(1)
    return intervals, demands


def add_memory(model, instance: Instance, starts: list, formulation: str) -> None:
    """Every round holds at most ``M`` tokens."""
    build = {"unit": unit_intervals, "staircase": staircase_intervals}[formulation]
    intervals, demands = build(model, instance, starts)
    model.add_cumulative(intervals, demands, instance.M)


def identical_classes(instance: Instance) -> list:
    """The groups of interchangeable requests with more than one member
    (:func:`models.structure.interchangeable_requests`)."""
    return [idx for idx in interchangeable_requests(instance) if len(idx) > 1]


def add_symmetry_breaking(model, instance: Instance, starts: list) -> None:
    """Interchangeable requests start in index order: ``p_i <= p_j`` for ``i < j``."""
    for idx in identical_classes(instance):
        for i, j in zip(idx, idx[1:]):
            model.add(starts[i] <= starts[j])


def add_core_cuts(model, instance: Instance, windows: list, starts: list) -> None:
    """Each core family of :func:`models.structure.core_families` (thresholds on ``o``
    only, one class per request) as a cumulative of capacity k (NoOverlap for k = 1) over
    the intervals ``[p_j + h, p_j + o_j)`` (rounds where j is older than h) of its members
    that can get that old (``o_j > h``); families with at most k of those are implied."""
    classes = request_classes(instance, windows, aggregate=False)
    for members, k, h in core_families(classes, instance.M, prompt_thresholds=False):
        holders = [j for j in members if instance.outputs[j] > h]
        if len(holders) <= k:
            continue
        ivs = [model.new_fixed_size_interval_var(starts[j] + h, instance.outputs[j] - h, f"c{j}_{h}_{k}")
               for j in holders]
        if k == 1:
            model.add_no_overlap(ivs)
        else:
            model.add_cumulative(ivs, [1] * len(ivs), k)


def add_time_indexed_rows(model, instance: Instance, windows: list, starts: list) -> dict:
    """A redundant time-indexed layer for CP-SAT's LP relaxation: Booleans ``x[i,t]`` (i
    starts at t), exactly one per request, ``p_i = sum_t t x[i,t]``, and the memory row of
    every round ``tau``: ``sum (s_i + tau - t) x[i,t] <= M`` over ``t in [tau - o_i, tau - 1]``
    (the hindsight IP of Jaillet et al.). The cumulative alone leaves the bound at the
    closed-form value; these rows let CP-SAT prove n = 10-12 (see ``experiments/bench_cpsat.py``)."""
    x = {}
    for i, (lo, hi) in enumerate(windows):
        for t in range(lo, hi + 1):
            x[i, t] = model.new_bool_var(f"x{i}_{t}")
        model.add_exactly_one(x[i, t] for t in range(lo, hi + 1))
        model.add(starts[i] == sum(t * x[i, t] for t in range(lo, hi + 1)))
    s, o = instance.prompts, instance.outputs
    for tau in range(1, horizon(instance, windows) + 1):
        row = [(s[i] + tau - t) * x[i, t]
               for i, (lo, hi) in enumerate(windows)
               for t in range(max(lo, tau - o[i]), min(hi, tau - 1) + 1)]
        if row:
            model.add(sum(row) <= instance.M)
    return x


# ----------------------------------------------------------------------------- objective
def set_objective(model, instance: Instance, starts: list, lb: int, ub: int) -> None:
    """Minimise TEL ``= sum_i (p_i + o_i - a_i)``, known to lie in ``[lb, ub]``."""
    const = sum(instance.outputs) - sum(instance.arrivals)
    total = sum(starts) + const
    model.add(total >= lb)
    model.add(total <= ub)
    model.minimize(total)


def add_hint(model, instance: Instance, starts: list, x: dict, schedule: Schedule, symmetry: bool) -> None:
    """Hint the heuristic starts (and the matching ``x[i,t]``); within each class of
    interchangeable requests they are sorted so the hint also satisfies the symmetry
    breaking."""
    hint = list(schedule.starts)
    if symmetry:
        for idx in identical_classes(instance):
            for i, p in zip(idx, sorted(hint[i] for i in idx)):
                hint[i] = p
    for var, p in zip(starts, hint):
        model.add_hint(var, p)
    for (i, t), var in x.items():
        model.add_hint(var, t == hint[i])


def build_model(instance: Instance, windows: list, formulation: str, symmetry: bool, core: bool,
                time_indexed: bool, lb: int, ub: int):
    """The CP-SAT model, its start variables and the time-indexed Booleans (``{}`` if off)."""
    from ortools.sat.python import cp_model

    if formulation not in FORMULATIONS:
        raise ValueError(f"unknown formulation {formulation!r}; known: {list(FORMULATIONS)}")
    model = cp_model.CpModel()
    starts = start_variables(model, windows)
    add_memory(model, instance, starts, formulation)
    if symmetry:
        add_symmetry_breaking(model, instance, starts)
    if core:
        add_core_cuts(model, instance, windows, starts)
    x = add_time_indexed_rows(model, instance, windows, starts) if time_indexed else {}
    set_objective(model, instance, starts, lb, ub)
    return model, starts, x


# ----------------------------------------------------------------------------- solve
def warm_start(instance: Instance, ub_schedule: Schedule | None) -> Schedule:
    """The upper-bound schedule as one run per request (dropping cancelled runs only frees
    memory), from ``ub_schedule`` or the best heuristic."""
    if ub_schedule is None:
        from kvsched.heuristics import warm_start as best_heuristic

        ub_schedule = best_heuristic(instance)[0]
    return Schedule.from_starts(instance, ub_schedule.starts)


def solve_cpsat(instance: Instance, time_limit: float = 60.0, threads: int = 2, seed: int = 0,
                ub_schedule: Schedule | None = None, window_cut: bool = True,
                formulation: str = "unit", symmetry: bool = True, core: bool = False,
                time_indexed: bool | None = None, portfolio: str = "default", deterministic: bool = False,
                **opts) -> Result:
    """Solve with CP-SAT; the incumbent is the better of the warm start and CP-SAT's solution,
    the bound the better of CP-SAT's and :func:`kvsched.bounds.lower_bound`.
    ``time_indexed=None``: the time-indexed layer is added when it has at most
    :data:`TIME_INDEXED_MAX_BOOLEANS` Booleans. ``portfolio="prove"`` spends every worker
    on full-problem search (``default_lp``, ``max_lp``) instead of CP-SAT's default mix with
    LNS: better for proving once the hint is (near) optimal, worse for finding incumbents.
    ``opts`` are extra CP-SAT parameters (e.g. ``linearization_level=2``). ``deterministic``:
    ``time_limit`` is CP-SAT's deterministic time (``max_deterministic_time``) and the workers
    interleave (``interleave_search``), so a rerun with the same ``threads`` and ``seed`` gives
    the same result; wall time is then only a safety stop (:func:`safety_wall_time`)."""
    import ortools
    from ortools.sat.python import cp_model

    t0 = time.perf_counter()
    hint = warm_start(instance, ub_schedule)
    ub = objective_of(instance, hint)
    lb = lower_bound(instance)
    windows = start_windows(instance, ub, cut=window_cut)
    if time_indexed is None:
        time_indexed = sum(hi - lo + 1 for lo, hi in windows) <= TIME_INDEXED_MAX_BOOLEANS
    model, starts, x = build_model(instance, windows, formulation, symmetry, core, time_indexed, lb, ub)
    add_hint(model, instance, starts, x, hint, symmetry)

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = threads
    solver.parameters.random_seed = seed
    if deterministic:
        solver.parameters.max_deterministic_time = max(0.01, float(time_limit))
        solver.parameters.interleave_search = True
        # one task per worker and batch: the default batches overshoot the limit 5-fold, and a
        # batch of 1 leaves all workers but one idle
        solver.parameters.interleave_batch_size = threads
        solver.parameters.max_time_in_seconds = safety_wall_time(time_limit)
    else:
        solver.parameters.max_time_in_seconds = max(0.01, time_limit - (time.perf_counter() - t0))
    solver.parameters.log_search_progress = False
    if portfolio == "prove":
        solver.parameters.num_full_subsolvers = threads
        solver.parameters.subsolvers.extend(PROVING_SUBSOLVERS)
    elif portfolio != "default":
        raise ValueError(f"unknown portfolio {portfolio!r}; known: ['default', 'prove']")
    for key, value in opts.items():
        setattr(solver.parameters, key, value)
    code = solver.solve(model)
    name = solver.status_name(code)

    result = Result(
        solver="cpsat", termination=Termination.TIME_LIMIT, objective=ub, bound=float(lb), schedule=hint,
        solver_version=f"ortools {ortools.__version__}", threads=threads, seed=seed,
        params={"time_limit": time_limit, "window_cut": window_cut, "formulation": formulation,
                "symmetry": symmetry, "core": core, "time_indexed": time_indexed,
                "portfolio": portfolio, "deterministic": deterministic, **opts},
        solver_status=name, message=f"deterministic time {solver.deterministic_time:.3f}",
        deterministic=deterministic,
    )
    if deterministic:
        result.termination = Termination.WORK_LIMIT
        if code != cp_model.OPTIMAL and solver.wall_time >= 0.99 * solver.parameters.max_time_in_seconds and \
                solver.deterministic_time < 0.99 * solver.parameters.max_deterministic_time:
            result.message += f"; {NOT_REPRODUCIBLE}"  # the wall-clock safety came first
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE, cp_model.UNKNOWN):
        if code != cp_model.UNKNOWN:
            found = Schedule.from_starts(instance, [solver.value(p) for p in starts])
            if objective_of(instance, found) < ub:
                result.schedule = found
        if math.isfinite(solver.best_objective_bound):
            result.bound = max(float(lb), float(solver.best_objective_bound))
        if code == cp_model.OPTIMAL:
            result.termination = Termination.CONVERGED
    else:  # INFEASIBLE contradicts the feasible warm start inside the windows; MODEL_INVALID
        result.termination = Termination.ERROR
        result.message = f"CP-SAT returned {name} although the warm start is feasible in the windows"
    result.wall_time = time.perf_counter() - t0
    return result
