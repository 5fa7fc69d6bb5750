"""Defaults and choices the command line shows before anything heavy is imported.

The CLI reads these names to build its parsers (``--help`` must stay fast); the modules
that act on them (:mod:`harness.run.plan`, :mod:`harness.run.calibrate`,
:mod:`harness.run.bench_self`) import them from here, so each is declared once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

CalibrationMode = Literal["auto", "cached", "quick", "off"]
CALIBRATION_MODES: tuple[CalibrationMode, ...] = ("auto", "cached", "quick", "off")
CALIBRATION_PATH = Path("runs") / "calibration.json"
DEFAULT_MOCK_LATENCY_S = 1.0  # the embedded mock's time to first token when none is given
SEED_SEMAPHORE = 3  # the seed note's asyncio.Semaphore(3)
SEED_WORKERS = 5  # the seed note's ThreadPoolExecutor(max_workers=5)
# Open loop without --max-in-flight / --workers / --concurrency: how many may be in flight.
OPEN_LOOP_CAPS = {"threaded": 256, "async": 10_000, "sdk": 10_000}
BENCH_CLIENTS = ("bare-aiohttp", "async", "threaded", "locust-fasthttp")
