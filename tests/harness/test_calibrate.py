"""Calibration (cached or measured), the open-file limit, the calibrate and bench-self commands."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from harness.errors import ConfigError
from harness.run import calibrate
from harness.run.design import raise_open_file_limit


def _saved(path: Path, age_s: float) -> None:
    block = {
        "kind": "full",
        "measured_unix_s": time.time() - age_s,
        "max_rate_rps": 1234.0,
        "timing_concurrency": 1000,
        "timing_error_s": {"p50": 0.001, "p99": 0.004},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(block))


def _no_measure(plan: calibrate.CalibrationPlan) -> dict[str, Any]:
    raise AssertionError("must not measure")


def test_a_fresh_cache_is_used_with_its_age(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "calibration.json"
    _saved(path, age_s=3600)
    monkeypatch.setattr(calibrate, "measure", _no_measure)
    block = calibrate.calibration_block("auto", path)
    assert block is not None and block["source"] == "cached"
    assert block["age_s"] == pytest.approx(3600, abs=5) and block["max_rate_rps"] == 1234.0


def test_a_stale_or_missing_cache_is_measured_quickly_and_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "calibration.json"
    _saved(path, age_s=calibrate.MAX_CACHE_AGE_S + 10)
    plans: list[calibrate.CalibrationPlan] = []

    def fake(plan: calibrate.CalibrationPlan) -> dict[str, Any]:
        plans.append(plan)
        return {"kind": plan.kind, "measured_unix_s": time.time(), "max_rate_rps": 99.0}

    monkeypatch.setattr(calibrate, "measure", fake)
    block = calibrate.calibration_block("auto", path)
    assert [p.kind for p in plans] == ["quick"]
    assert block is not None and block["source"] == "measured" and block["max_rate_rps"] == 99.0
    assert calibrate.load_cached(path)["max_rate_rps"] == 99.0  # type: ignore[index]
    path.unlink()
    calibrate.calibration_block("auto", path)
    assert len(plans) == 2


def test_off_and_cached_modes_never_measure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(calibrate, "measure", _no_measure)
    assert calibrate.calibration_block("off", tmp_path / "none.json") is None
    assert calibrate.calibration_block("cached", tmp_path / "none.json") is None


def test_a_low_soft_open_file_limit_is_raised_up_to_the_hard_one() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 512:
        pytest.skip("hard open-file limit too low on this machine")
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (128, hard))
        assert raise_open_file_limit(400) == (128, 400)
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == 400
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _limit_files(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))


def test_a_hard_limit_too_low_for_the_run_is_one_clear_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "compare", "--modes", "async", "--users", "500",
         "--latency", "0", "--no-report", "--calibration", "off", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=60, preexec_fn=lambda: _limit_files(200),
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "open-file limit" in lines[0] and "ulimit -n 756" in lines[0]
    with pytest.raises(ConfigError):
        raise_open_file_limit(resource.getrlimit(resource.RLIMIT_NOFILE)[1] + 1)


def test_a_big_run_raises_a_low_soft_limit_itself(tmp_path: Path) -> None:
    def low_soft() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (200, 4096))

    proc = subprocess.run(
        [sys.executable, "-m", "harness", "compare", "--modes", "async", "--users", "400",
         "--latency", "0.2", "--no-report", "--calibration", "off", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=60, preexec_fn=low_soft,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["runs"][0]["summary"]["counts"]["ok"] == 400


def test_every_results_file_carries_the_calibration_block(tmp_path: Path) -> None:
    _saved(tmp_path / "runs" / "calibration.json", age_s=60)
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "compare", "--modes", "async", "--users", "2",
         "--latency", "0", "--no-report", "--out", str(tmp_path / "r")],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "r" / "results.json").read_text())
    assert data["calibration"]["source"] == "cached" and data["calibration"]["age_s"] >= 60
    assert "harness limits" in proc.stdout


def test_calibrate_measures_and_saves(tmp_path: Path) -> None:
    save = tmp_path / "cal.json"
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "calibrate", "--concurrency", "20", "--latency", "0.05",
         "--rate-users", "4", "--rate-requests", "80", "--save", str(save)],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "max request rate" in proc.stdout and "timing error at 20 in flight" in proc.stdout
    block = json.loads(save.read_text())
    assert block["max_rate_rps"] > 0 and block["rate_errors"] == 0 and block["timing_errors"] == 0
    assert 10 <= block["peak_in_flight"] <= 40 and block["reference_error_s"]["p50"] > 0
    assert -0.005 < block["timing_error_s"]["p50"] < 0.5  # measured >= injected, bounded


def test_bench_self_runs_every_client_including_locust(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "bench-self", "--concurrency", "4", "--requests", "60",
         "--rounds", "1", "--locust-seconds", "2", "--out", str(out)],
        capture_output=True, text=True, timeout=110,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert set(report["median_rps"]) == {"bare-aiohttp", "async", "threaded", "locust-fasthttp"}
    assert all(rps > 0 for rps in report["median_rps"].values())
    assert all(r["errors"] == 0 for rounds in report["rounds"].values() for r in rounds)
    assert "async/bare-aiohttp" in report["ratios"] and "async/locust-fasthttp" in proc.stdout
