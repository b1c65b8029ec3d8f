"""The exact search of ``docs/model.md`` §5.8 as a DyPDL model solved by didppy (a benchmark
comparator of the numba search, ``results/bench_didp.md``); all arrivals must be 0.

State: ``R[c]`` the waiting requests of class c (requests with equal ``(s, o)``; members start
in index order), int resource variables ``f[r]`` (less is better), ``r = 1..H`` with
``H = max o``, the memory the started requests hold in round ``t + r``, and an element
resource variable ``last`` (less is better), the last class started in the current round, so
that the classes started in one round are enumerated in nondecreasing order. The round ``t``
is not part of the state: the cost still to come depends on ``(R, f)`` only, so states
reached at different rounds merge, and didppy's dominance (same ``R``, ``f`` and ``last``
pointwise ``<=``, cost ``<=``) is the numba search's dominance.

Transitions: ``start c`` (a request of class ``c >= last`` fits: ``f[k] + s_c + k <= M`` for
``k = 1..o_c``) costs ``o_c``; ``advance`` (shift ``f`` by one round, ``last = 0``; only when
something runs, ``f[1] > 0``, since idling on an empty memory only returns to the same state)
costs ``|U|``. A request started at p so pays ``p + o_j = C_j``.

Dual bounds (didppy takes their maximum), on ``sum_U (C_j - t)``:
``simple``: ``sum_U o_j``; ``fluid``: the k-th smallest completion is at least the larger of
the k-th smallest ``o_j`` and the first round by which the free memory ``M - f`` holds the k
smallest volumes (the default: the fastest in wall time on random n = 12 and Jaillet n = 8);
``full`` uses the k-th smallest ``e_j + o_j`` instead of ``o_j``, ``e_j`` the earliest start at
which ``j`` fits alone on top of ``f`` (the numba search's order-statistics bound; it cuts the
expansions but costs more per state than it saves, ``results/bench_didp.md``). The numba
search's Lagrangian bound is not expressed: it reads the root LP's duals at the absolute
round, which the merged state does not carry.
"""

from __future__ import annotations

import time
from typing import Optional

from kvsched.instance import Instance
from kvsched.result import Result, Termination, objective_of
from kvsched.schedule import Schedule

BOUNDS = ("simple", "fluid", "full")


class _Model:
    """The DyPDL model of one instance and the class table to read a solution back."""

    def __init__(self, instance: Instance, bound: str = "fluid"):
        import didppy as dp

        if bound not in BOUNDS:
            raise ValueError(f"field 'bound': one of {BOUNDS}, got {bound!r}")
        if any(a != 0 for a in instance.arrivals):
            raise ValueError("field 'arrivals': the didp model handles all arrivals at 0 only")
        M = instance.M
        for j, (s, o) in enumerate(zip(instance.prompts, instance.outputs)):
            if s + o > M:
                raise ValueError(f"request {j}: s + o = {s + o} > M = {M}, it never fits")
        groups: dict = {}
        for j, key in enumerate(zip(instance.prompts, instance.outputs)):
            groups.setdefault(key, []).append(j)
        self.members = list(groups.values())
        keys = list(groups)
        cs = [k[0] for k in keys]
        co = [k[1] for k in keys]
        C = len(keys)
        H = max(co)
        n = instance.n
        self.C, self.H = C, H
        m = dp.Model(maximize=False, float_cost=False)
        self.model = m
        cls = m.add_object_type(number=C)
        R = [m.add_int_var(target=len(self.members[c]), name=f"R{c}") for c in range(C)]
        f = [m.add_int_resource_var(target=0, less_is_better=True, name=f"f{r}") for r in range(1, H + 1)]
        last = m.add_element_resource_var(object_type=cls, target=0, less_is_better=True, name="last")
        nU = m.add_int_state_fun(sum(R[1:], R[0] + 0), name="nU")
        self.start = []
        for c in range(C):
            fits = [f[k - 1] + (cs[c] + k) <= M for k in range(1, co[c] + 1)]
            eff = [(R[c], R[c] - 1), (last, c)] + [(f[k - 1], f[k - 1] + (cs[c] + k)) for k in range(1, co[c] + 1)]
            t = dp.Transition(name=f"start {c}", cost=co[c] + dp.IntExpr.state_cost(),
                              preconditions=[R[c] >= 1, last <= c] + fits, effects=eff)
            self.start.append(m.add_transition(t))
        eff = [(f[r], f[r + 1]) for r in range(H - 1)] + [(f[H - 1], 0), (last, 0)]
        m.add_transition(dp.Transition(name="advance", cost=nU + dp.IntExpr.state_cost(),
                                       preconditions=[f[0] >= 1], effects=eff))
        m.add_base_case([R[c] == 0 for c in range(C)])
        m.add_dual_bound(sum((R[c] * co[c] for c in range(1, C)), R[0] * co[0]))
        if bound == "simple":
            return
        # free memory of rounds t+1..t+r, r = 1..H (beyond H: H M - sum f + (r - H) M)
        free = []
        acc = None
        for r in range(1, H + 1):
            acc = f[r - 1] + 0 if acc is None else acc + f[r - 1]
            free.append(m.add_int_state_fun(r * M - acc, name=f"free{r}"))
        # k-th smallest volume prefix V_k: classes in volume order
        vol = [cs[c] * co[c] + co[c] * (co[c] + 1) // 2 for c in range(C)]
        vord = sorted(range(C), key=lambda c: (vol[c], c))
        before, wbefore = [], []  # requests / volume of the classes before each in vord
        qacc, wacc = None, None
        for c in vord:
            before.append(0 if qacc is None else qacc)
            wbefore.append(0 if wacc is None else wacc)
            qacc = (R[c] + 0) if qacc is None else m.add_int_state_fun(qacc + R[c])
            wacc = (R[c] * vol[c]) if wacc is None else m.add_int_state_fun(wacc + R[c] * vol[c])
        # the k-th smallest "earliest completion" a_j: o_j (fluid) or e_j + o_j (full)
        if bound == "fluid":
            a = [co[c] for c in range(C)]
        else:
            a = []
            for c in range(C):
                late, e = 1, 0  # late = [e_c > p]: c fits alone at no relative start <= p
                for p in range(H):
                    fit = None
                    for k in range(1, co[c] + 1):
                        if p + k <= H:
                            x = f[p + k - 1] + (cs[c] + k) <= M
                            fit = x if fit is None else fit & x
                    late = m.add_int_state_fun(fit.if_then_else(0, late))
                    e = late + e
                a.append(m.add_int_state_fun(e + co[c], name=f"ecomp{c}"))
        amax = 2 * H if bound == "full" else H  # a_j <= amax
        cnt = []  # cnt[v]: waiting requests with a_j <= v, v < amax
        for v in range(amax):
            if bound == "full":
                terms = [(a[c] <= v).if_then_else(R[c], 0) for c in range(C)]
            else:
                terms = [R[c] for c in range(C) if a[c] <= v]
            cnt.append(m.add_int_state_fun(sum(terms[1:], terms[0] + 0)) if terms else None)
        total = None
        for k in range(1, n + 1):
            # V_k = W_{j-1} + (k - Q_{j-1}) vol_j for the class j with Q_{j-1} < k <= Q_j
            vk = None
            for i, c in enumerate(vord):
                term = ((before[i] < k) & (before[i] + R[c] >= k)).if_then_else(wbefore[i] + (k - before[i]) * vol[c], 0) \
                    if i else (R[c] >= k).if_then_else(k * vol[c], 0)
                vk = term if vk is None else vk + term
            vk = m.add_int_state_fun(vk, name=f"V{k}")
            rk = 1  # round 0 never holds anything
            for r in range(1, H):
                rk = (free[r - 1] < vk).if_then_else(1, 0) + rk
            over = vk - free[H - 1]
            rk = rk + (over > 0).if_then_else((over + (M - 1)) // M, 0)
            ak = 0  # the k-th smallest a_j = the number of v with cnt[v] < k
            for v in range(amax):
                ak = (1 if cnt[v] is None else (cnt[v] < k).if_then_else(1, 0)) + ak
            term = (nU >= k).if_then_else(dp.max(rk, ak), 0)
            total = term if total is None else total + term
        m.add_dual_bound(total)


def _schedule(instance: Instance, mod: _Model, transitions) -> Schedule:
    starts = [None] * instance.n
    nxt = [0] * mod.C
    t = 0
    for tr in transitions:
        if tr.name == "advance":
            t += 1
            continue
        c = int(tr.name.split()[1])
        starts[mod.members[c][nxt[c]]] = t
        nxt[c] += 1
    return Schedule.from_starts(instance, starts)


def solve_didp(instance: Instance, time_limit: Optional[float] = 60.0, solver: str = "CAASDy",
               ub_schedule: Optional[Schedule] = None, bound: str = "fluid", primal_bound: bool = True,
               threads: int = 1, **opts) -> Result:
    """Exact optimum of an instance with all arrivals at 0 by didppy's ``CAASDy`` (A*) or
    ``CABS`` (complete anytime beam search) on the DyPDL model above. ``primal_bound``: give
    the warm start's objective to didppy (states with ``g + h`` above it are pruned). The
    bound is didppy's best dual bound (valid because every dual bound of the model is
    admissible), or the incumbent when didppy reports the search complete; the status is
    derived by :func:`kvsched.result.finish` from incumbent and bound."""
    import didppy as dp

    t0 = time.perf_counter()
    if solver not in ("CAASDy", "CABS"):
        raise ValueError(f"field 'solver': 'CAASDy' or 'CABS', got {solver!r}")
    if ub_schedule is None:
        from kvsched.heuristics import warm_start

        ub_schedule = warm_start(instance)[0]
    ub_schedule = Schedule.from_starts(instance, ub_schedule.starts)
    ub = objective_of(instance, ub_schedule)
    mod = _Model(instance, bound)
    kw = {"time_limit": max(0.01, time_limit - (time.perf_counter() - t0))} if time_limit is not None else {}
    if primal_bound:
        kw["primal_bound"] = ub
    if solver == "CABS":
        kw["threads"] = threads
    sol = getattr(dp, solver)(mod.model, quiet=True, **kw).search()
    schedule, best = ub_schedule, ub
    if sol.cost is not None and sol.cost < ub:
        schedule, best = _schedule(instance, mod, sol.transitions), int(sol.cost)
    complete = sol.is_optimal or (sol.is_infeasible and primal_bound)  # nothing below the warm start
    if complete:
        lb = best
    elif sol.best_bound is not None:
        lb = min(best, int(sol.best_bound))
    else:
        lb = None
    termination = Termination.TIME_LIMIT if sol.time_out else Termination.CONVERGED
    label = "optimal" if sol.is_optimal else "infeasible" if sol.is_infeasible else "time-out" if sol.time_out else "stopped"
    return Result(
        solver="didp", termination=termination, bound=None if lb is None else float(lb), schedule=schedule,
        wall_time=time.perf_counter() - t0, solver_version=f"didppy {dp.__version__} {solver}", threads=threads,
        seed=None, params={"time_limit": time_limit, "solver": solver, "bound": bound, "primal_bound": primal_bound,
                           **opts, "expanded": int(sol.expanded), "generated": int(sol.generated),
                           "classes": mod.C, "incumbent_start": ub, "didp_cost": sol.cost,
                           "didp_best_bound": sol.best_bound},
        message=f"{sol.expanded} expanded, {sol.generated} generated ({solver}, bound {bound})",
        solver_status=label,
    )
