"""Stopping a run keeps what was measured, reaps every child and exits promptly.

Each case starts a real ``python -m harness compare`` (embedded mock on 127.0.0.1), waits
until the mock has answered requests, sends a signal and checks: exit 128 + signal, a
``results.json`` marked interrupted whose records hold each request once, no mock left
running, no temporary directory left behind.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
DESIGNS = ("sequential", "threaded", "async", "sdk")
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _start(tmp_path: Path, *flags: str) -> subprocess.Popen[str]:
    argv = [
        sys.executable,
        "-m",
        "harness",
        "compare",
        "--latency",
        "0.2",
        "--no-report",
        "--no-progress",
        "--calibration",
        "off",
        "--out",
        str(tmp_path / "run"),
        *flags,
    ]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT)  # fmt: skip


def _mock_child(proc: subprocess.Popen[str], timeout_s: float = 30.0) -> psutil.Process:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for child in psutil.Process(proc.pid).children(recursive=True):
            if "mock_gemini" in " ".join(child.cmdline()) and child.net_connections("tcp"):
                return child
        time.sleep(0.05)
    raise AssertionError("the embedded mock did not start")


def _served(mock: psutil.Process) -> int:
    port = next(c.laddr.port for c in mock.net_connections("tcp") if c.status == "LISTEN")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_mock/stats", timeout=5) as answer:
        stats = json.loads(answer.read())
    return int(stats["total"])


def _wait_served(
    mock: psutil.Process, at_least: int, timeout_s: float = 30.0, below: int | None = None
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            served = _served(mock)
            if served >= at_least and (below is None or served < below):
                return
        except (OSError, ValueError, StopIteration, psutil.Error):
            pass
        time.sleep(0.05)
    raise AssertionError(f"the mock did not serve {at_least} requests")


def _temp_dir(mock: psutil.Process) -> Path:
    config = re.search(r"--config (\S+)", " ".join(mock.cmdline()))
    assert config
    return Path(config.group(1)).parent


def _stop(proc: subprocess.Popen[str], sig: int) -> tuple[float, str]:
    sent = time.monotonic()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    return time.monotonic() - sent, err


def _check_document(tmp_path: Path) -> dict[str, object]:
    document = json.loads((tmp_path / "run" / "results.json").read_text())
    assert document["interrupted"] is True
    for run in document["runs"]:
        ids = [r["request_id"] for r in run["records"]]
        assert len(ids) == len(set(ids)) == run["summary"]["counts"]["submitted"]
        assert run["summary"]["invariant_ok"]
    return document


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: signal.Signals(s).name)
@pytest.mark.parametrize("design", DESIGNS)
def test_a_signal_mid_run_keeps_the_records_and_leaves_nothing(
    design: str, sig: int, tmp_path: Path
) -> None:
    proc = _start(tmp_path, "--modes", design, "--users", "4", "--requests-per-user", "40")
    mock = _mock_child(proc)
    temp = _temp_dir(mock)
    _wait_served(mock, 6)
    took_s, err = _stop(proc, sig)
    assert proc.returncode == 128 + sig, err
    assert took_s < 10, took_s  # generous on a loaded machine; about 0.5 s when quiet
    document = _check_document(tmp_path)
    (run,) = document["runs"]  # type: ignore[misc]
    counts = run["summary"]["counts"]
    assert counts["ok"] >= 4 and run["summary"]["interrupted"] is True
    assert 0 < counts["submitted"] < 160  # never-started requests were not submitted
    assert not mock.is_running() or mock.status() == psutil.STATUS_ZOMBIE
    assert not temp.exists()


def test_a_signal_between_designs_keeps_the_finished_ones(tmp_path: Path) -> None:
    # threaded with one worker takes as long as sequential: 6 requests of 0.2 s each
    proc = _start(tmp_path, "--modes", "sequential,threaded", "--workers", "1", "--users", "3",
                  "--requests-per-user", "2")  # fmt: skip
    mock = _mock_child(proc)
    _wait_served(mock, 6)  # sequential's 6 …
    _wait_served(mock, 1, below=6)  # … then the mock was reset for threaded, which has started
    _, err = _stop(proc, signal.SIGTERM)
    assert proc.returncode == 143, err
    document = _check_document(tmp_path)
    runs = {r["mode"]: r for r in document["runs"]}  # type: ignore[attr-defined]
    assert runs["sequential"]["summary"]["counts"]["ok"] == 6
    assert "interrupted" not in runs["sequential"]["summary"]


def test_the_mock_never_outlives_a_killed_harness(tmp_path: Path) -> None:
    proc = _start(tmp_path, "--modes", "async", "--users", "2", "--requests-per-user", "100")
    mock = _mock_child(proc)
    proc.kill()  # SIGKILL: no clean-up runs in the harness
    proc.communicate(timeout=30)
    mock.wait(timeout=10)  # the kernel's parent-death signal stopped it
    assert not mock.is_running()
