"""Progress on stderr while a run goes: one live line per design, or plain lines in CI logs.

On a terminal each design has a bar with done/total, its rate, an ETA, and what it has
seen so far: ok / fallback / failed, latency p50 and p99, the breaker's state, and what
it is waiting for when it waits (requests sleeping out a retry delay, an open breaker).
Elsewhere (a pipe, a CI log) the same figures come as a plain line when a design starts,
every :data:`PLAIN_EVERY_S` while it runs, and when it ends. ``--json`` keeps stdout clean::

    with progress_bar(enabled=True) as display:
        bar = ModeProgress(display, "1/3 async ×20", total=20)   # run_mode calls bar.attach()
"""

from __future__ import annotations

import sys
import threading
import time
from array import array
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from harness.measure.record import RequestRecord

REFRESH_S = 0.25  # the live figures are recomputed at most this often
PLAIN_EVERY_S = 10.0  # a plain progress line at least this often while a design runs


class PlainDisplay:
    """Line-oriented progress for logs: a line when a task starts, on updates marked as
    milestones (every :data:`PLAIN_EVERY_S`, and the end)."""

    def __init__(self, stream: Any = None) -> None:
        self._stream = stream or sys.stderr
        self._labels: dict[int, str] = {}
        self._lock = threading.Lock()

    def add_task(self, description: str, total: float | None = None, **fields: Any) -> TaskID:
        with self._lock:
            task = TaskID(len(self._labels))
            self._labels[task] = description
        print(f"{description}: started ({total:.0f} requests)", file=self._stream, flush=True)
        return task

    def update(self, task_id: TaskID, **fields: Any) -> None:
        if fields.get("milestone"):
            done, total = fields.get("completed", 0), fields.get("total", 0)
            line = f"{self._labels[task_id]}: {done:.0f}/{total:.0f} {fields.get('stats', '')}"
            print(line.rstrip(), file=self._stream, flush=True)


Display = Progress | PlainDisplay  # what ModeProgress draws on


@contextmanager
def progress_bar(enabled: bool, plain: bool = False) -> Iterator[Display | None]:
    """A live display on stderr; plain lines when ``plain`` (no TTY); None when disabled."""
    if not enabled:
        yield None
        return
    if plain:
        yield PlainDisplay()
        return
    columns = (
        TextColumn("{task.description:>16}"),
        BarColumn(bar_width=24),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[stats]}"),
    )
    with Progress(*columns, console=Console(stderr=True), refresh_per_second=4) as progress:
        yield progress


class LiveStats:
    """What one design has done so far (thread-safe): outcomes, latencies, rate, waits."""

    def __init__(self, total: int) -> None:
        self.total = total
        self._lock = threading.Lock()
        self.outcomes: Counter[str] = Counter()
        self._latencies = array("d")
        self._start_s = time.monotonic()
        self.policy: Any = None

    def add(self, record: RequestRecord) -> int:
        with self._lock:
            self.outcomes[record.outcome] += 1
            self._latencies.append(record.latency_s)
            return len(self._latencies)

    def percentiles(self) -> tuple[float | None, float | None]:
        """Latency p50 and p99 of every record so far (as the summary computes them)."""
        with self._lock:
            values = np.frombuffer(self._latencies, dtype=np.float64).copy()
        if values.size == 0:
            return None, None
        p50, p99 = np.percentile(values, [50.0, 99.0], method="linear")
        return float(p50), float(p99)

    def rate_rps(self) -> float:
        elapsed_s = time.monotonic() - self._start_s
        return len(self._latencies) / elapsed_s if elapsed_s > 0 else 0.0

    def describe(self) -> str:
        """``ok 18 · fallback 0 · failed 2 · p50 0.51 s · p99 0.98 s · breaker closed``."""
        p50, p99 = self.percentiles()
        parts = [f"ok {self.outcomes['ok']}", f"fallback {self.outcomes['fallback']}",
                 f"failed {self.outcomes['failed']}"]  # fmt: skip
        if p50 is not None and p99 is not None:
            parts.append(f"p50 {p50:.3g} s · p99 {p99:.3g} s")
        parts += self._policy_state()
        return " · ".join(parts)

    def _policy_state(self) -> list[str]:
        policy = self.policy
        if policy is None:
            return []
        state = policy.breaker.state
        parts = [f"breaker {state.replace('_', '-')}"]
        if state == "open":
            parts.append("waiting: the breaker is open (calls fail fast)")
        waiting = policy.waiting
        if waiting.now:
            parts.append(f"waiting: {waiting.now} sleeping out a retry delay "
                         f"(latest {waiting.last_s:.3g} s)")  # fmt: skip
        return parts


class ModeProgress:
    """Feeds one design's records to its line of the display (thread-safe, throttled)."""

    def __init__(self, display: Display | None, label: str, total: int):
        self._display = display
        self.stats = LiveStats(total)
        self._total = total
        self._task = display.add_task(label, total=total, rate="", stats="") if display else None
        self._shown_s = 0.0
        self._plain_s = time.monotonic()

    def attach(self, policy: Any) -> None:
        """The run's policy, whose breaker and retry waits the line shows."""
        self.stats.policy = policy

    def __call__(self, record: RequestRecord) -> None:
        done = self.stats.add(record)
        if self._display is None or self._task is None:
            return
        now_s = time.monotonic()
        if done < self._total and now_s - self._shown_s < REFRESH_S:
            return
        self._shown_s = now_s
        milestone = done >= self._total or now_s - self._plain_s >= PLAIN_EVERY_S
        if milestone:
            self._plain_s = now_s
        self._display.update(
            self._task, completed=done, total=self._total, milestone=milestone,
            rate=f"{self.stats.rate_rps():.1f} req/s", stats=self.stats.describe(),
        )  # fmt: skip
