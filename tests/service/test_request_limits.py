"""``serve --max-body-bytes``: a body over the cap is a JSON 413, before the service reads it.

Real ``python -m harness serve`` processes on 127.0.0.1 port 0. The raw-socket tests send a
request whose body never arrives (or never ends): an answer proves the service did not
wait for the body.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from harness.run.embedded import EmbeddedMock
from harness.run.service_child import ServiceProcess
from harness.service import DEFAULT_MAX_BODY_BYTES

CAP = 4096
MODES = [pytest.param(m, id=m) for m in ("async", "threaded", "blocking")]
GENERATE = "/recipes/generate"
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def mock_url() -> Iterator[str]:
    with EmbeddedMock({"latency": 0.01}) as mock:
        yield mock.url


@pytest.fixture(scope="module", params=MODES)
def capped_url(request: pytest.FixtureRequest, mock_url: str) -> Iterator[str]:
    args = ["--mode", request.param, "--upstream", mock_url, "--max-body-bytes", str(CAP)]
    with ServiceProcess(args) as service:
        yield service.url


def padded_body(size: int) -> bytes:
    """A valid generation body of exactly ``size`` bytes (JSON padded with spaces)."""
    body = json.dumps({"ingredients": ["egg"]}).encode()
    assert len(body) <= size
    return body + b" " * (size - len(body))


def chunks(body: bytes, size: int = 1000) -> Iterator[bytes]:
    """``body`` as a stream: httpx then sends it chunked, without a Content-Length."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def raw_exchange(url: str, head: bytes, body: bytes = b"", timeout_s: float = 5.0) -> bytes:
    """Send ``head`` and ``body`` on a new connection, then read until the server closes it.

    Never sends anything after ``body``: a request left unfinished must still be answered.
    """
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout_s) as sock:
        sock.sendall(head + body)
        received = b""
        deadline = time.monotonic() + timeout_s
        while len(received) < 1 << 16 and time.monotonic() < deadline:
            data = sock.recv(4096)
            if not data:
                break
            received += data
    return received


def status_and_json(answer: bytes) -> tuple[int, dict[str, object], str]:
    """The status, the JSON body and the raw head of a whole HTTP/1.1 answer."""
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body), head.decode("latin-1").lower()


def assert_too_large(status: int, body: dict[str, object], cap: int = CAP) -> None:
    assert status == 413
    assert body == {"detail": f"request body over the limit of {cap} bytes"}


def test_a_declared_length_over_the_cap_is_refused_before_any_body(capped_url: str) -> None:
    head = (
        f"POST {GENERATE} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {100 * 1024 * 1024}\r\n\r\n"
    ).encode()
    status, body, raw_head = status_and_json(raw_exchange(capped_url, head))
    assert_too_large(status, body)
    assert "connection: close" in raw_head and "application/json" in raw_head


def test_a_chunked_body_over_the_cap_is_refused_before_it_ends(capped_url: str) -> None:
    head = (
        f"POST {GENERATE} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    chunk = b"%x\r\n%s\r\n" % (CAP + 1, b" " * (CAP + 1))  # no last chunk follows
    status, body, _ = status_and_json(raw_exchange(capped_url, head, chunk))
    assert_too_large(status, body)


@pytest.mark.parametrize(
    ("size", "status"),
    [pytest.param(CAP, 200, id="at-the-cap"), pytest.param(CAP + 1, 413, id="one-byte-over")],
)
@pytest.mark.parametrize(
    "chunked", [pytest.param(False, id="length"), pytest.param(True, id="chunked")]
)
def test_the_cap_is_exact_with_or_without_a_length(
    capped_url: str, size: int, status: int, chunked: bool
) -> None:
    body = padded_body(size)
    content = chunks(body) if chunked else body
    with httpx.Client(base_url=capped_url, timeout=10) as client:
        resp = client.post(GENERATE, content=content, headers=JSON)
        assert ("content-length" not in resp.request.headers) is chunked
        assert resp.status_code == status
        if status == 413:
            assert_too_large(resp.status_code, resp.json())
    with httpx.Client(base_url=capped_url, timeout=10) as client:
        assert client.post(GENERATE, json={"ingredients": ["egg"]}).status_code == 200


def test_the_default_cap_is_one_mib(mock_url: str) -> None:
    at_cap, over = padded_body(DEFAULT_MAX_BODY_BYTES), padded_body(DEFAULT_MAX_BODY_BYTES + 1)
    with ServiceProcess(["--upstream", mock_url]) as service:
        at_cap_resp = httpx.post(service.url + GENERATE, content=at_cap, headers=JSON, timeout=10)
        over_resp = httpx.post(
            service.url + GENERATE, content=chunks(over, 65536), headers=JSON, timeout=10
        )
    assert at_cap_resp.status_code == 200
    assert_too_large(over_resp.status_code, over_resp.json(), DEFAULT_MAX_BODY_BYTES)
