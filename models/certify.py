"""``certify``: combine incumbents and bounds from every method into a checked gap.

Order: the closed-form bound, every registered offline heuristic (Sorted-F with a candidate
pool when its exact DP would not fit in memory), then the state-space search (n <=
``SEARCH_MAX_N``, where it measured fastest: results/bench_exact.md), the exhaustive oracle
(n <= 7), CP-SAT
(hinted with the best schedule so far) and the time-indexed MILP (windows cut by the best
UB so far). The best validated incumbent and the best proven bound are combined; "optimal"
is said only when the incumbent equals the rounded-up best bound. Once that holds the
remaining exact solvers are skipped unless ``run_all`` is set.

Time budget. ``time_limit`` is the wall-clock budget of the whole call. The heuristics run
first; the exact solvers share what is left: with ``concurrent`` (default: at least two
cores and two threads, hard limits on) CP-SAT and the MILP run at the same time on
``threads`` split between them, each until the end of the budget; otherwise one after the
other, each taking an equal part of what is left (the oracle, first when n <= 7, half of it
before a concurrent pair). Each child is stopped at its share (plus
:data:`KILL_GRACE`); each record's ``params["budget"]`` is its share.
``milp_time_limit`` / ``cpsat_time_limit`` / ``brute_time_limit`` / ``search_time_limit`` cap
a method's share. The search and the oracle run on their own before CP-SAT and the MILP, each
with an equal part of what is left (half of it before a concurrent pair).

Deterministic mode (``deterministic=True``): the methods stop on work, not time (CP-SAT's
deterministic time; HiGHS's simplex iterations, MIP limit checks and nodes; the search's
expansions; see the solvers), worker counts are fixed and the
methods run one after another, so two runs give the same certificate apart from
timestamps and times; ``time_limit`` is then the work budget in deterministic seconds.

Interruption: setting ``cancel`` (the CLI sets it on Ctrl-C and SIGTERM) or a
``KeyboardInterrupt`` stops the running methods within a second; the certificate is still
returned, with ``termination`` ``interrupted`` and the cut-off methods named in its message.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Optional

from kvsched import heuristics, models
from kvsched.bounds import lower_bound
from kvsched.instance import Instance
from kvsched.result import NOT_REPRODUCIBLE, Result, Termination, is_proven_optimal, safety_wall_time

BRUTE_MAX_N = 7
#: certify runs the state-space search first up to this n (results/bench_exact.md) and M
SEARCH_MAX_N, SEARCH_MAX_M = 30, 32767
#: a hard-limited child needs this long to start and import its solver before its clock runs
CHILD_STARTUP = 1.5
#: seconds after a method's share at which its child is stopped (it then has GRACE_AFTER_TERM to exit)
KILL_GRACE = 0.0
#: seconds kept back at the end of the budget for validation and the report
RESERVE = 0.3
#: candidate pool of Sorted-F when the exact DP over all requests would not fit
SORTED_F_POOL = 200


def _heuristic(name: str, instance: Instance, bound: float) -> Result:
    """Run one heuristic; Sorted-F falls back to a candidate pool when its DP does not fit."""
    try:
        return heuristics.run(name, instance, bound=bound)
    except ValueError as exc:
        if name != "sorted-f":
            raise
        res = heuristics.run(name, instance, bound=bound, pool=SORTED_F_POOL)
        res.message = f"pool={SORTED_F_POOL}: {exc}"
        return res


def _proven(records: list) -> bool:
    """The best validated objective among ``records`` meets their best proven bound."""
    objectives = [r.objective for r in records if r.objective is not None]
    bounds = [r.bound for r in records if r.bound is not None and r.termination is not Termination.ERROR]
    return bool(objectives and bounds) and is_proven_optimal(min(objectives), max(bounds))


def certify(
    instance: Instance,
    time_limit: float = 60.0,
    milp_time_limit: Optional[float] = None,
    cpsat_time_limit: Optional[float] = None,
    threads: int = 2,
    seed: int = 0,
    run_all: bool = False,
    hard_limit: bool = True,
    progress=None,
    deterministic: bool = False,
    concurrent: Optional[bool] = None,
    brute_time_limit: Optional[float] = None,
    search_time_limit: Optional[float] = None,
    cancel: Optional[threading.Event] = None,
    lagrangian: bool = False,
    search_memory_limit: Optional[float] = None,
) -> Result:
    """Certify ``instance``: a :class:`~kvsched.result.Result` (solver ``certify``) holding the
    best validated incumbent and the best proven bound, with one record per method in
    ``records``. ``progress(msg)`` is called after each method if given. ``lagrangian``: also
    compute the Lagrangian bound of the time-indexed LP after the heuristics
    (:mod:`kvsched.models.lagrangian`; the LP's value, fast where the Pyomo model is not).
    ``search_memory_limit``: MB for the search's arrays (default: the search's own)."""
    t0 = time.perf_counter()
    deadline = t0 + time_limit
    cancel = cancel or threading.Event()
    say = progress or (lambda msg: None)
    if concurrent is None:
        concurrent = hard_limit and not deterministic and threads >= 2 and (os.cpu_count() or 1) >= 2
    concurrent = bool(concurrent and hard_limit and not deterministic)
    records: list = [Result(solver="closed-form", bound=float(lower_bound(instance)), deterministic=deterministic)]
    closed = records[0].bound

    def best_incumbent() -> Result:
        return min((r for r in records if r.objective is not None), key=lambda r: r.objective)

    def best_bound() -> Result:
        return max((r for r in records if r.bound is not None and r.termination is not Termination.ERROR),
                   key=lambda r: r.bound)

    def proven() -> bool:
        return _proven(records)

    def skipped(name: str, why: str) -> Result:
        return Result(solver=name, termination=Termination.SKIPPED, message=f"skipped: {why}",
                      deterministic=deterministic)

    interrupted = False
    try:
        for k, name in enumerate(heuristics.HEURISTICS):
            if cancel.is_set():
                raise KeyboardInterrupt
            if k >= 2 and not deterministic and time.perf_counter() > deadline - RESERVE:
                records.append(skipped(name, "no time left in the budget"))  # FCFS and MC-SF always run
                continue
            res = _heuristic(name, instance, closed)
            res.deterministic = deterministic
            records.append(res)
            say(f"{name}: {res.objective}")
    except KeyboardInterrupt:
        interrupted = True

    if lagrangian and not interrupted:
        share = time_limit if deterministic else max(0.1, (deadline - time.perf_counter()) / 4)
        res = models.solve("lagrangian", instance, time_limit=share, threads=threads, seed=seed,
                           ub_schedule=best_incumbent().schedule, deterministic=deterministic)
        res.deterministic = deterministic
        records.append(res)
        say(f"lagrangian: bound {res.bound}")

    # the exact solvers: (name, solver params, cap on the share)
    one_prompt = len(set(instance.prompts)) == 1  # core inequalities pay off only then (results/bench_cpsat.md)
    plan = []
    if instance.n <= SEARCH_MAX_N and instance.M <= SEARCH_MAX_M:
        plan.append(("search", {} if search_memory_limit is None else {"memory_limit": float(search_memory_limit)},
                     search_time_limit))
    if instance.n <= BRUTE_MAX_N:
        plan.append(("brute", {}, brute_time_limit))
    plan.append(("cpsat", {"seed": seed, "core": one_prompt}, cpsat_time_limit))
    plan.append(("milp", {"seed": seed}, milp_time_limit))
    if deterministic:
        for _, params, _ in plan:
            params["deterministic"] = True
    running: dict = {}

    def launch(name: str, params: dict, cap: Optional[float], share: float, workers: int, stop=cancel) -> Result:
        """One exact solver with ``share`` seconds of wall clock (work units when deterministic)."""
        params = dict(params, ub_schedule=best_incumbent().schedule)
        if name != "brute":
            params["threads"] = workers
        share = min(share, cap) if cap is not None else share
        if deterministic:
            limit, kill = share, safety_wall_time(share) + CHILD_STARTUP + KILL_GRACE  # work limit; safety stop
        elif hard_limit:
            limit, kill = max(0.1, share - CHILD_STARTUP), share + KILL_GRACE
        else:
            limit, kill = share, None
        params["time_limit"] = limit
        if hard_limit:
            res = models.solve(name, instance, hard_limit=True, kill_after=kill, cancel=stop, **params)
        else:
            res = models.solve(name, instance, **params)
        res.params = {**{k: v for k, v in params.items() if k != "ub_schedule"}, "budget": round(share, 3)}
        res.deterministic = deterministic
        return res

    def left() -> float:
        return deadline - time.perf_counter() - RESERVE

    todo = [] if interrupted else list(plan)
    try:
        while todo and not interrupted:
            if not run_all and proven():
                records.extend(skipped(name, "already proven optimal") for name, _, _ in todo)
                todo = []
                break
            if not deterministic and left() <= 0.2:
                records.extend(skipped(name, "no time left in the budget") for name, _, _ in todo)
                todo = []
                break
            name, params, cap = todo[0]
            if concurrent and name not in ("brute", "search") and len(todo) > 1:
                batch, todo = todo, []
                workers = max(1, threads // len(batch))
                stop = threading.Event()  # set on interruption, or once optimality is proven
                with ThreadPoolExecutor(max_workers=len(batch)) as pool:
                    share = left()
                    futures = {pool.submit(launch, n, p, c, share, workers, stop): n for n, p, c in batch}
                    running.update({n: time.perf_counter() for n in futures.values()})
                    pending, finished = set(futures), []
                    try:
                        while pending:
                            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                            for fut in done:
                                res = fut.result()
                                finished.append(res)
                                running.pop(res.solver, None)
                                say(f"{res.solver}: {res.status} objective {res.objective} bound {res.bound}")
                            if cancel.is_set():
                                raise KeyboardInterrupt
                            if pending and not run_all and not stop.is_set() and _proven(records + finished):
                                stop.set()
                    except KeyboardInterrupt:
                        cancel.set()
                        stop.set()
                        raise
                    finally:  # in plan order, whatever finished first
                        for fut in futures:
                            res = fut.result()
                            if res.termination is Termination.INTERRUPTED and not cancel.is_set():
                                res.termination = Termination.SKIPPED
                                res.message = f"skipped: stopped after {res.wall_time:.1f} s, optimality proven"
                            records.append(res)
                continue
            todo = todo[1:]
            # one after the other: an equal part of what is left (search / brute before a concurrent pair: half)
            share = time_limit if deterministic else left() / (1 + (1 if concurrent and todo else len(todo)))
            running[name] = time.perf_counter()
            res = launch(name, params, cap, share, threads)
            running.pop(name, None)
            records.append(res)
            say(f"{name}: {res.status} objective {res.objective} bound {res.bound}")
            if res.termination is Termination.INTERRUPTED:
                raise KeyboardInterrupt
    except KeyboardInterrupt:
        interrupted = True
        cancel.set()
        for name in running:  # an in-process solve cut off by Ctrl-C
            if not any(r.solver == name for r in records):
                records.append(Result(solver=name, termination=Termination.INTERRUPTED, message="cut off",
                                      deterministic=deterministic))
        records.extend(skipped(name, "interrupted before it started") for name, _, _ in todo
                       if not any(r.solver == name for r in records))

    inc = best_incumbent() if any(r.objective is not None for r in records) else Result(solver="none")
    bnd = best_bound()
    cut = [r.solver for r in records if r.termination in (Termination.INTERRUPTED, Termination.TIME_LIMIT)]
    message = ""
    if interrupted:
        message = "interrupted; cut off: " + (", ".join(cut) or "none")
    elif cut:
        message = "stopped at their share of the budget: " + ", ".join(cut)
    lost = [r.solver for r in records if NOT_REPRODUCIBLE in r.message]
    if lost:
        message = (message + "; " if message else "") + "not reproducible (wall-clock safety stop): " + ", ".join(lost)
    return Result(
        solver="certify", termination=Termination.INTERRUPTED if interrupted else Termination.CONVERGED,
        objective=inc.objective, bound=bnd.bound, schedule=inc.schedule, report=inc.report,
        wall_time=time.perf_counter() - t0, threads=threads, seed=seed, records=records, instance=instance,
        message=message, deterministic=deterministic,
        params={"time_limit": time_limit, "milp_time_limit": milp_time_limit, "cpsat_time_limit": cpsat_time_limit,
                "brute_time_limit": brute_time_limit, "search_time_limit": search_time_limit,
                "search_memory_limit": search_memory_limit, "run_all": run_all,
                "concurrent": concurrent, "deterministic": deterministic},
    )
