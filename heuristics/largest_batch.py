"""Largest batch first: the Sorted-F pipeline with the metric replaced by batch size.

Repeatedly the unordered requests are packed by ascending ``s_i + o_i`` (ties: o, index)
while the batch fits alone when all its members start together (the longest feasible
prefix, :func:`heuristics.selectors.greedy_select`); the batch is appended in ascending o;
then requests are placed exactly as Sorted-F places them (:func:`heuristics.sorted_f.place`).
"""

from __future__ import annotations

import numpy as np

from kvsched.instance import Instance
from kvsched.schedule import Schedule

from .selectors import greedy_select
from .sorted_f import batch_order, place


def largest_batch_order(instance: Instance) -> list:
    return batch_order(instance.s, instance.o, instance.M, greedy_select)


def largest_batch(instance: Instance, backfill: bool = False) -> Schedule:
    """Largest-batch-first schedule (unvalidated; :func:`heuristics.run` validates it)."""
    return place(instance, np.concatenate(largest_batch_order(instance)), backfill=backfill)
