"""The concurrency picture of a service load: users, the service's requests in flight and its
upstream calls in flight, on one time axis (``python -m harness load``).

    concurrency_figure(results)   # Figure, or None when the document is not a service load

The service's count comes from the records (start and end of each request); the upstream's
from the embedded mock, sampled while the load ran (``upstream.in_flight_timeline``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure

from reports.diagnosis import diagnose, is_service_load
from reports.load import Results
from reports.plot_base import figure, save


def in_flight_steps(
    records: Sequence[dict[str, object]] | Sequence[object],
) -> list[tuple[float, int]]:
    """(time s, requests in flight from then on), one point per start or end, in time order."""
    events: list[tuple[float, int]] = []
    for record in records:
        if isinstance(record, dict):
            start, end = record.get("start_s"), record.get("end_s")
            if isinstance(start, int | float) and isinstance(end, int | float):
                events += [(float(start), 1), (float(end), -1)]
    events.sort(key=lambda event: (event[0], event[1]))  # an end before a start at a tie
    steps, now = [(0.0, 0)], 0
    for time_s, change in events:
        now += change
        steps.append((time_s, now))
    return steps


def concurrency_figure(results: Results) -> Figure | None:
    """Users, service in flight and upstream in flight against time; None if not a load."""
    if not is_service_load(results) or not results.runs:
        return None
    run = results.runs[0]
    fig, ax = figure()
    service = in_flight_steps(list(run.records))
    ax.step([t for t, _ in service], [n for _, n in service], where="post",
            label="requests in flight at the service (client side)", color="#1f77b4")  # fmt: skip
    upstream = (results.document or {}).get("upstream") or {}
    samples = upstream.get("in_flight_timeline") or []
    if samples:
        ax.step([t for t, _ in samples], [n for _, n in samples], where="post",
                label="upstream calls in flight (the mock)", color="#d62728")  # fmt: skip
    if not results.config.get("open_loop"):
        ax.axhline(run.users, linestyle="--", color="#555", label=f"{run.users} users")
    diagnosis = diagnose(results) or {}
    ax.set_title(f"Service concurrency: {diagnosis.get('design', 'unknown')}")
    ax.set_xlabel("time since the load started (s)")
    ax.set_ylabel("requests in flight")
    top = max([n for _, n in service] + [n for _, n in samples] + [run.users])
    ax.set_ylim(0, top * 1.3 + 0.5)  # headroom: the legend sits above the lines
    ax.legend(loc="upper right")
    return fig


def plot_concurrency(results_list: Sequence[Results], out_path: Path) -> Path | None:
    """The first service load's concurrency picture as a PNG; None when there is none."""
    for results in results_list:
        fig = concurrency_figure(results)
        if fig is not None:
            return save(fig, out_path)
    return None
