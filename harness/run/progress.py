"""Progress on stderr while a run goes: one bar per design.

Progress goes to stderr so that ``--json`` keeps stdout clean.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from harness.measure.record import RequestRecord


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
