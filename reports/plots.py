"""Plots of results files: pure functions ``plot_xxx(results_list, out_path) -> Path | None``.

Each writes one 10×6 in PNG at 100 dpi (1000×600 px) and returns its path, or returns
None without writing when the results hold nothing to draw (e.g. no raw records)::

    from reports.load import load_many
    plot_timeline(load_many([Path("runs/x")]), Path("out/timeline.png"))

Figures are built on ``matplotlib.figure.Figure`` (no pyplot figure registry, nothing
shown), so plotting leaves no global state behind but the Agg backend choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before anything can pull in pyplot: never open a window

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from reports.aggregate import (
    Spread,
    breaker_bands,
    groups,
    mode_rank,
    modes_of,
    representative,
    run_end_s,
    run_metric,
)
from reports.load import Results, Run

__all__ = [
    "breaker_bands",
    "mode_colours",
    "plot_amplification",
    "plot_latency_cdf",
    "plot_latency_percentiles",
    "plot_throughput_vs_users",
    "plot_timeline",
]

FIGSIZE_IN = (10.0, 6.0)
DPI = 100
KNOWN_COLOURS = {
    "sequential": "tab:blue",
    "threaded": "tab:orange",
    "async": "tab:green",
    "sdk": "tab:purple",
}
OTHER_COLOURS = ("tab:brown", "tab:pink", "tab:olive", "tab:cyan", "tab:gray")
BAND_COLOURS = {"open": "#e53935", "half_open": "#ffb300"}  # closed: no band
BAND_ALPHA = 0.25
LABEL_BOX = {"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1.5}
MARKERS = ("o", "s", "^", "D", "v")
PERCENTILE_OFFSETS = (-0.27, 0.0, 0.27)
PERCENTILE_ALPHAS = (1.0, 0.65, 0.35)

Series = tuple[Results, str]  # one results file, one mode


def mode_colours(modes: Sequence[str]) -> dict[str, str]:
    """A colour per mode: fixed for the known designs, then a cycle for the rest.

    >>> mode_colours(["async", "zeta"])
    {'async': 'tab:green', 'zeta': 'tab:brown'}
    """
    others = sorted((m for m in modes if m not in KNOWN_COLOURS), key=mode_rank)
    colours = {m: KNOWN_COLOURS[m] for m in modes if m in KNOWN_COLOURS}
    colours.update({m: OTHER_COLOURS[i % len(OTHER_COLOURS)] for i, m in enumerate(others)})
    return colours


def plot_throughput_vs_users(results_list: Sequence[Results], out_path: Path) -> Path | None:
    """Median throughput per users value and mode (error bars min–max), bound dashed."""
    series = _series(results_list)
    users_values = {run.users for r in results_list for run in r.runs}
    fig, ax = _figure()
    if len(users_values) == 1:
        _throughput_bars(ax, results_list, series)
    else:
        _throughput_lines(ax, results_list, series)
    ax.set_title("Throughput vs users — median of repetitions, whiskers min–max, dashed = bound")
    ax.set_ylabel("throughput (requests/s)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize="small")
    return _save(fig, out_path)


def _throughput_lines(ax: Axes, results_list: Sequence[Results], series: list[Series]) -> None:
    colours = mode_colours(modes_of(results_list))
    for results, mode in series:
        points = _throughput_points(results, mode)
        xs = [p[0] for p in points]
        marker = MARKERS[results_list.index(results) % len(MARKERS)]
        label = _label(results, mode, len(results_list))
        _errorbar(ax, xs, [p[1] for p in points], colours[mode], label, marker)
        bounds = [(x, b) for x, _, b in points if b is not None]
        bound_xs, bound_ys = [x for x, _ in bounds], [b for _, b in bounds]
        # the "_" marker keeps a lone bound visible when a series has one users value
        ax.plot(bound_xs, bound_ys, "--", marker="_", ms=14, color=colours[mode])
    ax.set_xlabel("users (concurrent)")


def _throughput_bars(ax: Axes, results_list: Sequence[Results], series: list[Series]) -> None:
    colours = mode_colours(modes_of(results_list))
    for x, (results, mode) in enumerate(series):
        (_, spread, bound), *_ = _throughput_points(results, mode)
        label = _label(results, mode, len(results_list))
        ax.bar([x], [spread.median], width=0.6, color=colours[mode], alpha=0.8, label=label)
        _errorbar(ax, [x], [spread], "black", None, "")
        if bound is not None:
            ax.hlines(bound, x - 0.4, x + 0.4, colors=colours[mode], linestyles="dashed")
    ax.set_xticks(range(len(series)), [_label(r, m, len(results_list)) for r, m in series])
    results = results_list[0]
    ax.set_xlabel(f"mode ({who(results, results.runs[0].users)})")


def who(results: Results, users: int) -> str:
    """``"20 users"``; an open-loop run has no users, its number is the in-flight cap.

    >>> who(closed_loop_results, 20), who(open_loop_results, 20)
    ('20 users', 'open loop, ≤ 20 in flight')
    """
    if results.config.get("open_loop"):
        return f"open loop, ≤ {users} in flight"
    return f"{users} users"


def _throughput_points(results: Results, mode: str) -> list[tuple[int, Spread, float | None]]:
    points = []
    for (m, users), runs in groups(results).items():
        spread = Spread.of(run_metric(run, "throughput") for run in runs)
        if m == mode and spread is not None:
            points.append((users, spread, _bound_throughput(runs)))
    return points


def _bound_throughput(runs: Sequence[Run]) -> float | None:
    bound = Spread.of(run.summary.get("bound_s") for run in runs)
    if bound is None or bound.median <= 0:
        return None
    return runs[0].users * runs[0].requests_per_user / bound.median


def plot_latency_percentiles(results_list: Sequence[Results], out_path: Path) -> Path | None:
    """p50/p95/p99 bars per mode (largest users value), median of repetitions, whiskers min–max."""
    colours = mode_colours(modes_of(results_list))
    bars = [
        (_label(r, mode, len(results_list)), mode, _percentile_spreads(_largest_users(r, mode)))
        for r, mode in _series(results_list)
    ]
    bars = [bar for bar in bars if any(bar[2])]
    if not bars:
        return None
    fig, ax = _figure()
    for x, (_, mode, spreads) in enumerate(bars):
        for offset, alpha, spread in zip(
            PERCENTILE_OFFSETS, PERCENTILE_ALPHAS, spreads, strict=True
        ):
            if spread is not None:
                ax.bar([x + offset], [spread.median], 0.25, color=colours[mode], alpha=alpha)
                _errorbar(ax, [x + offset], [spread], "black", None, "")
    ax.set_xticks(range(len(bars)), [label for label, _, _ in bars])
    if len(bars) > 5:
        ax.tick_params(axis="x", labelrotation=25, labelsize="small")
    shades = [
        Patch(color="gray", alpha=alpha, label=name)
        for name, alpha in zip(("p50", "p95", "p99"), PERCENTILE_ALPHAS, strict=True)
    ]
    ax.legend(handles=shades, fontsize="small", loc="lower right")
    ax.set_title(
        "Latency percentiles per mode — largest users value, median of reps, whiskers min–max"
    )
    ax.set_ylabel("latency (s)")
    return _save(fig, out_path)


def _percentile_spreads(runs: Sequence[Run]) -> list[Spread | None]:
    return [Spread.of(run_metric(run, p) for run in runs) for p in ("p50", "p95", "p99")]


def plot_latency_cdf(results_list: Sequence[Results], out_path: Path) -> Path | None:
    """Empirical CDF of request latency per mode, from the raw records (every outcome).

    Uses the largest users value of each mode, all repetitions pooled.
    """
    colours = mode_colours(modes_of(results_list))
    curves = [(r, mode, _latencies(r, mode)) for r, mode in _series(results_list)]
    curves = [c for c in curves if c[2]]
    if not curves:
        return None
    fig, ax = _figure()
    for results, mode, latencies in curves:
        fractions = [(i + 1) / len(latencies) for i in range(len(latencies))]
        label = f"{_label(results, mode, len(results_list))} (n={len(latencies)})"
        ax.step(latencies, fractions, where="post", color=colours[mode], label=label)
    ax.set_title("Latency CDF per mode — raw records, all repetitions of the largest users value")
    ax.set_xlabel("latency (s)")
    ax.set_ylabel("fraction of requests ≤ latency")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize="small", loc="lower right")
    return _save(fig, out_path)


def _latencies(results: Results, mode: str) -> list[float]:
    values = (rec.get("latency_s") for run in _largest_users(results, mode) for rec in run.records)
    return sorted(float(v) for v in values if isinstance(v, int | float))


def _largest_users(results: Results, mode: str) -> list[Run]:
    """Every repetition of the mode's largest users value: the heaviest load it saw."""
    runs = [run for run in results.runs if run.mode == mode]
    top = max(run.users for run in runs)
    return [run for run in runs if run.users == top]


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
        name = f"{_label(results, run.mode, len(results_list))} ({who(results, run.users)})"
        ax.text(
            0.005, 0.95, name, transform=ax.transAxes, va="top", fontsize="small", bbox=LABEL_BOX
        )
    # shared x: one limit for every row, long enough for the longest run
    axes[-1].set_xlim(0, max(_timeline_end_s(run) for _, run in rows))
    axes[-1].set_xlabel("time since run start (s)")
    fig.supylabel("requests per second / in flight (count)", fontsize="small")
    fig.legend(handles=_timeline_legend(), loc="outside lower center", ncol=4, fontsize="small")
    fig.suptitle("Timeline per mode (largest users value, first repetition)")
    return _save(fig, out_path)


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
    fig, ax = _figure()
    for results, run in rows:
        seconds, per_second, cumulative = _amplification(run)
        label = _label(results, run.mode, len(results_list))
        ax.plot(seconds, per_second, ".-", color=colours[run.mode], label=f"{label} per second")
        ax.plot(seconds, cumulative, "--", color=colours[run.mode], label=f"{label} cumulative")
    ax.axhline(1.0, color="gray", ls=":", lw=1, label="1.0 = no retries")
    ax.set_title("Retry amplification over time — upstream attempts / requests offered")
    ax.set_xlabel("time since run start (s)")
    ax.set_ylabel("attempts per offered request (ratio)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize="small")
    return _save(fig, out_path)


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


def _series(results_list: Sequence[Results]) -> list[Series]:
    return [(r, mode) for r in results_list for mode in modes_of([r])]


def _label(results: Results, mode: str, files: int) -> str:
    return mode if files == 1 else f"{mode} · {results.label}"


def _errorbar(
    ax: Axes,
    xs: Sequence[float],
    spreads: Sequence[Spread],
    colour: str,
    label: str | None,
    marker: str,
) -> None:
    medians = [s.median for s in spreads]
    errors = [[s.median - s.low for s in spreads], [s.high - s.median for s in spreads]]
    ax.errorbar(
        xs,
        medians,
        yerr=errors,
        color=colour,
        label=label,
        marker=marker or None,
        capsize=4,
        ls="-" if marker else "none",
    )


def _figure() -> tuple[Figure, Axes]:
    fig = Figure(figsize=FIGSIZE_IN, dpi=DPI, layout="constrained")
    return fig, fig.subplots()


def _save(fig: Figure, out_path: Path) -> Path:
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_path, format="png", dpi=DPI)  # no bbox "tight": keep exactly 1000×600
    return out_path
