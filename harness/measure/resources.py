"""What a run costs the harness process: CPU seconds, peak RSS, peak threads.

with ResourceSampler() as usage:
    ...
usage.summary()  # {"cpu_s": 0.4, "peak_rss_bytes": 81_000_000, "peak_threads": 21}
"""

from __future__ import annotations

import threading
from types import TracebackType

import psutil


class ResourceSampler:
    """Samples this process every ``interval_s`` in a daemon thread while the block runs."""

    def __init__(self, interval_s: float = 0.05):
        self._interval_s = interval_s
        self._proc = psutil.Process()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="resource-sampler", daemon=True)
        self._cpu_start_s = 0.0
        self.cpu_s = 0.0
        self.peak_rss_bytes = 0
        self.peak_threads = 0

    def _sample(self) -> None:
        with self._proc.oneshot():
            self.peak_rss_bytes = max(self.peak_rss_bytes, self._proc.memory_info().rss)
            # The sampler's own thread is not part of the design under test.
            self.peak_threads = max(self.peak_threads, self._proc.num_threads() - 1)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval_s):
            self._sample()

    def _cpu_total_s(self) -> float:
        times = self._proc.cpu_times()
        return float(times.user + times.system)

    def __enter__(self) -> ResourceSampler:
        self._cpu_start_s = self._cpu_total_s()
        self._sample()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.cpu_s = self._cpu_total_s() - self._cpu_start_s

    def summary(self) -> dict[str, float | int]:
        return {
            "cpu_s": round(self.cpu_s, 4),
            "peak_rss_bytes": self.peak_rss_bytes,
            "peak_threads": self.peak_threads,
        }
