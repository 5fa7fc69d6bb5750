"""Schemathesis against the service's own OpenAPI, in each mode: every answer conforms.

A real ``python -m harness serve`` on 127.0.0.1 port 0 over an embedded mock. For each
operation, Schemathesis generates valid (positive) and invalid (negative) requests and runs
all its default checks on each answer: no 5xx, a status the operation declares, a body in
that status's schema, invalid data rejected, valid data accepted.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from harness.run.embedded import EmbeddedMock
from harness.run.service_child import ServiceProcess

CASES_PER_OPERATION = 15
"""Per operation and generation mode: about 90 requests a mode."""
BUDGET_S = 60.0
"""Per service mode; blocking mode serves one generation at a time."""


@pytest.fixture(scope="module")
def mock_url() -> Iterator[str]:
    with EmbeddedMock({"latency": 0.005}) as mock:
        yield mock.url


def _check_operation(
    operation: schemathesis.APIOperation,
    generation: GenerationMode,
    url: str,
    http: requests.Session,
) -> None:
    """Run ``CASES_PER_OPERATION`` generated requests; the first failing check raises."""

    @settings(
        max_examples=CASES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation))
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=url, session=http, timeout=10)

    check()


def _generation_modes(operation: schemathesis.APIOperation) -> list[GenerationMode]:
    """Negative cases need something to break: only operations that take a body get them."""
    if len(operation.body) == 0:
        return [GenerationMode.POSITIVE]
    return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]


@pytest.mark.parametrize("mode", [pytest.param(m, id=m) for m in ("async", "threaded", "blocking")])
def test_every_answer_conforms_to_the_services_openapi(mode: str, mock_url: str) -> None:
    args = ["--mode", mode, "--upstream", mock_url, "--resilience", "none"]
    started = time.monotonic()
    with ServiceProcess(args) as service, requests.Session() as http:
        schema = schemathesis.openapi.from_url(f"{service.url}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert {op.label for op in operations} == {
            "GET /health",
            "GET /stats",
            "POST /recipes/generate",
            "POST /recipes/generate-batch",
        }
        for operation in operations:
            for generation in _generation_modes(operation):
                _check_operation(operation, generation, service.url, http)
        stats = http.get(f"{service.url}/stats", timeout=10).json()
    assert stats["outcomes"]["ok"] > 0  # valid cases reached the upstream
    assert time.monotonic() - started < BUDGET_S
