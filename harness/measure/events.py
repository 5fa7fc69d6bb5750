"""Clock times of one kind of policy event (upstream attempts, fast fails).

``exact=True`` keeps every time (8 bytes each, in an ``array``); ``exact=False`` keeps a
count per whole second only, so memory follows the run's duration, not its requests: a
``--no-raw-records`` run of a million requests, or a service that runs for days.

    attempts = EventTimes(exact=False)
    attempts.add(12.3); len(attempts)          # 1
    attempts.per_second()                      # {12: 1}
"""

from __future__ import annotations

import math
import threading
from array import array


class EventTimes:
    """Thread-safe; ``times()`` needs ``exact=True``, ``per_second()`` works either way."""

    def __init__(self, *, exact: bool = True) -> None:
        self.exact = exact
        self._lock = threading.Lock()
        self._times = array("d")
        self._per_second: dict[int, int] = {}
        self._count = 0

    def add(self, time_s: float) -> None:
        with self._lock:
            self._count += 1
            if self.exact:
                self._times.append(time_s)
            else:
                second = max(0, math.floor(time_s))
                self._per_second[second] = self._per_second.get(second, 0) + 1

    def __len__(self) -> int:
        return self._count

    def times(self) -> list[float]:
        """Every time, oldest first (a copy). Raises ValueError when only counts were kept."""
        if not self.exact:
            raise ValueError("only counts per second were kept (exact=False)")
        with self._lock:
            return self._times.tolist()

    def per_second(self) -> dict[int, int]:
        """How many events fell in each whole second (a copy)."""
        if not self.exact:
            with self._lock:
                return dict(self._per_second)
        counts: dict[int, int] = {}
        for second in map(math.floor, self.times()):
            counts[max(0, second)] = counts.get(max(0, second), 0) + 1
        return counts
