"""Prediction generators: each returns a copy of the instance with ``lowers`` / ``uppers``
set (docs/model.md §1.7; Chen, Ye, Zhou's experiments; Jaillet et al.'s point predictions).

- :func:`exact`: ``l_i = u_i = o_i``.
- :func:`common_interval`: one interval for all, ``[1, 1000]`` by default ("rough").
- :func:`buckets`: the fixed bucket holding ``o_i``: ``[1,100], [101,200], ..., [901,1000]``
  (a length above the last bucket gets the last bucket: a wrong interval, on purpose kept).
- :func:`overlapping`: ``[(1 - x) o_i, (1 + x) o_i]`` rounded outward (floor the lower end,
  ceil the upper end, in exact rational arithmetic), lower end at least 1.
- :func:`noisy_points`: point predictions ``l_i = u_i = max(1, round(o_i (1 + bias) f_i))``
  with ``f_i ~ U[1 - error, 1 + error]`` (multiplicative noise, over- and under-estimates).
- :func:`from_columns`: user-supplied columns as intervals or points; :func:`trace_columns`
  reads them from the CSV a trace was loaded from (``kvsched.traces.load_trace``).
- :func:`parse`: the CLI spelling (``instance``, ``exact``, ``rough``, ``buckets``,
  ``overlap:X``, ``noise:E``).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Optional, Sequence

import numpy as np

from .instance import Instance, InstanceError


def exact(instance: Instance) -> Instance:
    return instance.with_intervals(instance.outputs, instance.outputs)


def common_interval(instance: Instance, lower: int = 1, upper: int = 1000) -> Instance:
    return instance.with_intervals((lower,) * instance.n, (upper,) * instance.n)


def buckets(instance: Instance, width: int = 100, top: int = 1000) -> Instance:
    """Bucket ``k = min((o_i - 1) // width, top // width - 1)``: ``[k width + 1, (k + 1) width]``."""
    k = np.minimum((instance.o - 1) // width, top // width - 1)
    return instance.with_intervals((k * width + 1).tolist(), ((k + 1) * width).tolist())


def overlapping(instance: Instance, x: float) -> Instance:
    """``[floor((1 - x) o_i), ceil((1 + x) o_i)]``, lower end at least 1; ``x`` is read as the
    decimal it prints as (``0.1`` is exactly 1/10, so ``o = 10`` gives ``[9, 11]``)."""
    fx = Fraction(str(x))
    if not 0 <= fx <= 1:
        raise InstanceError(f"overlap width x must be in [0, 1], got {x}")
    num, den = fx.numerator, fx.denominator
    o = instance.o
    lo = np.maximum(1, ((den - num) * o) // den)
    hi = -((-(den + num) * o) // den)
    return instance.with_intervals(lo.tolist(), hi.tolist())


def noisy_points(instance: Instance, error: float, bias: float = 0.0, seed: int = 0) -> Instance:
    """Point predictions with multiplicative noise ``U[1 - error, 1 + error]`` times
    ``1 + bias`` (``bias > 0`` over-estimates on average, ``< 0`` under-estimates)."""
    if not 0 <= error < 1:
        raise InstanceError(f"noise error must be in [0, 1), got {error}")
    f = np.random.default_rng(seed).uniform(1 - error, 1 + error, instance.n)
    pred = np.maximum(1, np.rint(instance.o * (1 + bias) * f)).astype(np.int64).tolist()
    return instance.with_intervals(pred, pred)


def from_columns(instance: Instance, lower: Sequence, upper: Optional[Sequence] = None) -> Instance:
    """User-supplied predictions, e.g. columns of a trace (``upper`` absent: point
    predictions). Values are rounded to integers, outward for intervals, at least 1."""
    lo = np.asarray(lower, dtype=float)
    up = lo if upper is None else np.asarray(upper, dtype=float)
    if lo.shape != (instance.n,) or up.shape != (instance.n,):
        raise InstanceError(f"prediction columns need {instance.n} values, got {lo.size} and {up.size}")
    if upper is None:
        lo = up = np.rint(lo)
    lo = np.maximum(1, np.floor(lo)).astype(np.int64)
    up = np.maximum(1, np.ceil(up)).astype(np.int64)
    return instance.with_intervals(lo.tolist(), up.tolist())


def trace_columns(load, lower: str, upper: Optional[str] = None) -> Instance:
    """Predictions stored as columns of the trace file a :class:`kvsched.traces.TraceLoad`
    came from (``upper`` absent: a point-prediction column), for the rows it selected."""
    import pandas as pd

    cols = [lower] + ([upper] if upper else [])
    df = pd.read_csv(load.source, encoding="utf-8-sig", skipinitialspace=True)
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InstanceError(f"{load.source}: no prediction column(s) {missing}; columns: {list(df.columns)}")
    rows = np.asarray(load.rows)
    up = None if upper is None else df[upper].to_numpy()[rows]
    return from_columns(load.instance, df[lower].to_numpy()[rows], up)


def fill_exact(instance: Instance) -> Instance:
    """The instance's own intervals; a request with no interval at all gets the exact one
    ``[o_i, o_i]``. A request giving one side only gets the model's bound on the other
    (``l = 1``, ``u = M - s_i``), so its true length never leaks into the prediction."""
    lo, up = [], []
    for x, y, o, s in zip(instance.lowers, instance.uppers, instance.outputs, instance.prompts):
        if x is None and y is None:
            lo.append(o), up.append(o)
        else:
            lo.append(1 if x is None else x), up.append(instance.M - s if y is None else y)
    return instance.with_intervals(lo, up)


SPELLINGS = "instance, exact, rough, buckets, overlap:X, noise:E"


def parse(spec: str, instance: Instance, seed: int = 0) -> Instance:
    """Apply a prediction setting named as on the command line."""
    name, _, arg = spec.partition(":")
    try:
        if name == "instance" and not arg:
            return fill_exact(instance)
        if name == "exact" and not arg:
            return exact(instance)
        if name == "rough" and not arg:
            return common_interval(instance)
        if name == "buckets" and not arg:
            return buckets(instance)
        if name == "overlap" and arg:
            return overlapping(instance, float(arg))
        if name == "noise" and arg:
            return noisy_points(instance, float(arg), seed=seed)
    except ValueError as exc:
        if isinstance(exc, InstanceError):
            raise
        raise InstanceError(f"--predictions {spec!r}: {exc}") from None
    raise InstanceError(f"--predictions {spec!r} is not one of: {SPELLINGS}")
