"""The online simulator: information boundary, timeline, cancellation bookkeeping, errors."""

import numpy as np
import pytest

from kvsched.generators import poisson_arrivals
from kvsched.instance import Instance
from kvsched.result import Result, finish
from kvsched.simulator import (
    Decision,
    InformationBoundaryError,
    MemoryOverflowError,
    Policy,
    PolicyError,
    simulate,
    timestamps_to_rounds,
)


class Scripted(Policy):
    """Admits / cancels what a script says at each round; records what it was told."""

    def __init__(self, script):
        self.script = script
        self.finished, self.arrived, self.seen = [], [], []

    def on_arrival(self, ids, view):
        self.arrived.append((view.t, sorted(ids)))

    def on_finish(self, ids, view):
        self.finished.append((view.t, sorted(ids)))

    def on_round(self, view):
        self.seen.append((view.t, {i: view.generated(i) for i in view.running}))
        admit, cancel = self.script.get(view.t, ((), ()))
        later = [r for r in self.script if r > view.t]
        return Decision(admit=admit, cancel=cancel, wake=min(later) if later else None)


class Peeker(Policy):
    def __init__(self, name):
        self.attr = name

    def on_round(self, view):
        getattr(view, self.attr)
        return Decision(admit=range(view.n))


@pytest.mark.parametrize("name", ["o", "outputs", "instance", "lengths"])
def test_reading_true_lengths_raises(name):
    inst = Instance(10, (1, 1), (2, 3))
    with pytest.raises(InformationBoundaryError, match="cannot read"):
        simulate(inst, Peeker(name))


def test_view_exposes_only_public_fields():
    inst = Instance(10, (1, 2), (2, 3), (0, 1), (1, 2), (4, 5))
    got = {}

    class Look(Policy):
        def on_round(self, view):
            got.update(s=view.s.tolist(), a=view.arrivals.tolist(), l=view.lowers.tolist(), u=view.uppers.tolist())
            assert not hasattr(view, "__dict__")  # no place to smuggle the instance in
            with pytest.raises(ValueError):
                view.s[0] = 5  # read-only
            return Decision(admit=[i for i in range(view.n) if view.arrivals[i] <= view.t and i not in view.running
                                   and i not in done])

        def on_finish(self, ids, view):
            done.update(ids)

    done = set()
    simulate(inst, Look())
    assert got == {"s": [1, 2], "a": [0, 1], "l": [1, 2], "u": [4, 5]}


def test_timeline_notifications_and_cancelled_runs():
    # M = 20; r0 (s=2, o=3), r1 (s=1, o=4, arrives at 1)
    inst = Instance(20, (2, 1), (3, 4), (0, 1))
    pol = Scripted({0: ([0], []), 1: ([1], []), 2: ([], [1]), 4: ([1], [])})
    sched = simulate(inst, pol)
    # r1 started at 1, cut after round 2 (held rounds 2), restarted at 4, completes at 8
    assert sched.runs == (((0, 3),), ((1, 2), (4, 8)))
    assert pol.arrived == [(0, [0]), (1, [1])]
    assert pol.finished == [(3, [0]), (8, [1])]
    assert dict(pol.seen)[2] == {0: 2, 1: 1}  # tokens generated so far in the current run
    rep = finish(Result("scripted", schedule=sched), inst).report
    assert (rep.objective, rep.cancelled_runs, rep.wasted_tokens) == (3 + 7, 1, 1)


def test_overflow_is_an_error_of_the_policy():
    # docs/model.md §1.3 worked check: A (7, 3) at 0, B (1, 4) at 1, M = 10: round 2 holds 9 + 2 = 11
    inst = Instance(10, (7, 1), (3, 4))
    with pytest.raises(MemoryOverflowError) as err:
        simulate(inst, Scripted({0: ([0], []), 1: ([1], [])}))
    assert (err.value.round, err.value.memory) == (2, 11)


@pytest.mark.parametrize("script, msg", [
    ({0: ([0], []), 1: ([0], [])}, "not waiting"),
    ({0: ([], [0])}, "not running"),
    ({0: ([1], [])}, "not waiting"),  # request 1 arrives at round 5
    ({}, "admits none"),
])
def test_impossible_decisions(script, msg):
    inst = Instance(10, (1, 1), (2, 2), (0, 5))
    with pytest.raises(PolicyError, match=msg):
        simulate(inst, Scripted(script))


def test_idle_gaps_are_skipped_to_the_next_arrival():
    inst = Instance(10, (1, 1), (2, 2), (0, 10**9))

    class Greedy(Scripted):
        def on_round(self, view):
            super().on_round(view)
            return Decision(admit=[i for i in range(view.n) if view.arrivals[i] == view.t])

    pol = Greedy({})
    assert simulate(inst, pol).runs == (((0, 2),), ((10**9, 10**9 + 2),))
    assert len(pol.seen) < 10


def test_arrival_helpers():
    assert timestamps_to_rounds([5.0, 5.4, 6.0, 7.9], 1.0).tolist() == [0, 0, 1, 2]
    assert timestamps_to_rounds([0.0, 0.25, 0.5], 0.25).tolist() == [0, 1, 2]
    a = poisson_arrivals(20000, 2.0, seed=3)
    assert a[0] == 0 and np.all(np.diff(a) >= 0)
    assert a[-1] / 20000 == pytest.approx(0.5, rel=0.03)  # rate 2 per round
    assert poisson_arrivals(50, 1.0, seed=3).tolist() == poisson_arrivals(50, 1.0, seed=3).tolist()


def test_cli_simulate_json_contract(write_json):
    from helpers import last_json, run_cli

    path = write_json({"M": 6, "requests": [{"prompt": 2, "output": o, "lower": 1, "upper": 4} for o in (1, 1, 2, 3)]})
    out = run_cli("simulate", "hsf", path, "--json")
    assert out.returncode == 0, out.stderr
    d = last_json(out.stdout)
    assert d["objective"] == 11 and d["starts"] == [0, 0, 1, 3] and d["status"] in ("feasible", "optimal")
    assert d["summary"]["objective"] == 11 and d["summary"]["cancellations"] == 0
    for key in ("bound", "gap", "runs", "wall_time"):
        assert key in d
    out = run_cli("simulate", "amin", path, "--predictions", "rough", "--convention", "V1", "--json")
    d = last_json(out.stdout)
    assert d["summary"]["cancellations"] == sum(len(r) - 1 for r in d["runs"])
    bad = run_cli("simulate", "amin", path, "--predictions", "overlap:x")
    assert bad.returncode != 0 and "overlap" in bad.stderr and "Traceback" not in bad.stderr
