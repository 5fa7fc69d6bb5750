"""The generic locustfile runs a service spec: headless, and master with two workers.

Locust runs in a subprocess (it patches the process with gevent); the spec is a file in the
test's directory, describing the test app of tests/service_load/apps (its /async endpoint,
or its 200-with-error answers when the mock fails), started by the spec's own command.
"""

from __future__ import annotations

import csv
import shlex
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
APPS = REPO / "tests" / "service_load" / "apps"
LOCUSTFILE = REPO / "scenarios" / "service_locustfile.py"


def _spec(tmp_path: Path, fault: float = 0.0) -> Path:
    command = (f"{shlex.quote(sys.executable)} -m uvicorn --app-dir {shlex.quote(str(APPS))} "
               "recipe_apps:app --host 127.0.0.1 --port {port} --log-level warning")  # fmt: skip
    spec = tmp_path / "spec.toml"
    spec.write_text(f"""
description = "the test app's async endpoint"
[service]
command = {command!r}
env = {{ GOOGLE_GEMINI_BASE_URL = "{{upstream_url}}" }}
ready = "/health"
[[service.requests]]
path = "/async"
body = {{ ingredients = "{{ingredients}}" }}
[service.ok]
status = [200]
absent = ["$.error"]
[mock]
latency = 0.05
faults = {{ "503" = {fault} }}
""")
    return spec


def _rows(prefix: Path) -> dict[str, dict[str, str]]:
    with open(f"{prefix}_stats.csv", newline="") as file:
        return {row["Name"]: row for row in csv.DictReader(file)}


def _locust(args: list[str], timeout_s: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *args], cwd=REPO,
        capture_output=True, text=True, timeout=timeout_s,
    )  # fmt: skip


def test_a_spec_runs_headless_and_its_judge_counts(tmp_path: Path) -> None:
    prefix = tmp_path / "ok"
    done = _locust(["--service-spec", str(_spec(tmp_path)), "--headless", "-u", "4", "-r", "4",
                    "-t", "3s", "--csv", str(prefix), "--only-summary"])  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    row = _rows(prefix)["POST /async"]
    assert int(row["Request Count"]) > 10 and int(row["Failure Count"]) == 0


def test_a_200_with_an_error_is_a_locust_failure(tmp_path: Path) -> None:
    prefix = tmp_path / "failing"
    done = _locust(["--service-spec", str(_spec(tmp_path, fault=1.0)), "--headless", "-u", "2",
                    "-r", "2", "-t", "2s", "--csv", str(prefix), "--only-summary"])  # fmt: skip
    row = _rows(prefix)["POST /async"]
    assert int(row["Request Count"]) > 0
    assert int(row["Failure Count"]) == int(row["Request Count"]), done.stderr[-2000:]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_master_and_two_workers_run_the_same_spec(tmp_path: Path) -> None:
    spec, port, prefix = str(_spec(tmp_path)), str(_free_port()), tmp_path / "dist"
    base = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--service-spec", spec]
    worker = [*base, "--worker", "--master-host", "127.0.0.1", "--master-port", port]
    master = [*base, "--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", port,
              "--headless", "-u", "4", "-r", "4", "-t", "4s", "--expect-workers", "2",
              "--csv", str(prefix), "--only-summary"]  # fmt: skip
    procs = [subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True) for cmd in (master, worker, worker)]  # fmt: skip
    try:
        codes = [proc.wait(timeout=120) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    errors = procs[0].stderr.read() if procs[0].stderr else ""
    assert codes == [0, 0, 0], errors[-2000:]
    assert "2 workers connected" in errors
    row = _rows(prefix)["POST /async"]
    assert int(row["Request Count"]) > 10 and int(row["Failure Count"]) == 0
