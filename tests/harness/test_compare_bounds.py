"""The comparison itself: makespan ordering and caps that bound the speed-up, with wide margins."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.gemini import Target
from harness.generators.base import Workload
from harness.measure.bound import bound_s
from harness.resilience.config import preset
from harness.run.design import run_mode
from harness.run.embedded import EmbeddedMock
from harness.run.plan import CompareSpec, concurrency_cap

LATENCY_S = 0.25


@pytest.fixture(scope="module")
def mock_url() -> Iterator[str]:
    with EmbeddedMock({"latency": LATENCY_S}) as mock:
        yield mock.url


def _makespan(mode: str, url: str, users: int, spec: CompareSpec) -> tuple[float, int]:
    cap = concurrency_cap(mode, users, spec)
    run = run_mode(mode, Target(url, "k"), Workload(users), cap, spec)
    return run.makespan_s, cap


def test_sequential_is_slowest_and_concurrent_designs_are_close(mock_url: str) -> None:
    spec = CompareSpec(("sequential", "threaded", "async"), (8,), resilience=preset("none"))
    seq, _ = _makespan("sequential", mock_url, 8, spec)
    thr, _ = _makespan("threaded", mock_url, 8, spec)
    asy, _ = _makespan("async", mock_url, 8, spec)
    assert seq >= 8 * LATENCY_S
    assert seq > 3 * thr and seq > 3 * asy
    assert 0.5 < thr / asy < 2.0


@pytest.mark.parametrize(
    ("mode", "cap"),
    [
        pytest.param("async", 3, id="async-semaphore-3"),
        pytest.param("threaded", 5, id="threaded-5-workers"),
    ],
)
def test_seed_limits_cap_the_speedup_as_the_bound_says(mode: str, cap: int, mock_url: str) -> None:
    spec = CompareSpec((mode,), (10,), seed_limits=True, resilience=preset("none"))
    makespan_s, used_cap = _makespan(mode, mock_url, 10, spec)
    bound = bound_s(10, used_cap, LATENCY_S)
    assert used_cap == cap
    assert makespan_s >= bound * 0.95  # the cap really holds requests back
    assert bound / makespan_s > 0.5


def test_concurrency_caps_default_to_users() -> None:
    spec = CompareSpec(("sequential", "threaded", "async"), (20,))
    assert [concurrency_cap(m, 20, spec) for m in spec.modes] == [1, 20, 20]
    spec = CompareSpec(("threaded", "async"), (20,), workers=4, concurrency=7)
    assert [concurrency_cap(m, 20, spec) for m in spec.modes] == [4, 7]
