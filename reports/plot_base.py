"""What every plot shares: the Agg backend, sizes, colours per mode, labels, save.

Figures are built on ``matplotlib.figure.Figure`` (no pyplot figure registry, nothing
shown), so plotting leaves no global state behind but the Agg backend choice::

    fig, ax = figure()
    ax.plot([0, 1], [0, 1], color=mode_colours(["async"])["async"])
    save(fig, Path("out/x.png"))   # 1000×600 px
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before anything can pull in pyplot: never open a window

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from reports.aggregate import Spread, mode_rank, modes_of
from reports.load import Results, Run
from reports.verdict import is_open_loop

FIGSIZE_IN = (10.0, 6.0)
DPI = 100
KNOWN_COLOURS = {
    "sequential": "tab:blue",
    "threaded": "tab:orange",
    "async": "tab:green",
    "sdk": "tab:purple",
}
OTHER_COLOURS = ("tab:brown", "tab:pink", "tab:olive", "tab:cyan", "tab:gray")
MARKERS = ("o", "s", "^", "D", "v")
LINESTYLES = ("-", "--", "-.", ":")  # one per results file: runs differ by more than colour
HATCHES = ("", "//", "..", "xx", "\\\\")

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


def all_open_loop(results_list: Sequence[Results]) -> bool:
    """Whether every document followed an arrival schedule (the open-loop wording applies)."""
    return bool(results_list) and all(is_open_loop(r) for r in results_list)


def series(results_list: Sequence[Results]) -> list[Series]:
    """Every (file, mode) pair, files in order, modes in display order."""
    return [(r, mode) for r in results_list for mode in modes_of([r])]


def label(results: Results, mode: str, files: int) -> str:
    """The mode, with the file's label when several files share a plot."""
    return mode if files == 1 else f"{mode} · {results.label}"


def file_style(results_list: Sequence[Results], results: Results) -> tuple[str, str, str]:
    """(line style, hatch, marker) of a results file: its index in the list picks them."""
    index = next((i for i, r in enumerate(results_list) if r is results), 0)
    return (
        LINESTYLES[index % len(LINESTYLES)],
        HATCHES[index % len(HATCHES)],
        MARKERS[index % len(MARKERS)],
    )


VOLATILE_KEYS = ("url", "port", "path", "out")  # differ between any two runs: not a difference
MAX_DIFFERENCES = 2


def named_by_difference(results_list: Sequence[Results]) -> list[Results]:
    """Each file labelled ``<label> (key=value, …)`` by the settings where the files differ.

    >>> [r.label for r in named_by_difference(loaded)]   # doctest: +SKIP
    ['closed (mock.latency=0.1)', 'slow (mock.latency=0.3)']

    Keys that name places (URLs, ports, paths) are not differences. One file, or files
    whose settings agree, keep their labels.
    """
    flat = [_flatten(r.config) for r in results_list]
    keys = sorted({k for f in flat for k in f if not any(v in k for v in VOLATILE_KEYS)})
    differing = [k for k in keys if len({repr(f.get(k)) for f in flat}) > 1]
    if len(results_list) < 2 or not differing:
        return list(results_list)
    shown = differing[:MAX_DIFFERENCES]
    more = ", …" if len(differing) > MAX_DIFFERENCES else ""
    named = []
    for results, settings in zip(results_list, flat, strict=True):
        pairs = ", ".join(f"{key}={settings.get(key, '—')}" for key in shown)
        named.append(replace(results, label=f"{results.label} ({pairs}{more})"))
    return named


def _flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{prefix}{key}."))  # an empty table adds nothing
        else:
            out[f"{prefix}{key}"] = value
    return out


def largest_users(results: Results, mode: str) -> list[Run]:
    """Every repetition of the mode's largest users value: the heaviest load it saw."""
    runs = [run for run in results.runs if run.mode == mode]
    top = max(run.users for run in runs)
    return [run for run in runs if run.users == top]


def errorbar(
    ax: Axes,
    xs: Sequence[float],
    spreads: Sequence[Spread],
    colour: str,
    name: str | None,
    marker: str,
    linestyle: str = "-",
) -> None:
    """Medians with min–max whiskers; a line through them when ``marker`` is set."""
    medians = [s.median for s in spreads]
    errors = [[s.median - s.low for s in spreads], [s.high - s.median for s in spreads]]
    ax.errorbar(
        xs,
        medians,
        yerr=errors,
        color=colour,
        label=name,
        marker=marker or None,
        capsize=4,
        ls=linestyle if marker else "none",
    )


def tilt_long_ticks(ax: Axes, names: Sequence[str]) -> None:
    """Tilt the x tick labels when they would run into each other (long or many)."""
    if len(names) > 5 or sum(len(n) for n in names) > 60:
        ax.tick_params(axis="x", labelrotation=20, labelsize="small")
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")


def figure() -> tuple[Figure, Axes]:
    """A 10×6 in figure with one Axes."""
    fig = Figure(figsize=FIGSIZE_IN, dpi=DPI, layout="constrained")
    return fig, fig.subplots()


def save(fig: Figure, out_path: Path) -> Path:
    """Write ``fig`` as a 1000×600 PNG and return its path."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_path, format="png", dpi=DPI)  # no bbox "tight": keep exactly 1000×600
    return out_path
