"""The per-second views: the timeline per mode (breaker bands behind it) and amplification.

    plot_timeline(load_many([Path("runs/x")]), Path("out/timeline.png"))

Each returns None without writing when no run has timeline rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from reports.aggregate import breaker_bands, modes_of, representative, run_end_s
from reports.load import Results, Run
from reports.plot_base import DPI, FIGSIZE_IN, figure, label, mode_colours, save
from reports.verdict import load_label

BAND_COLOURS = {"open": "#e53935", "half_open": "#ffb300"}  # closed: no band
BAND_ALPHA = 0.25
LABEL_BOX = {"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1.5}


def plot_timeline(results_list: Sequence[Results], out_path: Path) -> Path | None:
    """Per-second timeline, one row per mode, breaker states as background bands.

    Rows show requests ending OK per second, upstream attempts started, failures plus
    fallbacks ended, and requests in flight at the end of each second. Red bands: the
    breaker was open; amber: half-open; no band: closed.
    """
    rows = _timeline_runs(results_list)
    if not rows:
        return None
    fig = Figure(figsize=FIGSIZE_IN, dpi=DPI, layout="constrained")
    axes = fig.subplots(len(rows), 1, sharex=True, squeeze=False)[:, 0]
    colours = mode_colours(modes_of(results_list))
    for ax, (results, run) in zip(axes, rows, strict=True):
        _draw_bands(ax, run)
        _draw_timeline(ax, run, colours[run.mode])
        name = f"{label(results, run.mode, len(results_list))} ({load_label(results, run.users)})"
        ax.text(
            0.005, 0.95, name, transform=ax.transAxes, va="top", fontsize="small", bbox=LABEL_BOX
        )
    # shared x: one limit for every row, long enough for the longest run
    axes[-1].set_xlim(0, max(_timeline_end_s(run) for _, run in rows))
    axes[-1].set_xlabel("time since run start (s)")
    fig.supylabel("requests per second / in flight (count)", fontsize="small")
    fig.legend(handles=_timeline_legend(), loc="outside lower center", ncol=4, fontsize="small")
    fig.suptitle("Timeline per mode (heaviest load, first repetition)")
    return save(fig, out_path)


def _timeline_runs(results_list: Sequence[Results]) -> list[tuple[Results, Run]]:
    rows = []
    for results in results_list:
        for mode in modes_of([results]):
            runs = [run for run in results.runs if run.mode == mode and run.timeline]
            if runs:
                rows.append((results, representative(runs)))
    return rows


def _timeline_end_s(run: Run) -> float:
    last_second = max(int(row["second"]) for row in run.timeline)
    return max(last_second + 1.0, run_end_s(run))


def _draw_bands(ax: Axes, run: Run) -> None:
    for start_s, end_s, state in breaker_bands(run.breaker_transitions, run_end_s(run)):
        if state in BAND_COLOURS:
            ax.axvspan(start_s, end_s, color=BAND_COLOURS[state], alpha=BAND_ALPHA, lw=0)


def _draw_timeline(ax: Axes, run: Run, colour: str) -> None:
    rows = sorted(run.timeline, key=lambda row: int(row["second"]))
    edges = [float(row["second"]) for row in rows] + [float(rows[-1]["second"]) + 1.0]

    def column(*keys: str) -> list[float]:
        return [float(sum(row.get(key) or 0 for key in keys)) for row in rows]

    ax.stairs(column("ok"), edges, color=colour, lw=1.8)
    ax.stairs(column("attempts"), edges, color=colour, lw=1.2, ls=":")
    ax.stairs(column("failed", "fallback"), edges, color="black", lw=1.2, ls="--")
    ax.stairs(column("in_flight"), edges, color="gray", lw=1.0)
    ax.set_ylim(bottom=0)


def _timeline_legend() -> list[Artist]:
    return [
        Line2D([], [], color="dimgray", lw=1.8, label="ok/s (mode colour)"),
        Line2D([], [], color="dimgray", lw=1.2, ls=":", label="upstream attempts/s"),
        Line2D([], [], color="black", lw=1.2, ls="--", label="failed + fallback/s"),
        Line2D([], [], color="gray", lw=1.0, label="in flight"),
        Patch(color=BAND_COLOURS["open"], alpha=BAND_ALPHA, label="breaker open"),
        Patch(color=BAND_COLOURS["half_open"], alpha=BAND_ALPHA, label="breaker half-open"),
        Patch(facecolor="white", edgecolor="lightgray", label="breaker closed (no band)"),
    ]


def plot_amplification(results_list: Sequence[Results], out_path: Path) -> Path | None:
    """Retry amplification per second (attempts / offered) per mode, and cumulative."""
    rows = _timeline_runs(results_list)
    if not rows:
        return None
    colours = mode_colours(modes_of(results_list))
    fig, ax = figure()
    for results, run in rows:
        seconds, per_second, cumulative = _amplification(run)
        name = label(results, run.mode, len(results_list))
        ax.plot(seconds, per_second, ".-", color=colours[run.mode], label=f"{name} per second")
        ax.plot(seconds, cumulative, "--", color=colours[run.mode], label=f"{name} cumulative")
    ax.axhline(1.0, color="gray", ls=":", lw=1, label="1.0 = no retries")
    ax.set_title("Retry amplification over time — upstream attempts / requests offered")
    ax.set_xlabel("time since run start (s)")
    ax.set_ylabel("attempts per offered request (ratio)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize="small")
    return save(fig, out_path)


def _amplification(run: Run) -> tuple[list[float], list[float], list[float]]:
    nan = float("nan")
    seconds, per_second, cumulative = [], [], []
    attempts_total = offered_total = 0
    for row in sorted(run.timeline, key=lambda r: int(r["second"])):
        attempts, offered = int(row.get("attempts") or 0), int(row.get("offered") or 0)
        attempts_total, offered_total = attempts_total + attempts, offered_total + offered
        seconds.append(int(row["second"]) + 0.5)  # the middle of the second it counts
        per_second.append(attempts / offered if offered else nan)
        cumulative.append(attempts_total / offered_total if offered_total else nan)
    return seconds, per_second, cumulative
