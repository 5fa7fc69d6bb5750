"""The views over time: the timeline per mode (breaker bands behind it) and amplification.

    plot_timeline(load_many([Path("runs/x")]), Path("out/timeline.png"))

Each returns None without writing when no run has timeline rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from reports.aggregate import breaker_bands, modes_of, representative, run_end_s
from reports.load import Results, Run
from reports.plot_base import DPI, FIGSIZE_IN, figure, file_style, label, mode_colours, save
from reports.verdict import load_label

BAND_COLOURS = {"open": "#e53935", "half_open": "#ffb300"}  # closed: no band
BAND_ALPHA = 0.25
LABEL_BOX = {"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1.5}


NICE_WIDTHS_S = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0,
                 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)  # fmt: skip
MAX_BINS = 200
BAD_OUTCOMES = frozenset({"failed", "fallback"})


@dataclass(frozen=True)
class Bins:
    """A run cut into time bins: ``edges`` (s) and, per bin, rates (/s) and in-flight counts."""

    edges: list[float]
    ok: list[float]
    started: list[float]
    bad: list[float]
    in_flight: list[float]
    width_label: str


def bin_width_s(duration_s: float) -> float:
    """The smallest round width that cuts ``duration_s`` into at most 200 bins (so > 80).

    >>> bin_width_s(4.0), bin_width_s(60.0)
    (0.02, 0.5)
    """
    wanted = duration_s / MAX_BINS
    return next((w for w in NICE_WIDTHS_S if w >= wanted), NICE_WIDTHS_S[-1])


def bin_edges(end_s: float, width_s: float) -> list[float]:
    """0, w, 2w, … with the last edge at ``end_s`` exactly (the run's end, not a bin later)."""
    count = max(1, math.ceil(end_s / width_s - 1e-9))
    edges = [i * width_s for i in range(count)] + [end_s]
    # A last bin much narrower than the others would turn its few events into a rate spike:
    # it joins the bin before it (whose rate is then over its wider span).
    if len(edges) > 2 and edges[-1] - edges[-2] <= width_s / 2 + 1e-9:
        del edges[-2]
    return edges


def timeline_bins(run: Run, span_s: float | None = None) -> Bins:
    """Bins sized to ``span_s`` (default: the run) from its raw records; seconds without them.

    Rows that share a time axis pass the longest run's span, so they share a bin width.
    """
    records = [r for r in run.records if _time(r, "start_s") is not None]
    end_s = run_end_s(run)
    if not records or end_s <= 0:
        return _second_bins(run, end_s)
    width_s = bin_width_s(max(span_s or end_s, end_s))
    edges = bin_edges(end_s, width_s)
    spans = [(_time(r, "start_s") or 0.0, _time(r, "end_s") or end_s, r) for r in records]
    return Bins(
        edges=edges,
        ok=_rates(edges, [e for _, e, r in spans if r.get("outcome") == "ok"]),
        started=_rates(edges, [s for s, _, _ in spans]),
        bad=_rates(edges, [e for _, e, r in spans if r.get("outcome") in BAD_OUTCOMES]),
        in_flight=[float(sum(s <= t < e for s, e, _ in spans)) for t in edges[1:]],
        width_label=f"{width_s:g} s bins, from the raw records",
    )


def _second_bins(run: Run, end_s: float) -> Bins:
    rows = sorted(run.timeline, key=lambda row: int(row["second"]))
    edges = [float(row["second"]) for row in rows] + [float(rows[-1]["second"]) + 1.0]
    if edges[-2] < end_s < edges[-1]:
        edges[-1] = end_s  # the last second is cut at the run's end

    def column(*keys: str) -> list[float]:
        return [float(sum(row.get(key) or 0 for key in keys)) for row in rows]

    return Bins(edges, column("ok"), column("attempts"), column("failed", "fallback"),
                column("in_flight"), "1 s bins: no raw records")  # fmt: skip


def _rates(edges: Sequence[float], times_s: Sequence[float]) -> list[float]:
    """Events per second in each bin [edge, next edge); the run's last instant in the last."""
    counts = [0] * (len(edges) - 1)
    for time_s in times_s:
        index = _bin_index(edges, time_s)
        if index is not None:
            counts[index] += 1
    spans = zip(counts, edges[:-1], edges[1:], strict=True)
    return [n / (hi - lo) if hi > lo else 0.0 for n, lo, hi in spans]


def _bin_index(edges: Sequence[float], time_s: float) -> int | None:
    if time_s < edges[0] or time_s > edges[-1]:
        return None
    width_s = edges[1] - edges[0]
    return min(int((time_s - edges[0]) / width_s), len(edges) - 2)


def _time(record: Mapping[str, object], key: str) -> float | None:
    value = record.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def plot_timeline(results_list: Sequence[Results], out_path: Path) -> Path | None:
    """Timeline, one row per mode, breaker states as background bands.

    Rows show requests ending OK, requests started (upstream attempts when only the
    per-second rows exist), failures plus fallbacks ended (per second, in bins sized to
    the run: 50–200 over it, from the raw records), and requests in flight at each bin's
    end. Red bands: the breaker was open; amber: half-open; no band: closed. The figure
    grows with its rows (1000 px wide, ≥ 600 px high).
    """
    rows = _timeline_runs(results_list)
    if not rows:
        return None
    fig = Figure(figsize=panel_figsize(len(rows)), dpi=DPI, layout="constrained")
    axes = fig.subplots(len(rows), 1, sharex=True, squeeze=False)[:, 0]
    colours = mode_colours(modes_of(results_list))
    widths = set()
    span_s = max(run_end_s(run) for _, run in rows)
    for ax, (results, run) in zip(axes, rows, strict=True):
        _draw_bands(ax, run)
        bins = timeline_bins(run, span_s)
        widths.add(bins.width_label)
        _draw_timeline(ax, bins, colours[run.mode], file_style(results_list, results)[0])
        name = f"{label(results, run.mode, len(results_list))} ({load_label(results, run.users)})"
        ax.text(
            0.005, 0.95, name, transform=ax.transAxes, va="top", fontsize="small", bbox=LABEL_BOX
        )
    # shared x: one limit for every row, long enough for the longest run
    axes[-1].set_xlim(0, span_s)
    axes[-1].set_xlabel("time since run start (s)")
    fig.supylabel("requests per second / in flight (count)", fontsize="small")
    fig.legend(handles=_timeline_legend(), loc="outside lower center", ncol=4, fontsize="small")
    fig.suptitle(
        f"Timeline per mode (heaviest load, first repetition) — {'; '.join(sorted(widths))}"
    )
    return save(fig, out_path)


def panel_figsize(panels: int) -> tuple[float, float]:
    """10 in wide; 6 in high up to three panels, then 1.6 in more per panel.

    >>> panel_figsize(6)
    (10.0, 10.8)
    """
    return FIGSIZE_IN[0], max(FIGSIZE_IN[1], round(1.2 + 1.6 * panels, 2))


def _timeline_runs(results_list: Sequence[Results]) -> list[tuple[Results, Run]]:
    rows = []
    for results in results_list:
        for mode in modes_of([results]):
            runs = [run for run in results.runs if run.mode == mode and run.timeline]
            if runs:
                rows.append((results, representative(runs)))
    return rows


def _draw_bands(ax: Axes, run: Run) -> None:
    for start_s, end_s, state in breaker_bands(run.breaker_transitions, run_end_s(run)):
        if state in BAND_COLOURS:
            ax.axvspan(start_s, end_s, color=BAND_COLOURS[state], alpha=BAND_ALPHA, lw=0)


def _draw_timeline(ax: Axes, bins: Bins, colour: str, linestyle: str) -> None:
    ax.stairs(bins.ok, bins.edges, color=colour, lw=1.8, ls=linestyle)
    ax.stairs(bins.started, bins.edges, color=colour, lw=1.0, ls=":")
    ax.stairs(bins.bad, bins.edges, color="black", lw=1.2, ls="--")
    ax.stairs(bins.in_flight, bins.edges, color="gray", lw=1.0)
    ax.set_ylim(bottom=0)


def _timeline_legend() -> list[Artist]:
    return [
        Line2D([], [], color="dimgray", lw=1.8, label="ok/s (mode colour)"),
        Line2D([], [], color="dimgray", lw=1.0, ls=":", label="started/s (attempts/s: 1 s bins)"),
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
