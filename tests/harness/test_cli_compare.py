"""``python -m harness compare`` end to end, and its one-line errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

SECRET = "fake-secret-key-never-printed-0123456789"


def _harness(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip


def test_compare_writes_results_and_prints_the_verdict(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = _harness("compare", "--users", "4", "--latency", "0.05", "--out", str(out),
                    "--no-report")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "record invariant: ok" in proc.stdout
    assert re.search(r"^verdict: 4 users: \w+ [\d.]+× faster than sequential; bound allows 4×",
                     proc.stdout, re.M), proc.stdout  # fmt: skip
    data = json.loads((out / "results.json").read_text())
    assert data["schema"] == 2
    assert {r["mode"] for r in data["runs"]} == {"sequential", "threaded", "async"}
    assert all(len(r["records"]) == 4 for r in data["runs"])
    assert data["config"]["service_time_s"] == pytest.approx(0.05)


def test_compare_json_prints_only_json(tmp_path: Path) -> None:
    proc = _harness("compare", "--users", "2", "--modes", "async", "--latency", "0",
                    "--json", "--no-report", "--out", str(tmp_path / "r"))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["runs"][0]["summary"]["counts"]["ok"] == 2


BAD = [
    pytest.param(["--modes", "sequential,bogus"], "bogus", id="unknown-mode"),
    pytest.param(["--users", "0"], "--users", id="zero-users"),
    pytest.param(["--latency-dist", "lognormal:median=x"], "lognormal", id="bad-distribution"),
    pytest.param(["--base-url", "http://127.0.0.1:9"], "cannot connect", id="unreachable"),
    pytest.param(["--target", "gemini"], "GEMINI_API_KEY", id="missing-key"),
    pytest.param(["--fault", "teapot=0.5"], "teapot", id="unknown-fault"),
    pytest.param(["--retry-budget", "lots"], "--retry-budget", id="bad-budget"),
]


@pytest.mark.parametrize(("args", "needle"), BAD)
def test_bad_input_is_one_line_and_exit_2(args: list[str], needle: str) -> None:
    env = {k: v for k, v in __import__("os").environ.items()
           if k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY")}  # fmt: skip
    proc = _harness("compare", "--users", "2", "--no-report", *args, env=env)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_key_never_appears_in_anything_written(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = _harness("compare", "--users", "3", "--latency", "0", "--api-key", SECRET,
                    "--fault", "503=0.5", "-v", "--log-json", "--out", str(out),
                    "--no-report")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "request done" in proc.stderr  # -v really logged each request
    assert SECRET not in proc.stdout + proc.stderr
    for path in out.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(errors="replace"), path
