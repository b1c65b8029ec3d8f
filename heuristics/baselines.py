"""FCFS and shortest-first (SF / MC-SF / H-SF) on the shared admission engine.

FCFS: priority ``(a_i, i)``. MC-SF (Jaillet et al.): priority ``(o_i, a_i, i)`` with the
lengths known; with true lengths this is also Chen et al.'s hindsight benchmark H-SF.
"""

from __future__ import annotations

from kvsched.instance import Instance
from kvsched.schedule import Schedule

from .engine import admission_schedule


def fcfs(instance: Instance, backfill: bool = False) -> Schedule:
    a = instance.arrivals
    return admission_schedule(instance, lambda i: (a[i], i), backfill=backfill)


def mcsf(instance: Instance, backfill: bool = False) -> Schedule:
    a, o = instance.arrivals, instance.outputs
    return admission_schedule(instance, lambda i: (o[i], a[i], i), backfill=backfill)
