"""``python -m mock_gemini``: one ready line, clean stop on signals, one-line errors."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

READY = "mock_gemini listening on http://127.0.0.1:"


@pytest.fixture
def spawn() -> Iterator[list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def start(procs: list[subprocess.Popen[str]], *args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mock_gemini", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    procs.append(proc)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith(READY), line
    return proc, line.split(" on ", 1)[1].strip()


@pytest.mark.parametrize(
    "signum", [pytest.param(signal.SIGTERM, id="SIGTERM"), pytest.param(signal.SIGINT, id="SIGINT")]
)
def test_serves_then_stops_cleanly_on_a_signal(
    spawn: list[subprocess.Popen[str]], signum: int
) -> None:
    proc, url = start(spawn, "--fault", "503=1")
    request = urllib.request.Request(
        url + "/v1beta/models/gemini-2.5-flash:generateContent",
        data=json.dumps({"contents": [{"parts": [{"text": "hi"}]}]}).encode(),
        headers={"x-goog-api-key": "k", "Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 503  # the flag reached the server
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=10)
    assert (proc.returncode, out, err) == (0, "", "")


def test_config_file_is_read_and_flags_override_it(
    spawn: list[subprocess.Popen[str]], tmp_path: Path
) -> None:
    config = tmp_path / "mock.toml"
    config.write_text('rpm = 5\nfaults = { "500" = 0.5 }\n')
    _, url = start(spawn, "--config", str(config), "--rpm", "7")
    with urllib.request.urlopen(url + "/_mock/config", timeout=5) as response:
        settings = json.load(response)
    assert (settings["rpm"], settings["faults"]) == (7, {"500": 0.5})


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        pytest.param(["--fault", "teapot=0.1"], "teapot", id="bad-fault"),
        pytest.param(["--latency", "-1"], "-1", id="negative-latency"),
        pytest.param(["--schedule", "outage:5"], "outage:5", id="bad-window"),
        pytest.param(["--no-such-flag"], "--no-such-flag", id="unknown-flag"),
        pytest.param(["--loop", "trio"], "trio", id="unknown-loop"),
        pytest.param(["--config", "/nonexistent/mock.toml"], "mock.toml", id="missing-file"),
    ],
)
def test_bad_flags_exit_2_with_one_line(args: list[str], needle: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mock_gemini", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in result.stderr


def test_bad_toml_values_exit_2_with_one_line(tmp_path: Path) -> None:
    config = tmp_path / "mock.toml"
    config.write_text('rpm = "lots"\n')
    result = subprocess.run(
        [sys.executable, "-m", "mock_gemini", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "rpm" in result.stderr


@pytest.mark.parametrize("loop", ["asyncio", "uvloop", "auto"])
def test_serves_on_the_event_loop_asked_for(spawn: list[subprocess.Popen[str]], loop: str) -> None:
    _, url = start(spawn, "--loop", loop)
    with urllib.request.urlopen(url + "/_mock/stats", timeout=5) as response:
        stats = json.load(response)
    expected = "asyncio" if loop == "asyncio" else "uvloop"
    assert stats["event_loop"].startswith(expected), stats["event_loop"]


def test_loop_factory_falls_back_or_refuses_without_uvloop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import uvloop

    from mock_gemini.__main__ import loop_factory
    from mock_gemini.config import MockConfigError

    assert loop_factory("asyncio") is None
    assert loop_factory("auto") is uvloop.new_event_loop
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop now raises ImportError
    assert loop_factory("auto") is None
    with pytest.raises(MockConfigError, match="uvloop is not installed"):
        loop_factory("uvloop")
