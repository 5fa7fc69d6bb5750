"""``python -m harness serve`` as a user runs it: a child process on 127.0.0.1 port 0."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator

import httpx
import psutil
import pytest

from harness.run.embedded import EmbeddedMock
from harness.run.service_child import ServiceProcess

SECRET = "sk-test-0123456789-SECRET"
BODY = {"ingredients": ["chicken", "rice"]}


@pytest.fixture(scope="module")
def mock_url() -> Iterator[str]:
    with EmbeddedMock({"latency": 0.02}) as mock:
        yield mock.url


def _children(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def _pid(service: ServiceProcess) -> int:
    assert service._proc is not None
    return service._proc.pid


def _stop(service: ServiceProcess, sig: signal.Signals) -> int:
    assert service._proc is not None
    service._proc.send_signal(sig)
    return service._proc.wait(15)


@pytest.mark.parametrize(
    "sig", [pytest.param(signal.SIGINT, id="ctrl-c"), pytest.param(signal.SIGTERM, id="sigterm")]
)
def test_serves_with_an_embedded_mock_and_stops_it_on_a_signal(sig: signal.Signals) -> None:
    args = ["--mode", "threaded", "--latency", "0.02", "--api-key", SECRET]
    args += ["--fault", "503=0.5", "--seed", "3", "--resilience", "seed", "-v", "--log-json"]
    with ServiceProcess(args) as service:
        assert service.mode == "threaded" and service.url.startswith("http://127.0.0.1:")
        mocks = [p for p in _children(_pid(service)) if "mock_gemini" in " ".join(p.cmdline())]
        assert len(mocks) == 1
        with httpx.Client(base_url=service.url, timeout=10) as c:
            answers = [c.post("/recipes/generate", json=BODY) for _ in range(6)]
            answers.append(c.post("/recipes/generate-batch", json=[BODY, BODY]))
            answers.append(c.post("/recipes/generate", json={"ingredients": []}))
            stats = c.get("/stats")
        assert _stop(service, sig) == 0
        assert "recipe service stopped" in service.stderr_text()
        assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in mocks)
    outcomes = stats.json()["outcomes"]
    assert outcomes["ok"] > 0 and outcomes["fallback"] > 0  # the key was accepted; faults fell back
    assert all(SECRET not in a.text for a in [*answers, stats])
    log = service.stderr_text()
    assert SECRET not in log
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    generations = [r for r in records if r["message"] == "recipe generation"]
    assert len(generations) == 8
    for record in generations:
        assert record["ingredients_count"] == 2 and record["latency_s"] > 0
        assert record["outcome"] in ("ok", "fallback") and record["recipe_count"] == 3


def test_upstream_uses_a_running_mock_and_starts_none(mock_url: str) -> None:
    with ServiceProcess(["--mode", "blocking", "--upstream", mock_url]) as service:
        assert _children(_pid(service)) == []
        resp = httpx.post(f"{service.url}/recipes/generate", json=BODY, timeout=10)
        assert resp.status_code == 200 and resp.json()["outcome"] == "ok"
        assert httpx.get(f"{service.url}/stats", timeout=10).json()["mode"] == "blocking"


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "harness", "serve", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(["--concurrency", "0"], "concurrency must be an integer >= 1, got 0", id="c0"),
        pytest.param(["--workers", "-1"], "workers must be an integer >= 1, got -1", id="w-1"),
        pytest.param(
            ["--max-body-bytes", "0"], "max_body_bytes must be an integer >= 1, got 0", id="body0"
        ),
        pytest.param(["--port", "70000"], "--port must be within 0..65535, got 70000", id="port"),
        pytest.param(
            ["--upstream", "http://127.0.0.1:1"], "--base-url http://127.0.0.1:1", id="dead"
        ),
    ],
)
def test_bad_settings_end_in_one_line_and_status_2(args: list[str], expected: str) -> None:
    done = _serve("--port", "0", *args)
    assert done.returncode == 2
    assert expected in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_a_busy_port_is_reported(mock_url: str) -> None:
    with ServiceProcess(["--upstream", mock_url]) as service:
        port = service.url.rsplit(":", 1)[1]
        done = _serve("--port", port, "--upstream", mock_url)
    assert done.returncode == 2
    assert f"--port {port}: cannot listen on 127.0.0.1" in done.stderr
