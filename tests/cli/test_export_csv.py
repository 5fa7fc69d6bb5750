"""--export-csv: requests.csv, summary.csv and summary_stats.csv beside results.json."""

from __future__ import annotations

import csv
import json
import statistics
from pathlib import Path

import pytest

from harness.cli import main
from reports.export import flatten, spread_row

QUICK = ["--latency", "0.02", "--calibration", "off", "--no-progress", "--no-report"]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_export_csv_writes_every_record_and_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    argv = ["compare", "--users", "3", "--modes", "sequential,async", "--repetitions", "3",
            *QUICK, "--export-csv", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    capsys.readouterr()
    document = json.loads((out / "results.json").read_text())
    requests = _rows(out / "requests.csv")
    records = [r for run in document["runs"] for r in run["records"]]
    assert len(requests) == len(records) == 2 * 3 * 3
    assert set(records[0]) | {"mode", "users", "repetition"} == set(requests[0])
    assert [float(r["latency_s"]) for r in requests] == [r["latency_s"] for r in records]

    summary = _rows(out / "summary.csv")
    assert len(summary) == len(document["runs"]) == 6
    first = flatten(document["runs"][0]["summary"])
    assert float(summary[0]["latency_s.p99"]) == first["latency_s.p99"]

    stats = {(r["mode"], r["metric"]): r for r in _rows(out / "summary_stats.csv")}
    makespans = [run["summary"]["makespan_s"] for run in document["runs"]
                 if run["mode"] == "async"]  # fmt: skip
    row = stats[("async", "makespan_s")]
    assert row["n"] == "3"
    assert float(row["mean"]) == pytest.approx(statistics.fmean(makespans))
    assert float(row["stddev"]) == pytest.approx(statistics.stdev(makespans))
    assert float(row["median"]) == pytest.approx(statistics.median(makespans))
    assert (float(row["min"]), float(row["max"])) == (min(makespans), max(makespans))
    assert not list(out.glob(".*.tmp"))


def test_spread_row_known_answers() -> None:
    assert spread_row([1.0, 2.0, 3.0, 4.0]) == {
        "n": 4, "mean": 2.5, "stddev": pytest.approx(1.2909944), "median": 2.5,
        "min": 1.0, "max": 4.0,
    }  # fmt: skip
    assert spread_row([5.0])["stddev"] is None


def test_no_export_without_the_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(["compare", "--users", "1", "--modes", "async", *QUICK, "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["results.json"]
