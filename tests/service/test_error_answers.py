"""Every error the service answers is declared in its OpenAPI, in the declared shape.

A real ``python -m harness serve`` per mode, on 127.0.0.1 port 0, over a mock that always
fails (503) so that generations end in 502. Each answer is checked by Schemathesis against
the service's own ``/openapi.json``: the status is declared for that operation, and the
body matches that status's schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from harness.run.embedded import EmbeddedMock
from harness.run.service_child import ServiceProcess

CAP = 4096
BODY = {"ingredients": ["egg"]}
JSON = {"Content-Type": "application/json"}
CONFORMS = [status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def failing_mock_url() -> Iterator[str]:
    with EmbeddedMock({"latency": 0.01, "faults": {"503": 1.0}}) as mock:
        yield mock.url


@pytest.fixture(
    scope="module", params=[pytest.param(m, id=m) for m in ("async", "threaded", "blocking")]
)
def service(request: pytest.FixtureRequest, failing_mock_url: str) -> Iterator[ServiceProcess]:
    args = ["--mode", request.param, "--upstream", failing_mock_url, "--resilience", "none"]
    with ServiceProcess([*args, "--max-body-bytes", str(CAP)]) as served:
        yield served


@pytest.fixture(scope="module")
def openapi(service: ServiceProcess) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{service.url}/openapi.json")


GEN = "/recipes/generate"
ERRORS = [
    pytest.param("POST", GEN, {"json": {"ingredients": []}}, 422, id="422-field"),
    pytest.param("POST", GEN, {"content": b"{egg", "headers": JSON}, 422, id="422-json"),
    pytest.param("POST", GEN, {"content": b"[" * 3000, "headers": JSON}, 400, id="400-deep"),
    pytest.param("POST", GEN, {"json": BODY}, 502, id="502-failed"),
    pytest.param("POST", GEN, {"content": b" " * (CAP + 1), "headers": JSON}, 413, id="413"),
    pytest.param("POST", "/recipes/generate-batch", {"json": [BODY] * 6}, 400, id="400-batch"),
    pytest.param("POST", "/recipes/generate-batch", {"json": BODY}, 422, id="422-batch"),
    pytest.param("GET", "/health", {"content": b" " * (CAP + 1)}, 413, id="413-get"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "request_kw", "status"), ERRORS)
def test_each_error_is_declared_and_in_its_schema(
    service: ServiceProcess,
    openapi: schemathesis.BaseSchema,
    method: str,
    path: str,
    request_kw: dict[str, Any],
    status: int,
) -> None:
    resp = httpx.request(method, service.url + path, timeout=10, **request_kw)
    assert resp.status_code == status, resp.text
    case = openapi[path][method].Case()
    case.validate_response(resp, checks=CONFORMS)  # raises naming the check that failed


def test_422_is_fastapis_http_validation_error(service: ServiceProcess) -> None:
    document = httpx.get(f"{service.url}/openapi.json", timeout=10).json()
    for path in ("/recipes/generate", "/recipes/generate-batch"):
        declared = document["paths"][path]["post"]["responses"]["422"]
        schema = declared["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/HTTPValidationError"}
    schemas = document["components"]["schemas"]
    assert schemas["HTTPValidationError"]["properties"]["detail"]["type"] == "array"
    assert set(schemas["ValidationError"]["required"]) == {"loc", "msg", "type"}
    resp = httpx.post(
        f"{service.url}/recipes/generate", json={"ingredients": ["x" * 101]}, timeout=10
    )
    assert resp.json() == {
        "detail": [
            {
                "loc": ["body", "ingredients", 0],
                "msg": "String should have at most 100 characters",
                "type": "string_too_long",
            }
        ]
    }


def test_a_schema_violation_is_caught(
    service: ServiceProcess, openapi: schemathesis.BaseSchema
) -> None:
    """The check itself works: the old 422 shape (a string ``detail``) does not pass."""
    resp = httpx.post(f"{service.url}/recipes/generate", json={"ingredients": []}, timeout=10)
    old_shape = httpx.Response(
        422, json={"detail": "body.ingredients: too short", "errors": []}, request=resp.request
    )
    old_shape.elapsed = resp.elapsed
    with pytest.raises(FailureGroup, match="Response violates schema"):
        openapi["/recipes/generate"]["POST"].Case().validate_response(old_shape, checks=CONFORMS)
