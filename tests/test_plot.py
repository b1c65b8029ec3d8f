"""Schedule pictures: PNG files, cancelled runs visibly cut, memory profile against M, CLI."""

import numpy as np
from click.testing import CliRunner
from helpers import run_cli

from kvsched import Instance, Schedule, heuristics
from kvsched.experiments.cli import cli
from kvsched.plot import plot_schedule, schedule_figure
from kvsched.validator import memory_profile

PNG = b"\x89PNG\r\n\x1a\n"
# request 1 is cut after round 2 and restarted at 3; request 2 arrives at 1 (hand-checked feasible:
# memory by round 1..7 is 7, 9, 5, 6, 8, 6, 7 <= M = 10)
CUT_INST = Instance(10, (2, 3, 1), (3, 4, 2), (0, 0, 1))
CUT_SCHED = Schedule((((0, 3),), ((0, 2), (3, 7)), ((3, 5),)))


def test_png_written_for_a_schedule_with_a_cancelled_run(tmp_path):
    path = plot_schedule(CUT_INST, CUT_SCHED, tmp_path / "cut.png")
    data = path.read_bytes()
    assert data[:8] == PNG and len(data) > 10_000


def test_figure_marks_the_cut_and_draws_the_validator_profile():
    fig = schedule_figure(CUT_INST, CUT_SCHED)
    gantt, mem_ax = fig.axes
    cuts = [line for line in gantt.lines if line.get_marker() == "x"]
    assert len(cuts) == 1 and list(cuts[0].get_xdata()) == [2] and list(cuts[0].get_ydata()) == [1]
    bars = {c.get_gid(): c for c in gantt.collections}
    assert bars["cancelled runs"].get_hatch() == "///" and bars["runs"].get_hatch() is None

    def spans(coll):  # (request, first round held - 1, last round held) of every bar
        return sorted((round(p.vertices[:, 1].mean()), p.vertices[:, 0].min(), p.vertices[:, 0].max())
                      for p in coll.get_paths())

    assert spans(bars["cancelled runs"]) == [(1, 0, 2)]
    assert spans(bars["runs"]) == [(0, 0, 3), (1, 3, 7), (2, 3, 5)]
    outline = mem_ax.lines[0]  # level of round t drawn on [t-1, t)
    assert list(outline.get_xdata()) == list(range(8))
    assert list(outline.get_ydata()[:-1]) == [7, 9, 5, 6, 8, 6, 7] == list(memory_profile(CUT_INST, CUT_SCHED)[1:])
    assert any(list(line.get_ydata()) == [10, 10] for line in mem_ax.lines)  # the limit M
    assert "overflow" not in {c.get_gid() for c in mem_ax.collections}
    assert "TEL = 14" in fig.get_suptitle() and "cancelled runs 1" in fig.get_suptitle()


def test_infeasible_schedule_is_drawn_with_the_overflow_in_the_title(tmp_path):
    inst = Instance(10, (7, 1), (3, 4))  # docs/model.md §1.3 worked check: B started at 1 overflows in round 2
    sched = Schedule.from_starts(inst, [0, 1])
    fig = schedule_figure(inst, sched)
    assert "INFEASIBLE" in fig.get_suptitle() and "round 2 holds 11" in fig.get_suptitle()
    assert {c.get_gid() for c in fig.axes[1].collections} == {"memory", "overflow"}
    assert plot_schedule(inst, sched, tmp_path / "bad.png").read_bytes()[:8] == PNG


def test_large_schedule_plots(tmp_path):
    rng = np.random.default_rng(0)
    inst = Instance(40, tuple(rng.integers(1, 12, 300).tolist()), tuple(rng.integers(1, 12, 300).tolist()))
    res = heuristics.run("mcsf", inst)
    assert plot_schedule(inst, res.schedule, tmp_path / "big.png").read_bytes()[:8] == PNG


def test_cli_plot(tmp_path, write_json):
    ipath = write_json(CUT_INST.to_dict(), "inst.json")
    spath = write_json({"runs": CUT_SCHED.runs_list()}, "sched.json")
    out = tmp_path / "g.png"
    res = run_cli("plot", ipath, spath, "--out", out)
    assert res.returncode == 0, res.stderr
    assert "1 cancelled runs, TEL 14" in res.stdout
    assert out.read_bytes()[:8] == PNG

    bad = write_json({"runs": [[[0, 3]]]}, "bad.json")
    res = CliRunner().invoke(cli, ["plot", ipath, bad, "--out", str(tmp_path / "x.png")])
    assert res.exit_code == 2  # bad input: the one exit code of every command
    assert res.output.strip().splitlines()[-1] == "Error: field 'runs': expected a list of 3 run lists"
    assert not (tmp_path / "x.png").exists()


def test_a_given_title_keeps_the_objective_line():
    fig = schedule_figure(CUT_INST, CUT_SCHED, title="my run")
    first, second = fig.get_suptitle().split("\n")
    assert first == "my run" and "TEL = 14" in second and "n = 3, M = 10" in second


def test_run_and_certify_plots_state_the_objective_and_bound(tmp_path, write_json, monkeypatch):
    """``run --plot`` and ``certify --plot`` titles carry the validated TEL, as ``plot`` does."""
    import kvsched.plot as P

    titles = []
    real = P.schedule_figure

    def spy(instance, schedule, title=None):
        fig = real(instance, schedule, title)
        titles.append(fig.get_suptitle())
        return fig

    monkeypatch.setattr(P, "schedule_figure", spy)
    path = write_json({"M": 6, "requests": [{"prompt": 2, "output": o} for o in (1, 1, 2, 3)]})
    res = CliRunner().invoke(cli, ["run", "mcsf", path, "--plot", str(tmp_path / "r.png")])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(cli, ["certify", path, "--time-limit", "5", "--plot", str(tmp_path / "c.png")])
    assert res.exit_code == 0, res.output
    run_title, cert_title = titles
    assert run_title.startswith("mcsf, proven bound 10") and "TEL = 11" in run_title
    assert cert_title.startswith("certify: optimal, best schedule by") and "bound 11 by search" in cert_title
    assert "TEL = 11" in cert_title
