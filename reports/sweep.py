"""Sweeps: one point per (load, design), the knee, and the rates to try below a probe.

    points = sweep_points([results_at_5, results_at_10, results_at_20], axis="rate")
    knees = find_knees(points)                  # {"async": 38.6}: max sustainable rate
    rates_below(39.0)                           # [9.75, 19.5, 29.2, 35.1, 39.0, 42.9]

A rate sweep runs each offered rate as its own results document (so each keeps its own
verdict); a users sweep is one document with a users value per load. A point holds
medians over repetitions. "Achieved" is ok answers per second (goodput): a rate the
designs served with failures is not a rate they sustained.

The knee of a design is the largest achieved rate among the points whose achieved rate
still follows the offered one (achieved ≥ (1 − :data:`FOLLOW_TOLERANCE`) × offered);
None when no point did.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from reports.aggregate import Spread, groups, mode_rank
from reports.load import Results, Run

FOLLOW_TOLERANCE = 0.10
KNEE_FRACTIONS = (0.25, 0.5, 0.75, 0.9, 1.0, 1.1)  # of the probe's achieved rate
PERCENTILES = ("p50", "p95", "p99")


@dataclass(frozen=True)
class Point:
    """One design at one load: ``x`` is the offered rate (rate sweep) or the users value."""

    mode: str
    x: float
    repetitions: int
    offered_rps: float | None
    achieved_rps: float | None
    throughput_rps: float | None
    latency_s: Mapping[str, float | None]
    ttft_s: Mapping[str, float | None] | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _median(runs: Sequence[Run], *path: str) -> float | None:
    values = []
    for run in runs:
        node: Any = run.summary
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if isinstance(node, int | float) and not isinstance(node, bool):
            values.append(float(node))
    spread = Spread.of(values)
    return None if spread is None else spread.median


def _percentiles(runs: Sequence[Run], key: str) -> dict[str, float | None] | None:
    shown = {p: _median(runs, key, p) for p in PERCENTILES}
    return shown if any(v is not None for v in shown.values()) else None


def point(mode: str, runs: Sequence[Run], axis: str) -> Point:
    offered = _median(runs, "offered_rps")
    x = offered if axis == "rate" else float(runs[0].users)
    return Point(
        mode=mode,
        x=x if x is not None else float("nan"),
        repetitions=len(runs),
        offered_rps=offered,
        achieved_rps=_median(runs, "goodput_rps"),
        throughput_rps=_median(runs, "throughput_rps"),
        latency_s=_percentiles(runs, "latency_s") or dict.fromkeys(PERCENTILES),
        ttft_s=_percentiles(runs, "ttft_s"),
    )


def sweep_points(documents: Sequence[Results], axis: str) -> list[Point]:
    """Every (load, design) of the documents, ordered by design then x."""
    points = [
        point(mode, runs, axis)
        for results in documents
        for (mode, _users), runs in groups(results).items()
    ]
    return sorted(points, key=lambda p: (mode_rank(p.mode), p.x))


def follows(p: Point) -> bool:
    """Whether the achieved rate kept up with the offered one at this point."""
    if p.offered_rps is None or p.achieved_rps is None:
        return False
    return p.achieved_rps >= (1.0 - FOLLOW_TOLERANCE) * p.offered_rps


def find_knees(points: Sequence[Point]) -> dict[str, float | None]:
    """Per design: the largest achieved rate where achieved still followed offered."""
    knees: dict[str, float | None] = {}
    for p in points:
        best = knees.get(p.mode)
        if follows(p) and p.achieved_rps is not None:
            best = p.achieved_rps if best is None else max(best, p.achieved_rps)
        knees[p.mode] = best
    return knees


def saturation(points: Sequence[Point]) -> dict[str, float | None]:
    """Per design: the largest achieved rate at any point (what it served at most)."""
    out: dict[str, float | None] = {}
    for p in points:
        values = [v for v in (out.get(p.mode), p.achieved_rps) if v is not None]
        out[p.mode] = max(values) if values else None
    return out


def rates_below(max_rps: float, fractions: Sequence[float] = KNEE_FRACTIONS) -> list[float]:
    """Offered rates spread below (and just past) a probe's achieved rate, 3 significant digits."""
    return sorted({float(f"{max_rps * f:.3g}") for f in fractions if max_rps * f > 0})


_SLO = re.compile(r"(latency|ttft)(<=|<)([0-9.eE+-]+)s")


def slo_limits(slo: str | None) -> dict[str, float]:
    """``"latency<=0.5s,ttft<=0.2s"`` → ``{"latency": 0.5, "ttft": 0.2}`` (drawn as lines)."""
    return {m.group(1): float(m.group(3)) for m in _SLO.finditer(slo or "")}


def sweep_document(
    axis: str, points: Sequence[Point], slo: str | None, runs: Sequence[str]
) -> dict[str, Any]:
    """``sweep.json``: the points, each design's knee and saturation, the runs' folders."""
    return {
        "axis": axis,
        "slo": slo,
        "follow_tolerance": FOLLOW_TOLERANCE,
        "points": [p.to_dict() for p in points],
        "knee_rps": find_knees(points) if axis == "rate" else None,
        "saturation_rps": saturation(points),
        "runs": list(runs),
    }


def knee_lines(document: Mapping[str, Any]) -> list[str]:
    """``knee: async 38.6 req/s (achieved follows offered to there; most served 40.1)``."""
    knees = document.get("knee_rps") or {}
    most = document.get("saturation_rps") or {}
    lines = []
    for mode, knee in knees.items():
        served = most.get(mode)
        shown = f"{knee:.3g} req/s" if knee is not None else "none (no rate was followed)"
        tail = f"; most served {served:.3g} req/s" if served is not None else ""
        lines.append(f"knee: {mode} {shown} (achieved follows offered up to there{tail})")
    return lines
