"""``demo-baselines``: FCFS and MC-SF on the ``random`` family against the closed-form bound.

A small end-to-end exercise of the runner (cache, executors, tables, plots), not a result
of the papers: the bound is :func:`kvsched.bounds.lower_bound` (sorted volume), so the gap
overstates how far the heuristics are from the optimum.
"""

from __future__ import annotations

from kvsched import heuristics
from kvsched.bounds import lower_bound

from .runner import row_from_result
from .spec import Algorithm, Case, Experiment, Grid


def task(case: Case, algorithm: Algorithm) -> dict:
    """Run one heuristic; the bound is the closed-form lower bound (status optimal if met)."""
    return row_from_result(heuristics.run(algorithm.name, case.instance, bound=lower_bound(case.instance),
                                          **algorithm.params))


EXPERIMENT = Experiment(
    name="demo-baselines",
    description="FCFS and MC-SF (with and without backfill) on the `random` family "
                "(M = 40, s, o uniform on 1..11, all arrivals 0) against the closed-form sorted-volume bound.",
    task=task,
    algorithms=(Algorithm("fcfs"), Algorithm("mcsf"), Algorithm("mcsf", {"backfill": True})),
    grids=(Grid("random", sizes=(10, 20, 50, 100, 200, 500), seeds=tuple(range(10))),),
    quick_grids=(Grid("random", sizes=(10, 20, 50), seeds=(0, 1, 2)),),
)
