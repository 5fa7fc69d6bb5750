"""The live state of one mock server: its config and the models built from it.

state = MockState(MockConfig(), clock=loop.time)
state.schedule_now()            # ScheduleState(outage_status=None, slow_factor=1.0)
state.apply(state.config.updated({"rpm": 10}))
"""

from __future__ import annotations

import itertools
import os
import random
from collections import deque
from collections.abc import Callable

from mock_gemini.capacity import CapacityLimiter
from mock_gemini.catalogue import Catalogue
from mock_gemini.config import MockConfig
from mock_gemini.faults import FaultPicker
from mock_gemini.latency import GenerationPlan
from mock_gemini.offload import Offloader
from mock_gemini.parsing import GenerateRequest
from mock_gemini.quotas import QuotaTracker
from mock_gemini.schedule import ScheduleState, schedule_at
from mock_gemini.stats import Stats

_NO_SCHEDULE = ScheduleState(outage_status=None, slow_factor=1.0)
PROMPT_LOG_SIZE = 1000  # the latest prompts, for GET /_mock/prompts


class MockState:
    """Config, fault picker, quota tracker, capacity limiter, catalogue, stats and workers."""

    def __init__(self, config: MockConfig, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.stats = Stats(clock)
        self.schedule_start_s = clock()
        self._ids = itertools.count(1)
        self._id_prefix = os.urandom(4).hex()
        # (strict, raw body) -> parsed request; handlers.parse_cached bounds it.
        self.parsed: dict[tuple[bool, bytes], GenerateRequest] = {}
        self.offloader = Offloader()  # worker processes for big bodies, started on first use
        self.prompts: deque[str] = deque(maxlen=PROMPT_LOG_SIZE)
        self.apply(config)

    def apply(self, config: MockConfig) -> None:
        """Switch to ``config``; counters survive unless the setting they count changed."""
        old = getattr(self, "config", None)
        self.config = config
        self.picker = FaultPicker(config.faults, config.seed)
        self.rng = random.Random(config.seed)
        self.fixed_plans: dict[tuple[int, int, float], GenerationPlan] = {}
        if old is None or old.quotas != config.quotas:
            self.quotas = QuotaTracker(config.quotas)
        limits = (config.max_concurrency, config.max_queue)
        if old is None or (old.max_concurrency, old.max_queue) != limits:
            # Requests holding a slot of the old limiter finish there.
            self.limiter = CapacityLimiter(*limits)
        if old is None or old.extra_models != config.extra_models:
            self.catalogue = Catalogue(config.extra_models)

    def reset(self) -> None:
        """Clear stats and quotas and restart the schedule clock (``POST /_mock/reset``)."""
        self.stats.reset()
        self.quotas.reset()
        self.prompts.clear()
        self.schedule_start_s = self.clock()
        self.picker = FaultPicker(self.config.faults, self.config.seed)
        self.rng = random.Random(self.config.seed)

    def schedule_now(self) -> ScheduleState:
        """Outage and brownout in force now."""
        if not self.config.schedule:
            return _NO_SCHEDULE
        return schedule_at(self.config.schedule, self.clock() - self.schedule_start_s)

    def elapsed_s(self) -> float:
        """Seconds on the schedule clock (since start or reset)."""
        return self.clock() - self.schedule_start_s

    def response_id(self) -> str:
        """A unique responseId, like the real ones in length and alphabet."""
        return f"mock{self._id_prefix}{next(self._ids):012x}"
