"""The experiments' summary figures, drawn from the committed tables: legends outside the bars,
plain log-axis ticks, the bound named, MC-SF's intervals visible."""

from __future__ import annotations

import pandas as pd
import pytest
from matplotlib.colors import to_rgba
from matplotlib.patches import Rectangle

from kvsched.experiments import jaillet_synthetic as J
from kvsched.experiments import wang_workloads as W
from kvsched.experiments.report import plain_log_axis
from kvsched.paths import REPO_ROOT

RESULTS = REPO_ROOT / "results"


def tick_texts(ax) -> list:
    return [t.get_text() for t in ax.get_yticklabels(minor=False)] + [t.get_text() for t in ax.get_yticklabels(minor=True)]


def test_plain_log_axis_labels():
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    ax.plot([0, 1], [1.02, 9.6])
    plain_log_axis(ax, [1.02, 9.6])
    assert list(ax.get_yticks()) == [1, 2, 5, 10]
    fig = ax.figure
    fig.canvas.draw()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1", "2", "5", "10"]
    ax2 = Figure().subplots()
    plain_log_axis(ax2, [1.0, 1.6])  # a narrow range gets finer plain ticks
    assert list(ax2.get_yticks()) == [1, 1.05, 1.1, 1.2, 1.3, 1.4, 1.5, 1.7]
    assert list(ax2.get_yticks(minor=True)) == []


@pytest.mark.parametrize("mode", ["", "quick"])
def test_wang_summary_figure(mode):
    df = pd.read_csv(RESULTS / "wang-workloads" / mode / "results.csv")
    fig = W.summary_figure(df)
    fig.canvas.draw()
    top, bottom = fig.axes
    assert top.get_legend() is None and bottom.get_legend() is None and len(fig.legends) == 1
    legend_box = fig.legends[0].get_window_extent()
    for ax in (top, bottom):  # the legend overlaps no panel, so it covers no bar
        assert not legend_box.overlaps(ax.get_window_extent())
    assert bottom.get_yscale() == "log"
    labels = [t.get_text() for t in bottom.get_yticklabels()]
    assert labels and all("10^" not in s and "times" not in s and "\\" not in s for s in labels)
    assert "1" in labels and all(float(s) > 0 for s in labels)
    groups = [t.get_text() for t in top.get_xticklabels()] + [t.get_text() for t in bottom.get_xticklabels()]
    assert groups and all("\nbound: " in g for g in groups)
    assert {g.rsplit("bound: ", 1)[1] for g in groups} >= {"lp", "closed-form"}


@pytest.mark.parametrize("mode", ["", "quick"])
def test_jaillet_intervals_are_coloured_bars(mode):
    df = pd.read_csv(RESULTS / "jaillet-synthetic" / mode / "results.csv")
    fig = J.summary_figure(df)
    colours = {to_rgba(c)[:3] for c in ("tab:green", "tab:red", "tab:orange")}
    for ax, model in zip(fig.axes, (1, 2)):
        part = df[(df["model"] == model) & (df["status"] != "error")].reset_index(drop=True)
        bars = sorted((p for p in ax.patches if isinstance(p, Rectangle)), key=lambda p: p.get_x())
        assert len(bars) == len(part)
        for bar, row in zip(bars, part.itertuples()):
            assert bar.get_y() == pytest.approx(row.mcsf_over_best)
            assert bar.get_y() + bar.get_height() == pytest.approx(max(row.mcsf_over_ceil_bound,
                                                                      row.mcsf_over_best * 1.004))
            assert to_rgba(bar.get_facecolor())[:3] in colours and bar.get_facecolor()[3] >= 0.5
        assert ax.get_yscale() == "log" and all("10^" not in s for s in tick_texts(ax))
        assert "LB by" in ax.get_title() and "paper mean" in ax.get_title()
