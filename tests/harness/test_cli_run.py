"""``python -m harness run`` and ``sweep`` end to end, and their one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main

TINY = """\
# Two users, two requests, no wait.
description = "Two users, two requests, no wait."

[workload]
users = 2
requests_per_user = 2

[designs]
modes = ["sequential", "async"]

[mock]
latency = 0.01
"""


def _harness(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        capture_output=True, text=True, timeout=120, cwd=cwd,
    )  # fmt: skip


def _scenario(tmp_path: Path, text: str = TINY, name: str = "tiny.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _results(run_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((run_dir / "results.json").read_text())
    return data


def test_run_writes_results_and_the_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _harness("run", str(_scenario(tmp_path)), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "verdict:" in proc.stdout and f"report: {out / 'report.html'}" in proc.stdout
    data = _results(out)
    assert data["command"] == ["run", str(tmp_path / "tiny.toml"), "--out", str(out)]
    assert data["config"]["scenario"]["name"] == "tiny"
    assert data["config"]["scenario"]["description"] == "Two users, two requests, no wait."
    assert [(r["mode"], len(r["records"])) for r in data["runs"]] == [
        ("sequential", 4),
        ("async", 4),
    ]
    assert (out / "report.html").stat().st_size > 0 and (out / "throughput.png").exists()


def test_set_overrides_the_file_and_is_recorded(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _harness("run", str(_scenario(tmp_path)), "--set", "workload.users=[1,3]",
                    "--set", "designs.modes=async", "--set", "mock.latency=0",
                    "--out", str(out), "--no-report")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = _results(out)
    assert [(r["mode"], r["users"]) for r in data["runs"]] == [("async", 1), ("async", 3)]
    assert data["config"]["mock"]["latency"] == "fixed:0"
    assert data["config"]["scenario"]["set"] == [
        "workload.users=[1,3]", "designs.modes=async", "mock.latency=0"
    ]  # fmt: skip
    assert not (out / "report.html").exists()


def test_output_report_false_skips_the_report_and_json_prints_only_json(tmp_path: Path) -> None:
    out = tmp_path / "out"
    path = _scenario(tmp_path, TINY + "\n[output]\nreport = false\n")
    proc = _harness("run", str(path), "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["results"] == str(out / "results.json")
    assert not (out / "report.html").exists()


def test_without_out_the_run_goes_to_runs_stamp_name(tmp_path: Path) -> None:
    proc = _harness("run", str(_scenario(tmp_path)), "--no-report", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = (tmp_path / "runs").glob("*-tiny")
    assert run_dir.name.endswith("Z-tiny") and (run_dir / "results.json").exists()


RUN_ERRORS = [
    pytest.param(TINY.replace("users = 2", "users = 0"), [], "workload.users", id="bad-value"),
    pytest.param(TINY + "\n[extra]\nx = 1\n", [], "extra", id="unknown-section"),
    pytest.param(TINY, ["--set", "workload"], "expected KEY=VALUE", id="bad-set"),
    pytest.param(TINY, ["--set", "mock.latency=-1"], "latency", id="bad-mock-set"),
    pytest.param(TINY, ["--set", "designs.modes=turbo"], "'turbo'", id="unknown-mode"),
]


@pytest.mark.parametrize(("text", "extra", "needle"), RUN_ERRORS)
def test_run_errors_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, extra: list[str], needle: str
) -> None:
    path = _scenario(tmp_path, text)
    code = main(["run", str(path), *extra, "--out", str(tmp_path / "o"), "--no-report"])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and str(path) in lines[0], err
    assert not (tmp_path / "o").exists()


def test_run_of_a_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tmp_path / "absent.toml")]) == 2
    assert "absent.toml: cannot read" in capsys.readouterr().err


def test_sweep_runs_each_user_count_with_compare_flags(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    proc = _harness("sweep", "--users", "1,4", "--modes", "sequential,threaded",
                    "--latency", "0.01", "--requests-per-user", "2", "--seed-limits",
                    "--out", str(out))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = _results(out)
    assert data["command"][0] == "sweep"
    caps = {(r["mode"], r["users"]): r["concurrency_cap"] for r in data["runs"]}
    assert caps == {("sequential", 1): 1, ("threaded", 1): 5, ("sequential", 4): 1,
                    ("threaded", 4): 5}  # fmt: skip
    assert all(len(r["records"]) == 2 * r["users"] for r in data["runs"])
    assert {c["users"] for c in data["comparison"]} == {1, 4}
    assert (out / "throughput.png").stat().st_size > 0


SWEEP_ERRORS = [
    pytest.param(["--users", "1,x"], "--users", id="not-a-number"),
    pytest.param(["--users", "0,5"], "--users", id="zero"),
    pytest.param(["--users", "5,5"], "distinct", id="duplicate"),
    pytest.param(["--users", "1", "--modes", "nope"], "nope", id="unknown-mode"),
]


@pytest.mark.parametrize(("args", "needle"), SWEEP_ERRORS)
def test_sweep_errors_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    try:
        code = main(["sweep", *args, "--no-report"])
    except SystemExit as exc:  # argparse's own usage errors
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], err
