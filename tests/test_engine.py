"""The admission engine: future-memory check, prefix rule, backfill, FCFS / MC-SF."""

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kvsched import Instance, Schedule, heuristics, validate
from kvsched.heuristics.baselines import fcfs, mcsf
from kvsched.heuristics.engine import FutureProfile


def test_worked_check_mcsf(worked):
    res = heuristics.run("mcsf", worked)
    assert res.schedule.starts == [0, 0, 1, 3]
    assert res.schedule.completions == [1, 1, 3, 6]
    assert res.objective == 11 and res.status == "feasible"


def test_prefix_rule_versus_backfill():
    # A (s=4, o=2), B (s=5, o=3), C (s=1, o=4), M = 10, worked out by hand:
    # prefix: B blocks C at t=0; B starts at 2, C at 4 -> completions 2, 5, 8.
    # backfill: C starts beside A at 0; B must wait for C -> completions 2, 7, 4.
    inst = Instance(10, (4, 5, 1), (2, 3, 4))
    assert mcsf(inst).starts == [0, 2, 4]
    assert mcsf(inst, backfill=True).starts == [0, 4, 0]
    assert validate(inst, mcsf(inst)).tct == 15
    assert validate(inst, mcsf(inst, backfill=True)).tct == 13


def test_fcfs_order_and_arrivals():
    # FCFS admits by arrival; request 1 arrives at 2 and must wait for request 0 (s=6).
    inst = Instance(10, (6, 3, 1), (3, 1, 1), arrivals=(0, 2, 5))
    sched = fcfs(inst)
    # t=0: 0 starts. t=2: round 3 holds 9 + (3+1) = 13 > 10 -> wait; t=3: 0 done, 1 starts.
    assert sched.starts == [0, 3, 5]
    assert validate(inst, sched).objective == 3 + 2 + 1


def _brute_fits(M, running, t, s, o):
    """The definition: memory at every round t+1.. with the candidate added."""
    items = running + [(t, t + o, s)]
    horizon = max(c for _, c, _ in items)
    for r in range(t + 1, horizon + 1):
        if sum(si + r - p for p, c, si in items if p < r <= c) > M:
            return False
    return True


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_future_profile_matches_definition(data):
    M = data.draw(st.integers(5, 40))
    t = data.draw(st.integers(0, 6))
    running = []
    prof = FutureProfile(M)
    for j in range(data.draw(st.integers(0, 6))):
        p = data.draw(st.integers(0, t))
        c = data.draw(st.integers(t + 1, t + 8))
        s = data.draw(st.integers(1, 6))
        running.append((p, c, s))
        prof.add(j, c, s - p)
    # the engine only ever holds a running set that is feasible on its own
    assume(not running or _brute_fits(M, running[:-1], running[-1][0], running[-1][2],
                                      running[-1][1] - running[-1][0]))
    s = data.draw(st.integers(1, 6))
    o = data.draw(st.integers(1, 8))
    assert prof.fits(t, s, o) == _brute_fits(M, running, t, s, o)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.booleans(), st.booleans())
def test_engine_schedules_validate(seed, arrivals, backfill):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 30))
    M = int(rng.integers(12, 60))
    s = rng.integers(1, 6, n)
    o = rng.integers(1, 7, n)
    a = rng.integers(0, 15, n) if arrivals else np.zeros(n, int)
    inst = Instance(M, tuple(s), tuple(o), tuple(a))
    for fn in (fcfs, mcsf):
        sched = fn(inst, backfill=backfill)
        assert validate(inst, sched).feasible


def test_mcsf_is_prefix_greedy():
    """Starts follow the priority order, and whenever request i was the head of the queue
    one round before its start, starting it then would have overflowed memory."""
    rng = np.random.default_rng(3)
    inst = Instance(30, tuple(rng.integers(1, 6, 25)), tuple(rng.integers(1, 9, 25)))
    starts = mcsf(inst).starts
    order = sorted(range(inst.n), key=lambda i: (inst.outputs[i], i))
    assert all(starts[a] <= starts[b] for a, b in zip(order, order[1:]))
    checked = 0
    for k, i in enumerate(order):
        t = starts[i] - 1
        if t < 0 or (k and starts[order[k - 1]] > t):
            continue  # i was not the head of the queue at round t
        before = [j for j in order[:k] if starts[j] <= t]
        sub = inst.subset(before + [i])
        trial = Schedule.from_starts(sub, [starts[j] for j in before] + [t])
        assert not validate(sub, trial).feasible
        checked += 1
    assert checked >= 5
