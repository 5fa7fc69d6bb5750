"""Terminal output: progress bars while runs go, the comparison table after.

Progress goes to stderr so that ``--json`` keeps stdout clean.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from harness.generators.base import RequestRecord

COLUMNS = (
    "mode", "users", "cap", "makespan s", "bound s", "eff.", "speed-up", "req/s",
    "p50 s", "p95 s", "p99 s", "max s", "ok", "fallback", "failed", "ampl.",
    "CPU s", "peak RSS MiB", "threads",
)  # fmt: skip


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Progress | None]:
    """A rich progress display on stderr, or None when disabled (no TTY, --json, quiet)."""
    if not enabled:
        yield None
        return
    columns = (TextColumn("{task.description:>12}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=Console(stderr=True)) as progress:
        yield progress


class ModeProgress:
    """Advance one bar per finished record (thread-safe: rich locks internally)."""

    def __init__(self, progress: Progress | None, label: str, total: int):
        self._progress = progress
        self._task = progress.add_task(label, total=total) if progress else None

    def __call__(self, _record: RequestRecord) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task)


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def summary_row(run: Mapping[str, Any], speedup: float | None) -> list[str]:
    """One table row from a results-file run entry."""
    s = run["summary"]
    lat, counts = s.get("latency_s") or {}, s["counts"]
    rss = s.get("peak_rss_bytes")
    return [
        run["mode"], str(run["users"]), str(run["concurrency_cap"]),
        _fmt(s["makespan_s"]), _fmt(s.get("bound_s")), _fmt(s.get("efficiency"), 2),
        _fmt(speedup, 3) + "×" if speedup else "–", _fmt(s["throughput_rps"]),
        _fmt(lat.get("p50")), _fmt(lat.get("p95")), _fmt(lat.get("p99")), _fmt(lat.get("max")),
        str(counts["ok"]), str(counts["fallback"]), str(counts["failed"]),
        _fmt(s.get("amplification"), 3), _fmt(s.get("cpu_s")),
        _fmt(rss / 2**20 if rss else None), _fmt(s.get("peak_threads")),
    ]  # fmt: skip


def comparison_table(
    runs: Sequence[Mapping[str, Any]], speedups: Mapping[tuple[int, str], float]
) -> Table:
    table = Table(title="Designs side by side (bound = ceil(N·R/C)·S)")
    for column in COLUMNS:
        table.add_column(column, justify="left" if column == "mode" else "right")
    for run in runs:
        table.add_row(*summary_row(run, speedups.get((run["users"], run["mode"]))))
    return table
