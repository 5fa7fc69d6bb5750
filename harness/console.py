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

TIME_COLUMNS = (
    "mode", "users", "cap", "makespan s", "bound s", "eff.", "speed-up", "req/s",
    "p50 s", "p95 s", "p99 s", "max s",
)  # fmt: skip
COST_COLUMNS = (
    "mode", "users", "ok", "fallback", "failed", "fast-fail", "attempts", "ampl.",
    "CPU s", "peak RSS MiB", "threads",
)  # fmt: skip
MIN_WIDTH = 120  # wide enough for the tables when stdout is not a terminal


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


def time_row(run: Mapping[str, Any], speedup: float | None) -> list[str]:
    """Timing columns of one results-file run entry."""
    s = run["summary"]
    lat = s.get("latency_s") or {}
    return [
        run["mode"], str(run["users"]), str(run["concurrency_cap"]),
        _fmt(s["makespan_s"]), _fmt(s.get("bound_s")), _fmt(s.get("efficiency"), 2),
        _fmt(speedup, 3) + "×" if speedup else "–", _fmt(s["throughput_rps"]),
        _fmt(lat.get("p50")), _fmt(lat.get("p95")), _fmt(lat.get("p99")), _fmt(lat.get("max")),
    ]  # fmt: skip


def cost_row(run: Mapping[str, Any]) -> list[str]:
    """Outcome and resource columns of one results-file run entry."""
    s, counts = run["summary"], run["summary"]["counts"]
    rss = s.get("peak_rss_bytes")
    return [
        run["mode"], str(run["users"]), str(counts["ok"]), str(counts["fallback"]),
        str(counts["failed"]), str(counts.get("fast_fail", 0)), str(s.get("upstream_attempts")),
        _fmt(s.get("amplification"), 3), _fmt(s.get("cpu_s")),
        _fmt(rss / 2**20 if rss else None), _fmt(s.get("peak_threads")),
    ]  # fmt: skip


def make_table(title: str, columns: Sequence[str], rows: Sequence[list[str]]) -> Table:
    """A rich table: the ``mode`` column left-aligned, every other one right-aligned."""
    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="left" if column == "mode" else "right")
    for row in rows:
        table.add_row(*row)
    return table


def comparison_tables(
    runs: Sequence[Mapping[str, Any]], speedups: Mapping[tuple[int, str], float]
) -> list[Table]:
    """The timing table (with the bound) and the outcome/cost table."""
    times = [time_row(r, speedups.get((r["users"], r["mode"]))) for r in runs]
    return [
        make_table(
            "Time: designs against their bound (bound = ceil(N·R/C)·S)", TIME_COLUMNS, times
        ),
        make_table("Outcomes and cost", COST_COLUMNS, [cost_row(r) for r in runs]),
    ]


def stdout_console() -> Console:
    """A console that does not squeeze the tables when stdout is a pipe or a file."""
    console = Console()
    return console if console.is_terminal else Console(width=max(console.width, MIN_WIDTH))
