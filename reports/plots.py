"""Plots of results files: pure functions ``plot_xxx(results_list, out_path) -> Path | None``.

Each writes one 10×6 in PNG at 100 dpi (1000×600 px) and returns its path, or returns
None without writing when the results hold nothing to draw (e.g. no raw records)::

    from reports.load import load_many
    plot_ttft_cdf(load_many([Path("runs/x")]), Path("out/ttft_cdf.png"))

The ``xxx_figure`` functions build the same figures without writing them, for tests and
notebooks. Open-loop documents are drawn as what they are: achieved throughput against
the offered rate, latency from the intended start. The per-second views live in
:mod:`reports.plot_timeline` and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from reports.aggregate import Spread, breaker_bands, groups, modes_of, run_metric
from reports.load import Results, Run
from reports.plot_base import (
    DPI,
    FIGSIZE_IN,
    Series,
    all_open_loop,
    errorbar,
    figure,
    file_style,
    label,
    largest_users,
    mode_colours,
    save,
    series,
    tilt_long_ticks,
)
from reports.plot_timeline import plot_amplification, plot_timeline
from reports.tables import achieved_rps, fmt_number, offered_rps
from reports.verdict import is_open_loop, load_label

__all__ = [
    "breaker_bands",
    "cdf_figure",
    "file_style",
    "mode_colours",
    "plot_amplification",
    "plot_itl_cdf",
    "plot_latency_cdf",
    "plot_latency_percentiles",
    "plot_throughput_vs_users",
    "plot_timeline",
    "plot_ttft_cdf",
    "throughput_figure",
]

PERCENTILE_OFFSETS = (-0.27, 0.0, 0.27)
PERCENTILE_ALPHAS = (1.0, 0.65, 0.35)
REFERENCE_NAMES = {"bound": "bound users·R / bound_s", "offered": "offered rate"}
Values = Callable[[Results, str], list[float]]  # (file, mode) → sorted samples
Panel = tuple[str, Values]  # a CDF panel's title and its samples
OK = frozenset({"ok"})
BAD = frozenset({"fallback", "failed"})


def plot_throughput_vs_users(results_list: Sequence[Results], out_path: Path) -> Path:
    """Median throughput per load and mode (whiskers min–max) against its reference."""
    return save(throughput_figure(results_list), out_path)


def throughput_figure(results_list: Sequence[Results]) -> Figure:
    """The throughput figure; its dashed reference lines carry ``gid`` bound or offered.

    Closed loop: against users (one bar per mode for a single users value), dashed = the
    bound. Open loop: one bar per mode of the achieved rate, dashed = the offered rate.
    """
    fig, ax = figure()
    closed = [r for r in results_list if not is_open_loop(r)]
    if len({run.users for r in closed for run in r.runs}) > 1:
        _throughput_lines(ax, closed, series(closed), len(results_list))
    else:
        _throughput_bars(ax, results_list, series(results_list))
    ax.set_title(_throughput_title(results_list, mixed=0 < len(closed) < len(results_list)))
    ax.set_ylabel("throughput (requests/s)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize="small")
    return fig


def _throughput_title(results_list: Sequence[Results], mixed: bool) -> str:
    spread = "median of repetitions, whiskers min–max"
    if mixed:
        return f"Throughput — {spread}, dashed = bound (closed) / offered rate (open)"
    if all_open_loop(results_list):
        return f"Achieved throughput — {spread}, dashed = offered rate"
    return f"Throughput vs users — {spread}, dashed = bound"


def _throughput_lines(ax: Axes, closed: Sequence[Results], pairs: list[Series], files: int) -> None:
    colours = mode_colours(modes_of(closed))
    for results, mode in pairs:
        points = _throughput_points(results, mode)
        style, _, marker = file_style(closed, results)
        name = label(results, mode, files)
        xs = [float(p[0]) for p in points]
        errorbar(ax, xs, [p[1] for p in points], colours[mode], name, marker, style)
        bounds = [(x, b) for x, _, b in points if b is not None]
        # the "_" marker keeps a lone bound visible when a series has one users value
        ax.plot([x for x, _ in bounds], [b for _, b in bounds], "--", marker="_", ms=14,
                color=colours[mode], gid="bound")  # fmt: skip
    ax.set_xlabel("users (concurrent)")


def _throughput_bars(ax: Axes, results_list: Sequence[Results], pairs: list[Series]) -> None:
    colours = mode_colours(modes_of(results_list))
    named: set[str] = set()
    for x, (results, mode) in enumerate(pairs):
        (_, spread, reference), *_ = _throughput_points(results, mode)
        name = label(results, mode, len(results_list))
        _, hatch, _ = file_style(results_list, results)
        ax.bar([x], [spread.median], width=0.6, color=colours[mode], alpha=0.8, label=name,
               hatch=hatch, edgecolor="white")  # fmt: skip
        errorbar(ax, [x], [spread], "black", None, "")
        kind = "offered" if is_open_loop(results) else "bound"
        if reference is not None:
            legend = "_nolegend_" if kind in named else REFERENCE_NAMES[kind]
            if kind == "offered" and kind not in named:
                legend += f" ({fmt_number(reference)} req/s)"
            ax.plot([x - 0.4, x + 0.4], [reference] * 2, ls="--", color=colours[mode],
                    label=legend, gid=kind)  # fmt: skip
            named.add(kind)
    ax.set_xticks(range(len(pairs)), [label(r, m, len(results_list)) for r, m in pairs])
    tilt_long_ticks(ax, [label(r, m, len(results_list)) for r, m in pairs])
    loads = [(r.label, load_label(r, r.runs[0].users)) for r in results_list]
    if len(loads) == 1:
        ax.set_xlabel(f"mode ({loads[0][1]})")
    else:
        ax.set_xlabel("mode · run (" + "; ".join(f"{name}: {load}" for name, load in loads) + ")")


def _throughput_points(results: Results, mode: str) -> list[tuple[int, Spread, float | None]]:
    """(users, throughput spread, reference) per load of one mode of one file."""
    points = []
    for (m, users), runs in groups(results).items():
        if m != mode:
            continue
        if is_open_loop(results):
            spread = Spread.of(achieved_rps(run) for run in runs)
            reference = Spread.of(offered_rps(results, run) for run in runs)
            offered = None if reference is None else reference.median
            if spread is not None:
                points.append((users, spread, offered))
        elif (spread := Spread.of(run_metric(run, "throughput") for run in runs)) is not None:
            points.append((users, spread, _bound_throughput(runs)))
    return points


def _bound_throughput(runs: Sequence[Run]) -> float | None:
    bound = Spread.of(run.summary.get("bound_s") for run in runs)
    if bound is None or bound.median <= 0:
        return None
    return runs[0].users * runs[0].requests_per_user / bound.median


def plot_latency_percentiles(results_list: Sequence[Results], out_path: Path) -> Path | None:
    """p50/p95/p99 bars per mode (heaviest load), median of repetitions, whiskers min–max.

    Open loop: latency from the intended start (coordinated omission corrected).
    """
    colours = mode_colours(modes_of(results_list))
    bars = [
        (
            label(r, mode, len(results_list)),
            mode,
            _percentile_spreads(r, mode),
            file_style(results_list, r)[1],
        )
        for r, mode in series(results_list)
    ]
    bars = [bar for bar in bars if any(bar[2])]
    if not bars:
        return None
    fig, ax = figure()
    for x, (_, mode, spreads, hatch) in enumerate(bars):
        for offset, alpha, spread in zip(
            PERCENTILE_OFFSETS, PERCENTILE_ALPHAS, spreads, strict=True
        ):
            if spread is not None:
                ax.bar([x + offset], [spread.median], 0.25, color=colours[mode], alpha=alpha,
                       hatch=hatch, edgecolor="white")  # fmt: skip
                errorbar(ax, [x + offset], [spread], "black", None, "")
    names = [bar[0] for bar in bars]
    ax.set_xticks(range(len(bars)), names)
    tilt_long_ticks(ax, names)
    shades = [
        Patch(color="gray", alpha=alpha, label=name)
        for name, alpha in zip(("p50", "p95", "p99"), PERCENTILE_ALPHAS, strict=True)
    ]
    ax.legend(handles=shades, fontsize="small", loc="lower right")
    ax.set_title(f"{_latency_name(results_list)} percentiles per mode — heaviest load, "
                 "median of reps, whiskers min–max")  # fmt: skip
    ax.set_ylabel(f"{_latency_name(results_list).lower()} (s)")
    return save(fig, out_path)


def _latency_name(results_list: Sequence[Results]) -> str:
    if all_open_loop(results_list):
        return "Latency from the intended start"
    if any(is_open_loop(r) for r in results_list):
        return "Latency (open loop: from the intended start)"
    return "Latency"


def _percentile_spreads(results: Results, mode: str) -> list[Spread | None]:
    block = "latency_from_intended_s" if is_open_loop(results) else "latency_s"
    runs = largest_users(results, mode)
    return [Spread.of(_stat(run, block, p) for run in runs) for p in ("p50", "p95", "p99")]


def _stat(run: Run, block: str, stat: str) -> float | None:
    value = (run.summary.get(block) or {}).get(stat)
    return _number(value)


def plot_latency_cdf(results_list: Sequence[Results], out_path: Path) -> Path | None:
    """Empirical CDF of request latency per mode, from the raw records, split by outcome.

    Left: real answers (outcome ok). Right, when there are any: fallbacks and failures,
    whose fast fails (≈ 0 s) would otherwise pull the curve of real answers to the left.
    Heaviest load of each mode, all repetitions pooled; open loop from the intended start.
    """
    name = _latency_name(results_list)
    panels = [("real answers (ok)", _latencies(OK)), ("fallbacks and failures", _latencies(BAD))]
    fig = cdf_figure(results_list, panels, f"{name} CDF per mode", f"{name.lower()} (s)")
    return None if fig is None else save(fig, out_path)


def plot_ttft_cdf(results_list: Sequence[Results], out_path: Path) -> Path | None:
    """Empirical CDF of time to first token per mode (streamed records only)."""
    fig = cdf_figure(
        results_list, [("", _record_values("ttft_s"))], "Time to first token CDF per mode",
        "time to first token, from the request's start (s)",
    )  # fmt: skip
    return None if fig is None else save(fig, out_path)


def plot_itl_cdf(results_list: Sequence[Results], out_path: Path) -> Path | None:
    """Empirical CDF of inter-token latency per mode (each streamed request's mean gap)."""
    fig = cdf_figure(
        results_list, [("", _record_values("itl_s"))], "Inter-token latency CDF per mode",
        "inter-token latency, mean gap of a request (s)",
    )  # fmt: skip
    return None if fig is None else save(fig, out_path)


def cdf_figure(
    results_list: Sequence[Results], panels: Sequence[Panel], title: str, xlabel: str
) -> Figure | None:
    """One step curve per (file, mode) in each panel that has samples; None when none has.

    ``panels`` is ``[(name, values), …]``: e.g. ok answers and failures side by side.
    """
    drawn = [(name, curves) for name, values in panels
             if (curves := _curves(results_list, values))]  # fmt: skip
    if not drawn:
        return None
    fig = Figure(figsize=FIGSIZE_IN, dpi=DPI, layout="constrained")
    axes = fig.subplots(1, len(drawn), sharey=True, squeeze=False)[0]
    colours = mode_colours(modes_of(results_list))
    for ax, (name, curves) in zip(axes, drawn, strict=True):
        for results, mode, samples in curves:
            fractions = [(i + 1) / len(samples) for i in range(len(samples))]
            style, _, _ = file_style(results_list, results)
            legend = f"{label(results, mode, len(results_list))} (n={len(samples)})"
            ax.step(samples, fractions, where="post", color=colours[mode], ls=style, label=legend)
        ax.set_title(name if len(panels) > 1 else None, fontsize="medium")
        ax.set_xlabel(xlabel)
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize="small", loc="lower right")
    axes[0].set_ylabel("fraction of requests ≤ x")
    missing = [name for name, _ in panels if name not in {n for n, _ in drawn}]
    note = f" (no {', '.join(missing)})" if missing and len(panels) > 1 else ""
    fig.suptitle(f"{title} — raw records, all repetitions of the heaviest load{note}")
    return fig


def _curves(
    results_list: Sequence[Results], values: Values
) -> list[tuple[Results, str, list[float]]]:
    curves = [(r, mode, values(r, mode)) for r, mode in series(results_list)]
    return [c for c in curves if c[2]]


def _latencies(outcomes: frozenset[str]) -> Values:
    """Latency samples of the records whose outcome is in ``outcomes`` (sorted)."""

    def values(results: Results, mode: str) -> list[float]:
        records = [rec for run in largest_users(results, mode) for rec in run.records
                   if rec.get("outcome") in outcomes]  # fmt: skip
        if not is_open_loop(results):
            return sorted(
                v for v in (_number(rec.get("latency_s")) for rec in records) if v is not None
            )
        pairs = ((_number(r.get("end_s")), _number(r.get("intended_start_s"))) for r in records)
        return sorted(end - start for end, start in pairs if end is not None and start is not None)

    return values


def _record_values(key: str) -> Values:
    def values(results: Results, mode: str) -> list[float]:
        raw = (rec.get(key) for run in largest_users(results, mode) for rec in run.records)
        return sorted(v for v in map(_number, raw) if v is not None)

    return values


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
