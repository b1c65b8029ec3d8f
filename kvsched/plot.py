"""Pictures of one schedule: a Gantt chart of every run above the memory profile.

A run ``(p, c)`` holds memory in rounds ``p+1..c``; it is drawn as a bar over ``(p, c]``,
and round ``t``'s memory as a step over ``(t-1, t]``, so bars and steps line up. Completing
runs are solid blue; cancelled runs are hatched red with an ``x`` at the cut (end of round
``c``); arrivals, when not all 0, are grey ticks. The memory profile comes from
:func:`kvsched.validator.memory_profile` (the plain definition), with the limit ``M`` dashed
and rounds above it in red. Infeasible schedules are drawn too (the title says why), which
is what one wants when debugging a policy. matplotlib's ``Figure`` is used directly (Agg
canvas): no pyplot state, no display needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from .instance import Instance
from .schedule import Schedule
from .validator import memory_profile, validate

DONE, CUT = "tab:blue", "tab:red"


def schedule_figure(instance: Instance, schedule: Schedule, title: Optional[str] = None) -> Figure:
    """The Gantt chart (top) and memory profile (bottom) of ``schedule`` as a Figure. The
    title always states n, M and the validated TEL (or why the schedule is infeasible);
    ``title``, if given, is shown above that line."""
    n = instance.n
    gantt_height = min(9.0, 1.2 + 0.14 * n)
    fig = Figure(figsize=(11, gantt_height + 2.6), layout="constrained")
    gantt, mem_ax = fig.subplots(2, 1, sharex=True, height_ratios=[gantt_height, 2.4])
    _draw_runs(gantt, instance, schedule)
    _draw_memory(mem_ax, instance, schedule)
    facts = _default_title(instance, schedule)
    fig.suptitle(f"{title}\n{facts}" if title else facts, fontsize="medium")
    return fig


def plot_schedule(instance: Instance, schedule: Schedule, path, title: Optional[str] = None) -> Path:
    """Write the PNG of :func:`schedule_figure` to ``path``; returns the path."""
    path = Path(path)
    schedule_figure(instance, schedule, title).savefig(path, dpi=110)
    return path


def _bars(runs, height: float = 0.7) -> np.ndarray:
    """Rectangles over ``(p, c]`` at height ``i`` as an array of shape (runs, 4, 2)."""
    i, p, c = (np.asarray(v, dtype=float) for v in zip(*runs))
    lo, hi = i - height / 2, i + height / 2
    return np.stack([np.stack([p, lo], 1), np.stack([p, hi], 1), np.stack([c, hi], 1), np.stack([c, lo], 1)], 1)


def _draw_runs(ax, instance: Instance, schedule: Schedule) -> None:
    n = instance.n
    done = [(i, p, c) for i, rs in enumerate(schedule.runs) for p, c in rs[-1:]]
    cut = [(i, p, c) for i, rs in enumerate(schedule.runs) for p, c in rs[:-1]]
    thin = n > 150  # many requests: no bar edges, or the bars vanish under them
    for runs, colour, hatch, gid in ((done, DONE, None, "runs"), (cut, CUT, "///", "cancelled runs")):
        if runs:
            ax.add_collection(PolyCollection(
                _bars(runs), facecolors=to_rgba(colour, 0.35 if hatch else 0.85), hatch=None if thin else hatch,
                edgecolors="none" if thin else colour, linewidths=0 if thin else 0.8, gid=gid))
    if cut:
        ax.plot([c for _, _, c in cut], [i for i, _, _ in cut], "x", color=CUT, markersize=6 if n <= 150 else 3)
    legend = [Patch(color=DONE, alpha=0.85, label="run (completes at its right end)")]
    if cut:
        legend.append(Patch(facecolor=CUT, alpha=0.35, hatch="///", edgecolor=CUT, label="cancelled run"))
        legend.append(Line2D([], [], marker="x", color=CUT, linestyle="none", label="cut (progress lost)"))
    if any(instance.arrivals):
        ax.plot(instance.arrivals, range(n), "|", color="0.25", markersize=10 if n <= 150 else 3,
                markeredgewidth=2 if n <= 150 else 1)
        legend.append(Line2D([], [], marker="|", color="0.25", markeredgewidth=2, linestyle="none",
                             label="arrival"))
    ax.set_ylim(n - 0.5, -0.5)  # request 0 on top
    if n <= 40:
        ax.set_yticks(range(n))
    ax.set_ylabel("request")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(handles=legend, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")


def _draw_memory(ax, instance: Instance, schedule: Schedule) -> None:
    mem = memory_profile(instance, schedule)  # mem[t] for rounds t = 0..makespan
    # round t is drawn over (t-1, t]: level y[k] = mem[k+1] on [k, k+1) ("post" steps)
    x = np.arange(len(mem))
    y = np.append(mem[1:], mem[-1])
    ax.fill_between(x, y, step="post", color=DONE, alpha=0.5, linewidth=0, label="memory held", gid="memory")
    ax.step(x, y, where="post", color=DONE, linewidth=0.8)
    over = y > instance.M
    if over.any():
        ax.fill_between(x, np.where(over, y, 0), step="post", color=CUT, alpha=0.8, linewidth=0,
                        label="over the limit", gid="overflow")
    ax.axhline(instance.M, color="black", linestyle="--", linewidth=1, label=f"M = {instance.M}")
    ax.set_ylim(0, max(instance.M, int(mem.max())) * 1.08)
    ax.set_xlim(0, max(len(mem) - 1, 1))
    ax.set(xlabel="round", ylabel="KV-cache tokens")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")


def _default_title(instance: Instance, schedule: Schedule) -> str:
    rep = validate(instance, schedule)
    head = f"{instance.name or 'instance'}: n = {instance.n}, M = {instance.M}"
    if not rep.feasible:
        return f"{head}; INFEASIBLE: {rep.message}"
    return (f"{head}; TEL = {rep.objective}, makespan {rep.makespan}, peak memory {rep.peak_memory}, "
            f"cancelled runs {rep.cancelled_runs} ({rep.wasted_tokens} wasted tokens)")
