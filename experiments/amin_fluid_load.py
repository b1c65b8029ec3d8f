"""``amin-fluid-load``: the load dimension of ``amin-fluid``. At fixed ``m_factor`` and ``L`` the
number of requests per memory-full, ``RHO = n1 / m_factor``, is raised: the quadratic form
describes the regime where the pairwise delays dominate every request's own processing, i.e.
many memory-fulls of requests; at finite load the linear terms pull the ratio towards 1.

Same instances, task and summary as :mod:`experiments.amin_fluid`; readings W and V1 (the
in-round order does not move the limit there), tie seeds :data:`SEEDS`. The rows at
``RHO = 60`` are those of ``amin-fluid`` (same instance, same cache key when both run).
"""

from __future__ import annotations

from . import amin_fluid as af
from .spec import Algorithm, Experiment, Grid

US = af.US
L = 12
M_FACTOR = 32
RHOS = (30, 120, 240)
SEEDS = af.SEEDS
READINGS = ("W", "V1")
QUICK = {"us": (2,), "rhos": (10, 40), "m_factor": 4}


def grids(us, rhos, m_factor) -> tuple:
    return tuple(Grid("amin-fluid", (rho * m_factor,), (0,), {"u": u, "L": L, "m_factor": m_factor, "s": af.S})
                 for u in us for rho in rhos)


EXPERIMENT = Experiment(
    name="amin-fluid-load",
    description=(f"A_min / H-SF on the amin-fluid instances at L = {L}, m_factor = {M_FACTOR}, u in {list(US)}, with the "
                 f"load n1 / m_factor in {list(RHOS)} (amin-fluid has 60); readings {', '.join(READINGS)}, tie seeds "
                 f"{list(SEEDS)}."),
    task=af.task,
    generate=af.generate,
    algorithms=(Algorithm("hsf"),) + tuple(Algorithm("amin", {"convention": c, "order": "admit-first", "seed": k})
                                           for c in READINGS for k in SEEDS),
    grids=grids(US, RHOS, M_FACTOR),
    quick_grids=grids(QUICK["us"], QUICK["rhos"], QUICK["m_factor"]),
    version=1,
    summarize=af.summarize,
    plot=None,
)
