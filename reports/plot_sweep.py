"""The sweep picture: latency percentiles (and TTFT when streamed) against the load.

    plot_sweep(sweep_document("rate", points, slo, runs), Path("out/sweep.png"))

A rate sweep puts the achieved rate (ok answers/s) on the x axis, a users sweep the users
value; one colour per design, one line style per percentile; the SLO's latency and TTFT
limits as horizontal lines; each design's knee as a vertical dotted line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from reports.plot_base import DPI, FIGSIZE_IN, mode_colours, save
from reports.sweep import PERCENTILES, slo_limits

STYLES = {"p50": ":", "p95": "--", "p99": "-"}


def _axis_x(point: Mapping[str, Any], axis: str) -> float | None:
    value = point.get("achieved_rps") if axis == "rate" else point.get("x")
    return float(value) if isinstance(value, int | float) else None


def _curves(ax: Axes, points: Sequence[Mapping[str, Any]], key: str, axis: str) -> None:
    modes = list(dict.fromkeys(p["mode"] for p in points))
    colours = mode_colours(modes)
    for mode in modes:
        mine = [p for p in points if p["mode"] == mode]
        for pct in PERCENTILES:
            pairs = [(_axis_x(p, axis), (p.get(key) or {}).get(pct)) for p in mine]
            kept = sorted((x, y) for x, y in pairs if x is not None and y is not None)
            if kept:
                ax.plot([x for x, _ in kept], [y for _, y in kept], STYLES[pct],
                        marker="o", color=colours[mode], label=f"{mode} {pct}")  # fmt: skip


def _marks(ax: Axes, document: Mapping[str, Any], limit: float | None) -> None:
    if limit is not None:
        ax.axhline(limit, color="#d62728", linewidth=1.5, label=f"SLO {limit:g} s")
    knees = document.get("knee_rps") or {}
    colours = mode_colours(list(knees))
    for mode, knee in knees.items():
        if knee is not None:
            ax.axvline(knee, color=colours[mode], linestyle=(0, (1, 3)),
                       label=f"{mode} knee {knee:.3g}/s")  # fmt: skip


def sweep_figure(document: Mapping[str, Any]) -> Figure:
    """Latency (and TTFT when any point has it) against the sweep's axis."""
    points, axis = document.get("points") or [], document.get("axis", "users")
    streamed = any(p.get("ttft_s") for p in points)
    fig = Figure(figsize=FIGSIZE_IN, dpi=DPI, layout="constrained")
    axes = fig.subplots(1, 2 if streamed else 1, squeeze=False)[0]
    limits = slo_limits(document.get("slo"))
    for ax, key, name in zip(axes, ("latency_s", "ttft_s"), ("latency", "ttft"), strict=False):
        _curves(ax, points, key, axis)
        _marks(ax, document if axis == "rate" else {}, limits.get(name))
        ax.set_ylabel(f"{'latency' if name == 'latency' else 'time to first token'} (s)")
        ax.set_xlabel("achieved rate (ok answers/s)" if axis == "rate" else "users")
        ax.legend(fontsize="small")
    fig.suptitle(f"{'Rate' if axis == 'rate' else 'Users'} sweep: percentiles per design")
    return fig


def plot_sweep(document: Mapping[str, Any], out_path: Path) -> Path:
    return save(sweep_figure(document), out_path)
