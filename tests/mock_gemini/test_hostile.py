"""Hostile requests: each is answered with a Google JSON error, and the mock keeps serving.

Every test talks to a real mock on 127.0.0.1 (its own thread and loop) over a raw socket,
so that bytes aiohttp's parser refuses reach the server unchanged.
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_gemini import MockConfig, start_mock_in_thread
from mock_gemini.embedded import MockHandle

GENERATE = "/v1beta/models/gemini-2.5-flash:generateContent"
EMBED_BATCH = "/v1beta/models/gemini-embedding-001:batchEmbedContents"
PROMPT = {"contents": [{"parts": [{"text": "Ingredients: rice"}]}]}
BODY_TIMEOUT_S = 0.5
STATUSES = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
SOCKET_TIMEOUT_S = 20.0


@pytest.fixture(scope="module")
def mock() -> Iterator[MockHandle]:
    with start_mock_in_thread(MockConfig(body_timeout_s=BODY_TIMEOUT_S)) as handle:
        yield handle


def port_of(mock: MockHandle) -> int:
    return int(mock.url.rsplit(":", 1)[1])


def exchange(port: int, data: bytes, timeout_s: float = SOCKET_TIMEOUT_S) -> tuple[int, bytes]:
    """Send raw bytes, read one HTTP answer: (status, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        with contextlib.suppress(OSError):  # the mock may answer and close before reading all
            sock.sendall(data)
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert response.getheader("Content-Type", "").startswith("application/json")
        return response.status, response.read()


def request_bytes(
    method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "x-goog-api-key: k"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body and "Transfer-Encoding" not in (headers or {}):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def post(port: int, path: str, obj: Any) -> tuple[int, bytes]:
    return exchange(port, request_bytes("POST", path, json.dumps(obj).encode()))


def error_of(status: int, body: bytes) -> dict[str, Any]:
    """The ``error`` object of a Google error body, checked against the HTTP status."""
    decoded = json.loads(body)
    error = decoded[0]["error"] if isinstance(decoded, list) else decoded["error"]
    assert error["code"] == status and isinstance(error["message"], str)
    assert error["status"] == STATUSES.get(status, error["status"]) and error["status"].isupper()
    return dict(error)


def assert_serving(port: int) -> None:
    """A normal generateContent is answered within 1 s."""
    started = time.monotonic()
    status, body = exchange(port, request_bytes("POST", GENERATE, json.dumps(PROMPT).encode()), 1)
    assert status == 200 and json.loads(body)["candidates"]
    assert time.monotonic() - started < 1.0


def schema_request(key: str, schema: dict[str, Any]) -> dict[str, Any]:
    config = {"responseMimeType": "application/json", key: schema}
    return {**PROMPT, "generationConfig": config}


def nested(depth: int, leaf: Any) -> Any:
    for _ in range(depth):
        leaf = {"type": "ARRAY", "minItems": 1000, "items": leaf}
    return leaf


@pytest.mark.parametrize("key", ["responseSchema", "responseJsonSchema"])
@pytest.mark.parametrize(
    ("schema", "field"),
    [
        pytest.param({"type": "ARRAY", "minItems": 10**9}, "min_items", id="min-items-1e9"),
        pytest.param({"type": "ARRAY", "minItems": 10**6}, "min_items", id="min-items-1e6"),
        pytest.param({"type": "STRING", "minLength": 10**9}, "min_length", id="min-length"),
        pytest.param(nested(3, {"type": "STRING"}), "items", id="nested-arrays"),
    ],
)
def test_a_schema_asking_too_much_is_refused_naming_the_field(
    mock: MockHandle, key: str, schema: dict[str, Any], field: str
) -> None:
    port = port_of(mock)
    started = time.monotonic()
    status, body = post(port, GENERATE, schema_request(key, schema))
    error = error_of(status, body)
    assert status == 400 and "too many states" in error["message"]
    snake = "response_schema" if key == "responseSchema" else "response_json_schema"
    assert f"generation_config.{snake}" in error["message"] and field in error["message"]
    assert time.monotonic() - started < 1.0
    assert_serving(port)


def test_a_schema_within_the_limits_is_answered_in_full(mock: MockHandle) -> None:
    schema = {"type": "ARRAY", "minItems": 900, "items": {"type": "STRING", "minLength": 50}}
    status, body = post(port_of(mock), GENERATE, schema_request("responseSchema", schema))
    assert status == 200
    text = json.loads(body)["candidates"][0]["content"]["parts"][0]["text"]
    values = json.loads(text)
    assert len(values) == 900 and all(len(value) >= 50 for value in values)


@pytest.mark.parametrize(
    ("count", "status"),
    [pytest.param(10_000, 400, id="10000-refused"), pytest.param(100, 200, id="100-served")],
)
def test_batch_embeddings_are_bounded_like_the_real_api(
    mock: MockHandle, count: int, status: int
) -> None:
    item = {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "rice"}]}}
    got, body = post(port_of(mock), EMBED_BATCH, {"requests": [item] * count})
    assert got == status
    if status == 400:
        assert "requests" in error_of(got, body)["message"]
    else:
        assert len(json.loads(body)["embeddings"]) == count
    assert_serving(port_of(mock))


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"[" * 2000 + b"]" * 2000, id="2000-brackets"),
        pytest.param(b'{"contents": ' + b"[" * 150 + b"]" * 150 + b"}", id="150-in-contents"),
    ],
)
def test_deep_nesting_is_a_400_not_a_500(mock: MockHandle, body: bytes) -> None:
    status, answer = exchange(port_of(mock), request_bytes("POST", GENERATE, body))
    assert status == 400 and "too deep" in error_of(status, answer)["message"]
    assert_serving(port_of(mock))


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(
            request_bytes("POST", f"/v1beta/models/{'m' * 10_000}:generateContent", b"{}"),
            id="10kB-model-name",
        ),
        pytest.param(
            request_bytes("GET", "/v1beta/models", headers={"X-Big": "v" * 10_000}),
            id="10kB-header",
        ),
        pytest.param(request_bytes("G@T", "/v1beta/models"), id="invalid-method"),
        pytest.param(request_bytes("BREW", "/v1beta/models"), id="unknown-method"),
        pytest.param(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", id="tls-hello"),
        pytest.param(
            request_bytes(
                "POST", GENERATE, b"zz\r\n{}\r\n0\r\n\r\n", headers={"Transfer-Encoding": "chunked"}
            ),
            id="bad-chunk-size",
        ),
        pytest.param(
            request_bytes("POST", GENERATE, b"{}", headers={"Content-Length": "-5"}),
            id="negative-length",
        ),
    ],
)
def test_wire_level_errors_are_google_json(mock: MockHandle, data: bytes) -> None:
    status, body = exchange(port_of(mock), data)
    assert status == 400 and error_of(status, body)["status"] == "INVALID_ARGUMENT"
    assert_serving(port_of(mock))


def test_a_body_that_breaks_mid_way_is_answered_at_once(mock: MockHandle) -> None:
    head = request_bytes("POST", GENERATE, headers={"Transfer-Encoding": "chunked"})
    with socket.create_connection(("127.0.0.1", port_of(mock)), timeout=SOCKET_TIMEOUT_S) as sock:
        sock.sendall(head + b"2\r\n{}\r\n")
        time.sleep(0.1)  # the handler is reading the body now
        started = time.monotonic()
        sock.sendall(b"zz\r\n")
        response = http.client.HTTPResponse(sock)
        response.begin()
        status, body = response.status, response.read()
        assert time.monotonic() - started < BODY_TIMEOUT_S  # not left to the body timeout
    assert status == 400 and "chunk size" in error_of(status, body)["message"]


def test_a_compressed_body_is_bounded_after_inflating(mock: MockHandle) -> None:
    bomb = gzip.compress(b" " * (20 * 1024 * 1024 + 1))  # about 20 kB on the wire
    data = request_bytes("POST", GENERATE, bomb, headers={"Content-Encoding": "gzip"})
    status, body = exchange(port_of(mock), data)
    assert status == 400 and "exceeds the limit" in error_of(status, body)["message"]
    assert_serving(port_of(mock))


def test_a_big_body_is_parsed_without_stalling_other_requests(mock: MockHandle) -> None:
    body = b'{"contents": [{"parts": [{"text": "hi"}]}], "labels": [' + b"0," * 2**20 + b"0]}"
    done: list[int] = []
    sender = threading.Thread(
        target=lambda: done.append(
            exchange(port_of(mock), request_bytes("POST", GENERATE, body))[0]
        )
    )
    sender.start()
    while sender.is_alive():
        assert_serving(port_of(mock))  # each within 1 s while the 2 MiB body is worked on
    sender.join()
    assert done == [200]


def test_a_known_method_on_the_wrong_route_is_a_json_405(mock: MockHandle) -> None:
    status, body = exchange(port_of(mock), request_bytes("DELETE", GENERATE))
    assert status == 405 and error_of(status, body)["status"] == "METHOD_NOT_ALLOWED"


def test_a_stalled_body_times_out_while_others_are_served(mock: MockHandle) -> None:
    port = port_of(mock)
    head = request_bytes("POST", GENERATE, headers={"Content-Length": "1000"})
    with socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT_S) as sock:
        sock.sendall(head + b'{"content')
        started = time.monotonic()
        assert_serving(port)  # meanwhile
        response = http.client.HTTPResponse(sock)
        response.begin()
        answered_s = time.monotonic() - started
        status, body = response.status, response.read()
        assert sock.recv(1) == b""  # then the connection is closed
        closed_s = time.monotonic() - started
    assert status == 408 and error_of(status, body)["status"] == "DEADLINE_EXCEEDED"
    assert BODY_TIMEOUT_S - 0.1 <= answered_s < BODY_TIMEOUT_S + 1.0
    assert closed_s < BODY_TIMEOUT_S + 1.0 + 1.5  # the linger (1 s) after the answer


def test_an_oversized_control_body_is_refused(mock: MockHandle) -> None:
    big = json.dumps({"seed": 1, "pad": "x" * 100_000}).encode()
    status, body = exchange(port_of(mock), request_bytes("PUT", "/_mock/config", big))
    assert status == 400 and "exceeds the limit" in error_of(status, body)["message"]
    assert mock.stats()["total"] >= 0 and assert_serving(port_of(mock)) is None


# ---- any bytes ----------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
request_lines = st.binary(max_size=200).filter(lambda b: b"\n" not in b and b"\r" not in b)
header_lines = st.binary(min_size=1, max_size=100).filter(lambda b: b"\n" not in b)
hostile = settings(
    max_examples=40, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip


@hostile
@given(line=request_lines)
def test_any_request_line_is_answered_with_json(mock: MockHandle, line: bytes) -> None:
    status, body = exchange(port_of(mock), line + b"\r\nHost: x\r\n\r\n")
    assert status >= 400 and error_of(status, body)


@hostile
@given(header=header_lines)
def test_any_header_line_is_answered_with_json(mock: MockHandle, header: bytes) -> None:
    data = b"GET /v1beta/modelz HTTP/1.1\r\n" + header + b"\r\n\r\n"
    status, body = exchange(port_of(mock), data)
    assert status >= 400 and error_of(status, body)


@hostile
@given(value=json_values, path=st.sampled_from([GENERATE, EMBED_BATCH, "/_mock/config"]))
def test_any_json_body_is_answered_with_json(mock: MockHandle, value: Any, path: str) -> None:
    method = "PUT" if path == "/_mock/config" else "POST"
    if method == "PUT" and isinstance(value, dict):
        value = {"pad": value}  # an unknown setting: refused, the config stays as it is
    status, body = exchange(port_of(mock), request_bytes(method, path, json.dumps(value).encode()))
    assert status == 400 and error_of(status, body)


schemas = st.recursive(
    st.fixed_dictionaries({"type": st.sampled_from(["STRING", "integer", "NUMBER", "boolean"])})
    | json_values,
    lambda inner: st.fixed_dictionaries(
        {"type": st.sampled_from(["ARRAY", "OBJECT", "array", "object", "null", 5, "x"])},
        optional={
            "items": inner,
            "properties": st.dictionaries(st.text(max_size=6), inner, max_size=3),
            "minItems": st.integers(-5, 10**12) | st.text(max_size=3),
            "maxItems": st.integers(-5, 50) | st.floats(),
            "minLength": st.integers(0, 10**12),
            "anyOf": st.lists(inner, max_size=2),
            "$ref": st.sampled_from(["#", "#/", "#/items", "#/properties/a", "#/$defs/x"]),
            "$defs": st.dictionaries(st.just("x"), inner, max_size=1),
            "enum": st.lists(json_values, max_size=3),
            "minimum": st.floats() | st.integers(),
        },
    ),
    max_leaves=12,
)
generation_configs = st.fixed_dictionaries(
    {"responseMimeType": st.just("application/json")},
    optional={
        "responseSchema": schemas,
        "responseJsonSchema": schemas,
        "maxOutputTokens": json_values,
        "stopSequences": st.lists(st.text(max_size=3), max_size=8) | json_values,
        "thinkingConfig": json_values,
        "seed": json_values,
    },
)


@hostile
@given(config=generation_configs)
def test_any_generation_config_is_answered_or_refused_quickly(
    mock: MockHandle, config: dict[str, Any]
) -> None:
    started = time.monotonic()
    status, body = post(port_of(mock), GENERATE, {**PROMPT, "generationConfig": config})
    assert status in (200, 400) and time.monotonic() - started < 5.0
    if status == 400:
        assert error_of(status, body)
    else:  # the text may be cut short by stopSequences or maxOutputTokens, as on the real API
        assert json.loads(body)["candidates"][0]["finishReason"] in ("STOP", "MAX_TOKENS")


@hostile
@given(body=st.binary(min_size=1, max_size=300))
def test_any_body_bytes_are_answered_with_json(mock: MockHandle, body: bytes) -> None:
    status, answer = exchange(port_of(mock), request_bytes("POST", GENERATE, body))
    assert status == 400 and error_of(status, answer)


# ---- the process ----------------------------------------------------------------------------


def test_sigterm_while_busy_with_big_schemas_exits_promptly() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mock_gemini", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().rsplit(":", 1)[1])
        schema = {"type": "ARRAY", "minItems": 900, "items": {"type": "ARRAY", "minItems": 10}}
        senders = [
            threading.Thread(target=_post_quietly, args=(port, schema_request("responseSchema", s)))
            for s in [schema] * 6 + [{"type": "ARRAY", "minItems": 10**9}] * 2
        ]
        for sender in senders:
            sender.start()
        time.sleep(0.3)  # requests in flight, workers busy
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        assert time.monotonic() - started < 5.0 and proc.returncode == 0
        for sender in senders:
            sender.join(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _post_quietly(port: int, obj: Any) -> None:
    with contextlib.suppress(OSError, http.client.HTTPException):  # the server stopped: fine
        post(port, GENERATE, obj)
