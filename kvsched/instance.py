"""The immutable, validated problem instance (docs/model.md §1.1).

Conventions: request ``i`` has prompt size ``s_i >= 1``, output length ``o_i >= 1``,
arrival round ``a_i >= 0`` and an optional prediction interval ``[l_i, u_i]`` with
``1 <= l_i <= u_i``. The KV cache holds ``M`` tokens. A request needs ``s_i + o_i <= M``
to be schedulable at all; construction rejects anything else with an
:class:`InstanceError` that names the field and the request index.
"""

from __future__ import annotations

import hashlib
import json
import numbers
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterable, Optional, Sequence

import numpy as np


class InstanceError(ValueError):
    """Bad input: the message names the field and, where there is one, the request."""


def _as_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            raise InstanceError(f"{what} must be an integer, got float {value!r}")
        raise InstanceError(f"{what} must be an integer, got {value!r}")
    return int(value)


def _where(i: int, name: str) -> str:
    return f"request {i}: field '{name}'"


@dataclass(frozen=True)
class Request:
    """One request: prompt size ``s_i``, output length ``o_i``, arrival round ``a_i`` and an
    optional prediction interval ``[l_i, u_i]``. Build instances from them with
    :meth:`Instance.from_requests` (which validates); ``index`` is the position in an
    instance, set by :meth:`Instance.request`, ``None`` for a free-standing request."""

    prompt: int
    output: int
    arrival: int = 0
    lower: Optional[int] = None
    upper: Optional[int] = None
    index: Optional[int] = None

    def to_dict(self) -> dict:
        """The request's JSON object (docs/model.md §2.1): ``arrival`` 0 and absent bounds left out."""
        d = {"prompt": self.prompt, "output": self.output}
        if self.arrival:
            d["arrival"] = self.arrival
        if self.lower is not None:
            d["lower"] = self.lower
        if self.upper is not None:
            d["upper"] = self.upper
        return d


@dataclass(frozen=True, eq=True)
class Instance:
    """``M`` and per-request tuples ``prompts`` (s), ``outputs`` (o), ``arrivals`` (a),
    ``lowers`` / ``uppers`` (the prediction interval, ``None`` where absent)."""

    M: int
    prompts: tuple
    outputs: tuple
    arrivals: tuple = ()
    lowers: tuple = ()
    uppers: tuple = ()
    name: str = field(default="", compare=False)

    def __post_init__(self):
        M = _as_int(self.M, "field 'M'")
        if M < 1:
            raise InstanceError(f"field 'M' must be >= 1, got {M}")
        n = len(self.prompts)
        if n == 0:
            raise InstanceError("field 'requests': the instance is empty (need at least one request)")
        if len(self.outputs) != n:
            raise InstanceError(f"field 'outputs': {len(self.outputs)} values for {n} prompts")
        arrivals = tuple(self.arrivals) if len(self.arrivals) else (0,) * n
        lowers = tuple(self.lowers) if len(self.lowers) else (None,) * n
        uppers = tuple(self.uppers) if len(self.uppers) else (None,) * n
        for nm, seq in (("arrival", arrivals), ("lower", lowers), ("upper", uppers)):
            if len(seq) != n:
                raise InstanceError(f"field '{nm}': {len(seq)} values for {n} requests")
        fast = _vectorised_check(M, self.prompts, self.outputs, arrivals, lowers, uppers)
        if fast is not None:
            for name, value in zip(("prompts", "outputs", "arrivals", "lowers", "uppers"), fast):
                object.__setattr__(self, name, value)
            object.__setattr__(self, "M", M)
            return
        s_out, o_out, a_out, l_out, u_out = [], [], [], [], []
        for i in range(n):
            s = _as_int(self.prompts[i], _where(i, "prompt"))
            o = _as_int(self.outputs[i], _where(i, "output"))
            a = _as_int(arrivals[i], _where(i, "arrival"))
            if s < 1:
                raise InstanceError(f"{_where(i, 'prompt')} must be >= 1, got {s}")
            if o < 1:
                raise InstanceError(f"{_where(i, 'output')} must be >= 1, got {o}")
            if a < 0:
                raise InstanceError(f"{_where(i, 'arrival')} must be >= 0, got {a}")
            if s + o > M:
                raise InstanceError(
                    f"request {i}: field 'prompt'+'output' = {s} + {o} = {s + o} exceeds M = {M};"
                    " no feasible schedule exists"
                )
            lo, up = lowers[i], uppers[i]
            lo = None if lo is None else _as_int(lo, _where(i, "lower"))
            up = None if up is None else _as_int(up, _where(i, "upper"))
            if lo is not None and lo < 1:
                raise InstanceError(f"{_where(i, 'lower')} must be >= 1, got {lo}")
            if up is not None and up < 1:
                raise InstanceError(f"{_where(i, 'upper')} must be >= 1, got {up}")
            if lo is not None and up is not None and lo > up:
                raise InstanceError(f"{_where(i, 'lower')} = {lo} exceeds field 'upper' = {up}")
            s_out.append(s), o_out.append(o), a_out.append(a), l_out.append(lo), u_out.append(up)
        object.__setattr__(self, "M", M)
        object.__setattr__(self, "prompts", tuple(s_out))
        object.__setattr__(self, "outputs", tuple(o_out))
        object.__setattr__(self, "arrivals", tuple(a_out))
        object.__setattr__(self, "lowers", tuple(l_out))
        object.__setattr__(self, "uppers", tuple(u_out))

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_requests(cls, M: int, requests: Iterable, name: str = "") -> "Instance":
        """Build from :class:`Request` objects or dicts with keys ``prompt``, ``output`` and
        optional ``arrival``, ``lower``, ``upper`` (the JSON schema of docs/model.md §2.1)."""
        reqs = [r.to_dict() if isinstance(r, Request) else r for r in requests]
        known = {"prompt", "output", "arrival", "lower", "upper"}
        for i, r in enumerate(reqs):
            if not isinstance(r, dict):
                raise InstanceError(f"request {i}: expected an object, got {type(r).__name__}")
            for key in ("prompt", "output"):
                if key not in r:
                    raise InstanceError(f"request {i}: field '{key}' is missing")
            extra = set(r) - known
            if extra:
                raise InstanceError(f"request {i}: unknown field(s) {sorted(extra)}")
        return cls(
            M=M,
            prompts=tuple(r["prompt"] for r in reqs),
            outputs=tuple(r["output"] for r in reqs),
            arrivals=tuple(r.get("arrival", 0) for r in reqs),
            lowers=tuple(r.get("lower") for r in reqs),
            uppers=tuple(r.get("upper") for r in reqs),
            name=name,
        )

    def with_intervals(self, lowers: Sequence[Optional[int]], uppers: Sequence[Optional[int]]) -> "Instance":
        """A copy with new prediction intervals (validated like any instance)."""
        return Instance(self.M, self.prompts, self.outputs, self.arrivals, tuple(lowers), tuple(uppers), self.name)

    def subset(self, indices: Sequence[int]) -> "Instance":
        idx = list(indices)
        pick = lambda seq: tuple(seq[i] for i in idx)  # noqa: E731
        return Instance(self.M, pick(self.prompts), pick(self.outputs), pick(self.arrivals),
                        pick(self.lowers), pick(self.uppers), self.name)

    # ----------------------------------------------------------------- views
    @property
    def n(self) -> int:
        return len(self.prompts)

    def __len__(self) -> int:
        return self.n

    def request(self, i: int) -> Request:
        return Request(prompt=self.prompts[i], output=self.outputs[i], arrival=self.arrivals[i],
                       lower=self.lowers[i], upper=self.uppers[i], index=i)

    @property
    def requests(self) -> list:
        return [self.request(i) for i in range(self.n)]

    @cached_property
    def s(self) -> np.ndarray:
        return _frozen(self.prompts)

    @cached_property
    def o(self) -> np.ndarray:
        return _frozen(self.outputs)

    @cached_property
    def a(self) -> np.ndarray:
        return _frozen(self.arrivals)

    @property
    def all_at_zero(self) -> bool:
        return not any(self.arrivals)

    @property
    def has_intervals(self) -> bool:
        return any(x is not None for x in self.lowers) or any(x is not None for x in self.uppers)

    def to_dict(self) -> dict:
        reqs = []
        for i in range(self.n):
            r = {"prompt": self.prompts[i], "output": self.outputs[i]}
            if self.arrivals[i]:
                r["arrival"] = self.arrivals[i]
            if self.lowers[i] is not None:
                r["lower"] = self.lowers[i]
            if self.uppers[i] is not None:
                r["upper"] = self.uppers[i]
            reqs.append(r)
        return {"M": self.M, "requests": reqs}

    @cached_property
    def digest(self) -> str:
        """SHA-256 of the canonical JSON of (M, requests); the name is not part of it."""
        canon = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canon.encode()).hexdigest()


def _vectorised_check(M, prompts, outputs, arrivals, lowers, uppers):
    """Fast path for large instances: the converted tuples when every value is a valid
    integer and no interval is given, else ``None`` (then the per-request loop runs and
    reports the first bad request by name)."""
    if any(x is not None for x in lowers) or any(x is not None for x in uppers):
        return None
    arrs = [np.asarray(v) for v in (prompts, outputs, arrivals)]
    if any(arr.dtype.kind not in "iu" or arr.ndim != 1 for arr in arrs):
        return None
    if any(isinstance(x, (bool, np.bool_)) for seq in (prompts, outputs, arrivals) for x in seq):
        return None
    s, o, a = arrs
    if (s < 1).any() or (o < 1).any() or (a < 0).any() or (s.astype(np.int64) + o > M).any():
        return None
    return (tuple(s.tolist()), tuple(o.tolist()), tuple(a.tolist()), tuple(lowers), tuple(uppers))


def _frozen(values) -> np.ndarray:
    arr = np.asarray(values, dtype=np.int64)
    arr.setflags(write=False)
    return arr
