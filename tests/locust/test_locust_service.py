"""Locust against the recipe service, always as a subprocess (never imported here: gevent).

One module-scoped run per service mode (50 users, 0.5 s upstream) feeds both the
"no failures" checks and the seed's claim: async and threaded serve many times the
requests per second of the blocking design.
"""

from __future__ import annotations

import contextlib
import csv
import json
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest

from harness.run.service_child import ServiceProcess

REPO = Path(__file__).resolve().parents[2]
CONF = ["--config", "scenarios/locust.conf"]
LOCUST = [sys.executable, "-m", "locust"]
MODES = ("async", "threaded", "blocking")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_locust(args: list[str], timeout_s: float = 60) -> subprocess.CompletedProcess[str]:
    cmd = [*LOCUST, *args]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout_s)


def start_locust(args: list[str], log: IO[str]) -> subprocess.Popen[str]:
    return subprocess.Popen([*LOCUST, *args], cwd=REPO, stdout=log, stderr=log, text=True)


def stats_rows(prefix: Path) -> dict[str, dict[str, str]]:
    """The rows of ``PREFIX_stats.csv`` by name ("Aggregated", "/recipes/generate", ...)."""
    with open(f"{prefix}_stats.csv", newline="") as file:
        return {f"{row['Type']} {row['Name']}".strip(): row for row in csv.DictReader(file)}


def counts(row: dict[str, str]) -> tuple[int, int]:
    return int(row["Request Count"]), int(row["Failure Count"])


@pytest.fixture(scope="module")
def mode_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict[str, str]]]:
    """Each mode under 50 users for 6 s with a 0.5 s upstream; the stats rows of each."""
    out = tmp_path_factory.mktemp("modes")
    rows = {}
    for mode in MODES:
        prefix = out / mode
        args = [*CONF, "--headless", "-u", "50", "-r", "50", "-t", "6s", "--service-mode", mode]
        done = run_locust([*args, "--mock-latency", "0.5", "--csv", str(prefix)])
        assert done.returncode == 0, done.stderr[-2000:]
        assert f"recipe service ({mode}) on http://127.0.0.1:" in done.stderr
        rows[mode] = stats_rows(prefix)
    return rows


@pytest.mark.parametrize("mode", [pytest.param(m, id=m) for m in MODES])
def test_a_headless_run_of_each_mode_has_no_failures(
    mode: str, mode_runs: dict[str, dict[str, dict[str, str]]]
) -> None:
    rows = mode_runs[mode]
    total, failures = counts(rows["Aggregated"])
    assert total > 0 and failures == 0
    assert counts(rows["POST /recipes/generate"])[0] > 0
    assert not any("[fallback]" in name for name in rows)


@pytest.mark.parametrize(
    "mode", [pytest.param("async", id="async"), pytest.param("threaded", id="threaded")]
)
def test_the_seed_claim_non_blocking_modes_serve_many_times_more(
    mode: str, mode_runs: dict[str, dict[str, dict[str, str]]]
) -> None:
    rps = {m: float(mode_runs[m]["Aggregated"]["Requests/s"]) for m in MODES}
    # 50 users / 0.5 s allow ~100 req/s; blocking serves one generation at a time (~2 req/s).
    assert rps[mode] >= 3 * rps["blocking"], rps
    assert rps["blocking"] < 3, rps


def test_fallbacks_succeed_under_their_own_name(tmp_path: Path) -> None:
    prefix = tmp_path / "fallback"
    args = [*CONF, "--headless", "-u", "4", "-r", "4", "-t", "3s", "--think-time", "0.1"]
    done = run_locust(
        [*args, "--mock-latency", "0.02", "--mock-fault-rate", "1", "--csv", str(prefix)]
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = stats_rows(prefix)
    fallbacks, failed = counts(rows["POST /recipes/generate [fallback]"])
    assert fallbacks > 0 and failed == 0
    assert "POST /recipes/generate" not in rows  # no generation got through the faulty mock


def test_a_given_host_is_used_and_502s_are_failures(tmp_path: Path) -> None:
    prefix = tmp_path / "failing"
    service_args = ["--latency", "0", "--fault", "503=1", "--resilience", "none"]
    with ServiceProcess(service_args) as service:
        args = [*CONF, "--headless", "-u", "2", "-r", "2", "-t", "3s", "--think-time", "0.1"]
        done = run_locust([*args, "--host", service.url, "--csv", str(prefix)])
    assert done.returncode == 1  # Locust's exit status when any request failed
    assert "recipe service (" not in done.stderr  # nothing was started for us
    total, failures = counts(stats_rows(prefix)["Aggregated"])
    assert total == failures > 0
    failures_csv = Path(f"{prefix}_failures.csv").read_text()
    assert "HTTP 502: recipe generation failed: OverloadedError (HTTP 503)" in failures_csv


def test_master_and_two_workers_share_the_load(tmp_path: Path) -> None:
    port, prefix = str(free_port()), tmp_path / "dist"
    master_args = [*CONF, "--headless", "--master", "--expect-workers", "2"]
    master_args += ["--master-bind-host", "127.0.0.1", "--master-bind-port", port]
    master_args += ["-u", "10", "-r", "10", "-t", "5s", "--mock-latency", "0.05"]
    worker_args = ["-f", "scenarios/locustfile.py", "--worker", "--master-host", "127.0.0.1"]
    with contextlib.ExitStack() as stack:
        logs = [stack.enter_context(tempfile.TemporaryFile("w+")) for _ in range(3)]
        procs = [start_locust([*master_args, "--csv", str(prefix)], logs[0])]
        procs += [start_locust([*worker_args, "--master-port", port], log) for log in logs[1:]]
        stack.callback(_kill_all, procs)
        codes = [proc.wait(60) for proc in procs]
        texts = [_read(log) for log in logs]
    assert codes == [0, 0, 0], texts[0][-2000:]
    assert "2 workers connected" in texts[0]
    total, failures = counts(stats_rows(prefix)["Aggregated"])
    assert total > 0 and failures == 0
    match = re.search(r"requests per worker: (\{.*\})", texts[0])
    assert match is not None
    per_worker = json.loads(match[1])
    assert len(per_worker) == 2 and all(n > 0 for n in per_worker.values())
    assert sum(per_worker.values()) == total


def _kill_all(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _read(log: IO[str]) -> str:
    log.seek(0)
    return log.read()


def _wait_for(check: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"not true within {timeout_s} s")


@pytest.fixture
def web_locust() -> Iterator[tuple[str, subprocess.Popen[str], IO[str]]]:
    port = free_port()
    with tempfile.TemporaryFile("w+") as log:
        proc = start_locust([*CONF, "--web-port", str(port), "--mock-latency", "0.05"], log)
        try:
            yield f"http://127.0.0.1:{port}", proc, log
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_web_ui_starts_a_run_with_the_form_options(
    web_locust: tuple[str, subprocess.Popen[str], IO[str]],
) -> None:
    ui, proc, log = web_locust
    _wait_for(lambda: httpx.get(f"{ui}/", timeout=2).status_code == 200, 30)
    form = {"user_count": "5", "spawn_rate": "5", "service_mode": "threaded"}
    assert httpx.post(f"{ui}/swarm", data=form, timeout=30).json()["success"] is True

    def served() -> bool:
        stats = httpx.get(f"{ui}/stats/requests", timeout=5).json()
        total = next(s for s in stats["stats"] if s["name"] == "Aggregated")
        return bool(total["num_requests"] > 0 and stats["state"] == "running")

    _wait_for(served, 30)
    text = _read(log)
    assert f"Starting web interface at {ui}" in text  # bound to loopback only
    match = re.search(r"recipe service \(threaded\) on (http://127\.0\.0\.1:\d+)", text)
    assert match is not None  # the mode chosen in the form restarted the service
    service = httpx.get(f"{match[1]}/stats", timeout=5).json()
    assert service["mode"] == "threaded" and service["requests_served"] > 0
    proc.send_signal(signal.SIGTERM)  # mid-run, as Ctrl-C would: users stop before the service
    code = proc.wait(30)
    assert code == 0, _read(log)[-3000:]
    with pytest.raises(httpx.ConnectError):  # the service was stopped with Locust
        httpx.get(f"{match[1]}/health", timeout=2)
