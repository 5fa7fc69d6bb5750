"""A small synthetic results-file builder (schema 1), independent of ``harness``.

``build_results(...)`` returns the JSON document a ``compare``/``sweep`` would write for
a simple closed-loop workload with service time S: every mode's makespan is its bound
times a fixed overhead, times ``slowdown``, times a seeded ±``noise`` per repetition.

``rate_rps`` makes it an open-loop document (``config.open_loop``; a run's ``users`` is
the in-flight cap, here 0: none) and ``stream`` a streamed one (TTFT, ITL, TPOT).
"""

from __future__ import annotations

import functools
import json
import math
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

CAPS = {"sequential": 1, "threaded": 5}
OVERHEAD = {"sequential": 1.01, "threaded": 1.03, "async": 1.02, "sdk": 1.05}
# (fraction of the makespan, from, to, reason): the breaker trips twice, then recovers
FAULT_TRANSITIONS = [
    (0.2, "closed", "open", "failure rate 60% >= 50% over 10 calls"),
    (0.4, "open", "half_open", "open for 1.0 s"),
    (0.45, "half_open", "open", "probe failed"),
    (0.65, "open", "half_open", "open for 1.0 s"),
    (0.7, "half_open", "closed", "3 probes succeeded"),
]


def build_results(
    modes: Sequence[str] = ("sequential", "threaded", "async"),
    users: Sequence[int] = (20,),
    reps: int = 3,
    *,
    service_time_s: float = 1.0,
    requests_per_user: int = 1,
    slowdown: float = 1.0,
    noise: float = 0.0,
    faults: bool = False,
    seed: int = 0,
    rate_rps: float | None = None,
    stream: bool = False,
) -> dict[str, Any]:
    """A results document; ``faults`` adds failures, fallbacks, retries and breaker trips."""
    rng = random.Random(seed)
    runs = [
        _run(mode, n, rep, service_time_s, requests_per_user, slowdown, noise, faults, rng)
        for n in users
        for mode in modes
        for rep in range(reps)
    ]
    doc = {
        "schema": 1,
        "tool": {"name": "llm-loadharness", "version": "0.1.0"},
        "created_utc": "2026-11-28T13:40:00Z",
        "git_commit": "abc1234",
        "machine": {"cpu_count": 2, "python": "3.11.7", "platform": "Linux-test", "hostname": None},
        "command": ["compare", "--users", str(users[-1]), "--note", "<b>&"],
        "config": {
            "target": {"kind": "embedded-mock", "base_url": "http://127.0.0.1:0", "model": "m"},
            "mock": {"latency_s": service_time_s, "fault_rate": 0.3 if faults else 0.0},
            "resilience": {"retries": 2},
            "workload": {"users": users[-1], "requests_per_user": requests_per_user},
            "service_time_s": service_time_s,
        },
        "runs": runs,
        "comparison": [],
    }
    if rate_rps is not None:
        _make_open_loop(doc, rate_rps, requests=users[-1] * requests_per_user)
    if stream:
        _make_streamed(doc)
    return doc


def _make_open_loop(doc: dict[str, Any], rate_rps: float, requests: int) -> None:
    """Every run: ``requests`` arrivals at ``rate_rps``; sequential falls 4 s behind."""
    doc["config"]["open_loop"] = {
        "rate_rps": rate_rps, "arrival": "poisson", "requests": requests,
        "duration_s": None, "max_in_flight": None, "seed": 0,
    }  # fmt: skip
    last_arrival_s = (requests - 1) / rate_rps
    for run in doc["runs"]:
        summary, behind = run["summary"], 4.0 if run["mode"] == "sequential" else 0.0
        run["users"] = 0  # no --max-in-flight: each design's own cap bounds what is in flight
        run["concurrency_cap"] = 1 if run["mode"] == "sequential" else 256
        summary["makespan_s"] = last_arrival_s + 1.0 + behind
        summary["bound_s"] = last_arrival_s + 1.0
        summary["throughput_rps"] = requests / summary["makespan_s"]
        summary["latency_from_intended_s"] = _percentiles(1.0 + behind)
        late = 0.9 if behind else 0.0
        summary["schedule_lag_s"] = {"p50": behind / 2, "p99": behind, "max": behind,
                                     "late_threshold_s": 0.01, "late_fraction": late}  # fmt: skip
        for i, record in enumerate(run["records"]):
            record["intended_start_s"] = i / rate_rps
            record["end_s"] = record["intended_start_s"] + record["latency_s"] + behind * i / 20


def _make_streamed(doc: dict[str, Any]) -> None:
    """TTFT 0.1 s, ITL 2 ms (async a little faster), 400 output tokens/s per request."""
    doc["config"]["stream"] = True
    for run in doc["runs"]:
        faster = 0.8 if run["mode"] == "async" else 1.0
        summary = run["summary"]
        summary["ttft_s"] = _percentiles(0.1 * faster)
        summary["itl_s"] = _percentiles(0.002 * faster)
        summary["tpot_s"] = _percentiles(0.0021 * faster)
        summary["output_tps"] = _percentiles(400.0 / faster)
        summary["output_tokens_per_s"] = 20 * summary["counts"]["recorded"] / summary["makespan_s"]
        for i, record in enumerate(run["records"]):
            record["ttft_s"] = 0.1 * faster * (1 + i / 100)
            record["itl_s"] = 0.002 * faster * (1 + i / 100)
            record["tpot_s"] = 0.0021 * faster
            record["output_tps"] = 400.0 / faster


def _run(
    mode: str,
    users: int,
    rep: int,
    service_time_s: float,
    per_user: int,
    slowdown: float,
    noise: float,
    faults: bool,
    rng: random.Random,
) -> dict[str, Any]:
    cap = CAPS.get(mode, users)
    total = users * per_user
    bound_s = math.ceil(total / cap) * service_time_s
    jitter = 1.0 + rng.uniform(-noise, noise)
    makespan_s = bound_s * OVERHEAD.get(mode, 1.04) * slowdown * jitter
    latency = service_time_s * slowdown * jitter
    failed, fallback = (max(1, total // 10), max(1, total // 5)) if faults else (0, 0)
    attempts = round(total * (1.3 if faults else 1.0))
    return {
        "mode": mode,
        "users": users,
        "requests_per_user": per_user,
        "repetition": rep,
        "concurrency_cap": cap,
        "summary": {
            "makespan_s": makespan_s,
            "bound_s": bound_s,
            "efficiency": bound_s / makespan_s,
            "throughput_rps": total / makespan_s,
            "latency_s": _percentiles(latency),
            "ttft_s": None,
            "counts": {
                "submitted": total,
                "recorded": total,
                "ok": total - failed - fallback,
                "fallback": fallback,
                "failed": failed,
                "fast_fail": 2 if faults else 0,
            },
            "upstream_attempts": attempts,
            "amplification": attempts / total,
            "cpu_s": 0.1 * jitter,
            "peak_rss_bytes": 80 * 2**20,
            "peak_threads": 3,
            "invariant_ok": True,
        },
        "breaker_transitions": _transitions(faults and mode != "sequential", makespan_s),
        "timeline": _timeline(makespan_s, total, attempts, failed, fallback),
        "records": _records(mode, total, latency, rng),
    }


def _percentiles(latency_s: float) -> dict[str, float]:
    factors = {"mean": 1.02, "p50": 1.0, "p90": 1.05, "p95": 1.08, "p99": 1.15, "max": 1.2}
    return {key: latency_s * f for key, f in factors.items()}


def _transitions(on: bool, makespan_s: float) -> list[dict[str, Any]]:
    if not on:
        return []
    return [
        {"time_s": f * makespan_s, "from": a, "to": b, "reason": r}
        for f, a, b, r in FAULT_TRANSITIONS
    ]


def _timeline(
    makespan_s: float, total: int, attempts: int, failed: int, fallback: int
) -> list[dict[str, Any]]:
    seconds = max(1, math.ceil(makespan_s))
    share = [total // seconds + (1 if s < total % seconds else 0) for s in range(seconds)]
    rows = []
    for second, n in enumerate(share):
        state = "open" if 2 <= second < 4 else "closed"
        rows.append(
            {
                "second": second,
                "offered": n,
                "attempts": n + (attempts - total if second == 1 else 0),
                "ok": n,
                "fast_fail": 2 if state == "open" and failed else 0,
                "fallback": fallback if second == 2 else 0,
                "failed": failed if second == 3 else 0,
                "in_flight": total - sum(share[: second + 1]),
                "breaker_state": state,
            }
        )
    return rows


def _records(mode: str, total: int, latency_s: float, rng: random.Random) -> list[dict[str, Any]]:
    out = []
    for i in range(total):
        start_s = 0.01 * i
        lat = latency_s * (1.0 + rng.uniform(0.0, 0.2))
        out.append(
            {
                "request_id": i,
                "user": i,
                "mode": mode,
                "intended_start_s": start_s,
                "start_s": start_s,
                "first_byte_s": None,
                "end_s": start_s + lat,
                "latency_s": lat,
                "ttft_s": None,
                "outcome": "ok",
                "status": 200,
                "error": None,
                "attempts": 1,
                "retry_wait_s": 0.0,
                "breaker_state_at_start": "closed",
                "prompt_tokens": 10,
                "output_tokens": 20,
            }
        )
    return out


def write_results(directory: Path, doc: dict[str, Any], name: str = "run") -> Path:
    """Write ``doc`` as ``<directory>/<name>/results.json`` and return that file's path."""
    run_dir = directory / name
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "results.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


BuildResults = Callable[..., dict[str, Any]]
WriteResults = Callable[..., Path]


@pytest.fixture
def build() -> BuildResults:
    """The builder itself, for tests that edit a document before writing it."""
    return build_results


@pytest.fixture
def write(tmp_path: Path) -> WriteResults:
    """``write(doc, name)`` → path of ``tmp_path/<name>/results.json``."""
    return functools.partial(write_results, tmp_path)


@pytest.fixture
def faulty_results(tmp_path: Path) -> Path:
    """A results file with faults, retries and breaker transitions, 3 repetitions."""
    return write_results(tmp_path, build_results(faults=True), "faulty")
