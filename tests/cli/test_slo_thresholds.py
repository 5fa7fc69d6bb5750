"""--slo counts good requests per design; --threshold checks the run's figures, k6-style.

Real runs on the embedded mock (127.0.0.1, port 0) through ``harness.cli.main``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main

QUICK = ["--calibration", "off", "--no-progress", "--no-report"]
SPREAD = ["--latency-dist", "uniform:low=0.01,high=0.15"]


def _document(out: Path) -> dict:
    return json.loads((out / "results.json").read_text())


def test_slo_goodput_counts_only_requests_within_the_slo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    argv = ["compare", "--users", "12", "--modes", "sequential,async", *SPREAD, *QUICK,
            "--slo", "latency<=80ms", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    document = _document(out)
    assert document["config"]["slo"] == "latency<=0.08s"
    for run in document["runs"]:
        summary = run["summary"]
        good = [r for r in run["records"] if r["outcome"] == "ok" and r["latency_s"] <= 0.08]
        ok = [r for r in run["records"] if r["outcome"] == "ok"]
        assert summary["slo_good"] == len(good)
        assert 0 < len(good) < len(ok)  # the spread puts some answers past 80 ms
        assert summary["slo_goodput_rps"] == pytest.approx(len(good) / summary["makespan_s"])
        assert summary["slo_goodput_rps"] < summary["goodput_rps"]
        assert f"{run['mode']} ×12: {len(good)} of 12 good" in printed


def test_a_failing_threshold_exits_1_after_writing_with_marks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    argv = ["compare", "--users", "3", "--modes", "sequential,async", "--latency", "0.05",
            *QUICK, "--threshold", "latency_p99<=2s", "--threshold", "latency_p50<1ms",
            "--threshold", "ok_share>=99%", "--out", str(out)]  # fmt: skip
    assert main(argv) == 1
    printed = capsys.readouterr().out.splitlines()
    assert any(line.startswith("✓ latency_p99<=2s") and "sequential ×3: " in line
               for line in printed)  # fmt: skip
    failed = [line for line in printed if line.startswith("✗ latency_p50<1ms")]
    assert len(failed) == 2 and all(" ms" in line for line in failed)
    assert any(line.startswith("✓ ok_share>=99%") and "100 %" in line for line in printed)
    assert "thresholds: 2 of 6 checks failed" in printed
    checks = _document(out)["thresholds"]  # written before the exit status says so
    assert [c["passed"] for c in checks] == [True, True, False, False, True, True]
    assert all(c["value"] is not None for c in checks)
    assert main(["report", str(out)]) == 0  # the saved run shows the same checks again
    assert capsys.readouterr().out.splitlines() == printed


def test_passing_thresholds_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["compare", "--users", "2", "--modes", "async", "--latency", "0.02", *QUICK,
            "--threshold", "latency_p95 <= 2 s", "--out", str(tmp_path / "run")]  # fmt: skip
    assert main(argv) == 0
    assert "✓ latency_p95<=2s  async ×2: " in capsys.readouterr().out


@pytest.mark.parametrize(
    ("flag", "value", "names"),
    [
        pytest.param("--threshold", "latency_p99 is small", "latency_p99 is small", id="shape"),
        pytest.param("--threshold", "latency_p42<=2s", "latency_p42", id="metric"),
        pytest.param("--threshold", "ok_share>=99ms", "'ms'", id="unit"),
        pytest.param("--slo", "latency_p99<=2s", "percentiles are --threshold", id="slo-pct"),
        pytest.param("--slo", "latency>=2s", "upper limit", id="slo-op"),
        pytest.param("--slo", "ttft<=1s", "need --stream", id="slo-stream"),
    ],
)
def test_bad_check_text_is_one_line_and_exit_2(
    flag: str, value: str, names: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    argv = ["compare", "--users", "1", "--modes", "async", *QUICK, flag, value, "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and flag in err and names in err
    assert not out.exists()


def test_scenario_thresholds_and_slo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "checks.toml"
    scenario.write_text(
        'description = "thresholds from a file"\n'
        '[workload]\nusers = 2\nslo = "latency<=2s"\n'
        '[designs]\nmodes = ["async"]\n[mock]\nlatency = 0.02\n'
        '[output]\nreport = false\ncalibration = "off"\n'
        '[thresholds]\nchecks = ["slo_goodput_rps>0", "latency_max<1ms"]\n'
    )
    out = tmp_path / "run"
    assert main(["run", str(scenario), "--no-progress", "--out", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "✓ slo_goodput_rps>0" in printed and "✗ latency_max<1ms" in printed
    assert _document(out)["runs"][0]["summary"]["slo_good"] == 2


def test_bad_scenario_threshold_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "bad.toml"
    scenario.write_text('[thresholds]\nchecks = ["p99<2s"]\n')
    assert main(["run", str(scenario), "--no-progress", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert str(scenario) in err and "thresholds.checks" in err and "'p99'" in err
