"""What a run is before it runs: designs, load, caps, policy, target and outputs.

    spec = CompareSpec(modes=("sequential", "async"), users=(20,))
    concurrency_cap("async", 20, spec)   # 20: one slot per user unless a flag says otherwise
    target = TargetSpec("mock", None, "gemini-2.5-flash")
    plan = RunPlan("compare", argv, spec, target, mock, output)

Pure data and decisions: nothing here sends, sleeps or prints.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.generators import REGISTRY
from harness.generators.load import OpenLoad
from harness.measure import metrics
from harness.measure.slo import Slo
from harness.resilience.config import ResilienceConfig
from harness.run import limits
from harness.run.defaults import (
    OPEN_LOOP_CAPS,
    SEED_SEMAPHORE,
    SEED_WORKERS,
    CalibrationMode,
)
from harness.run.targets import TargetSpec
from harness.run.workload import WorkloadSpec
from mock_gemini.config import MockConfig


@dataclass(frozen=True)
class CompareSpec:
    """What to run: designs, load, caps and policy. ``users`` may hold several values (a sweep)."""

    modes: tuple[str, ...]
    users: tuple[int, ...]
    requests_per_user: int = 1
    workers: int | None = None
    concurrency: int | None = None
    seed_limits: bool = False
    repetitions: int = 1
    resilience: ResilienceConfig = field(default_factory=ResilienceConfig)
    max_output_tokens: int = 2048
    secondary: bool = False
    stream: bool = False
    open_load: OpenLoad | None = None  # set: open-loop arrivals instead of closed-loop users
    raw_records: bool = True  # False: fold records into HDR histograms as they end
    late_threshold_s: float = metrics.LATE_THRESHOLD_S
    slo: Slo | None = None  # set: each summary counts the good requests (slo_good)
    workload: WorkloadSpec | None = None  # set: prompts from data, answered as text

    def validate(self) -> None:
        unknown = [m for m in self.modes if m not in REGISTRY]
        if unknown:
            known = ", ".join(REGISTRY)
            raise ConfigError(f"--modes: unknown mode {unknown[0]!r} (known: {known})")
        twice = sorted({m for m in self.modes if self.modes.count(m) > 1})
        if twice:
            raise ConfigError(f"--modes: {twice[0]!r} given twice; each design runs once")
        _positive("--users", self.users)
        _positive("--requests-per-user", (self.requests_per_user,))
        _positive("--repetitions", (self.repetitions,))
        _positive("--workers", (self.workers,) if self.workers is not None else ())
        _positive("--concurrency", (self.concurrency,) if self.concurrency is not None else ())
        self._check_limits()
        self._check_slo()
        if self.workload is not None and "sdk" in self.modes:
            raise ConfigError("--modes sdk: sends recipe requests only; not with a data workload")

    def _check_slo(self) -> None:
        if self.slo is None:
            return
        if self.slo.needs_stream and not self.stream:
            raise ConfigError(f"--slo {self.slo.text}: ttft, tpot and itl need --stream")
        if not self.raw_records:
            raise ConfigError(f"--slo {self.slo.text}: needs raw records (no --no-raw-records)")

    def _check_limits(self) -> None:
        """Every way of asking for work or concurrency within :mod:`harness.run.limits`."""
        limits.check_range("--users", max(self.users), 1, limits.MAX_USERS)
        limits.check_range("--repetitions", self.repetitions, 1, limits.MAX_REPETITIONS)
        limits.check_range("--max-output-tokens", self.max_output_tokens, 1,
                           limits.MAX_OUTPUT_TOKENS)  # fmt: skip
        for flag, cap in (("--workers", self.workers), ("--concurrency", self.concurrency)):
            limits.check_range(flag, cap, 1, limits.MAX_IN_FLIGHT)
        load = self.open_load
        if load is None:
            limits.check_total_requests(max(self.users), self.requests_per_user)
        else:
            limits.check_range("--rate", load.rate_rps, 0, limits.MAX_RATE_RPS)
            limits.check_range("--duration", load.duration_s, 0, limits.MAX_DURATION_S)
            limits.check_range("--requests", load.requests, 1, limits.MAX_REQUESTS)
            limits.check_range("--max-in-flight", load.max_in_flight, 1, limits.MAX_IN_FLIGHT)
            expected = load.rate_rps * (load.duration_s or math.inf)
            if min(expected, load.requests or math.inf) > limits.MAX_REQUESTS:
                raise ConfigError(
                    f"--rate × --duration: about {expected:,.0f} requests; at most "
                    f"{limits.MAX_REQUESTS:,} per design"
                )
        if "threaded" in self.modes:
            users = (self.open_load.users,) if self.open_load is not None else self.users
            limits.check_threads(max(concurrency_cap("threaded", n, self) for n in users))


def _positive(flag: str, values: Sequence[int]) -> None:
    for value in values:
        if value <= 0:
            raise ConfigError(f"{flag}: expected a positive integer, got {value}")


def concurrency_cap(mode: str, users: int, spec: CompareSpec) -> int:
    """The design's cap: 1 for sequential, else the flag, the seed's limit, or the user count.

    Open loop: ``--max-in-flight``, else the flag, else :data:`OPEN_LOOP_CAPS`.
    """
    if mode == "sequential":
        return 1
    if mode == "threaded":
        flag, seed = spec.workers, SEED_WORKERS
    else:
        flag, seed = spec.concurrency, SEED_SEMAPHORE
    if spec.seed_limits:
        return seed
    if spec.open_load is not None:
        limit = spec.open_load.max_in_flight or flag
        return limit if limit is not None else OPEN_LOOP_CAPS.get(mode, users)
    return flag if flag is not None else users


@dataclass(frozen=True)
class OutputOptions:
    """Where results go and what is printed."""

    out: Path | None = None
    json: bool = False
    report: bool = True
    progress: bool = True
    verbose: bool = False
    log_json: bool = False
    export_csv: bool = False


@dataclass(frozen=True)
class RunPlan:
    """Everything one run needs; ``command``/``argv`` are recorded in the results file."""

    command: str
    argv: Sequence[str]
    spec: CompareSpec
    target: TargetSpec
    mock: MockConfig | None
    output: OutputOptions
    scenario: dict[str, Any] | None = None
    calibration: CalibrationMode = "auto"  # see harness.run.calibrate.calibration_block
    thresholds: tuple[str, ...] = ()  # checked by reports.thresholds once the run is written
