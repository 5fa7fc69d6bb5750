"""The results file: round trip, records spill, clear validation errors, no secrets."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from harness.measure.metrics import summarize
from harness.measure.record import RequestRecord
from harness.measure.results import (
    SCHEMA_VERSION,
    add_run,
    default_run_dir,
    new_results,
    scrub_secrets,
    write_results,
)
from reports.load import load_results
from reports.verdict import comparison_rows

KEY = "AIzaSy-secret-key-987654321"


def make_record(request_id: int, mode: str) -> RequestRecord:
    return RequestRecord(
        request_id=request_id,
        user=request_id,
        mode=mode,
        intended_start_s=0.0,
        start_s=0.0,
        first_byte_s=0.4,
        end_s=1.0,
        latency_s=1.0,
        ttft_s=0.4,
        outcome="ok",
        status=200,
        error=None,
        attempts=1,
        retry_wait_s=0.0,
        breaker_state_at_start="closed",
        prompt_tokens=10,
        output_tokens=20,
    )


def results_with_runs(users: int = 3) -> dict[str, Any]:
    config = {"target": {"kind": "embedded-mock", "base_url": "http://127.0.0.1:1"}}
    results = new_results(["compare", "--users", str(users)], config)
    for mode, cap, makespan_s in (("sequential", 1, 3.0), ("async", users, 1.0)):
        records = [make_record(i, mode) for i in range(users)]
        summary = summarize(
            records,
            concurrency_cap=cap,
            service_time_s=1.0,
            submitted=users,
            makespan_s=makespan_s,
        )
        add_run(
            results,
            mode=mode,
            users=users,
            requests_per_user=1,
            repetition=0,
            concurrency_cap=cap,
            summary=summary,
            records=records,
            transitions=[{"time_s": 0.5, "from": "closed", "to": "open", "reason": "test"}],
            timeline=[{"second": 0, "offered": users}],
        )
    return results


def test_new_results_describes_tool_machine_and_command() -> None:
    results = new_results(["run", "--mode", "async"], {"service_time_s": 1.0})

    assert results["schema"] == SCHEMA_VERSION
    assert results["tool"]["name"] == "llm-loadharness"
    assert results["command"] == ["run", "--mode", "async"]
    assert results["machine"]["cpu_count"] >= 1
    assert results["machine"]["python"].count(".") == 2
    assert datetime.strptime(results["created_utc"], "%Y-%m-%dT%H:%M:%SZ")
    commit = results["git_commit"]
    assert commit is None or len(commit) == 40


def test_comparison_is_derived_by_reports_from_the_runs(tmp_path: Path) -> None:
    results = results_with_runs(users=3)
    assert "comparison" not in results  # the runner records; reports derives

    rows = comparison_rows(load_results(write_results(results, tmp_path)))

    assert rows == [
        {
            "users": 3,
            "mode": "async",
            "reference": "sequential",
            "speedup_vs_reference": 3.0,
            "bound_speedup": 3.0,
            "median_makespan_s": 1.0,
            "repetitions": 1,
        }
    ]


def test_round_trip_inline(tmp_path: Path) -> None:
    results = results_with_runs()

    path = write_results(results, tmp_path / "run")

    assert path == tmp_path / "run" / "results.json"
    assert not (tmp_path / "run" / "records.jsonl").exists()
    assert json.loads(path.read_text()) == results
    assert load_results(path.parent).document == results


def test_records_spill_to_jsonl_and_come_back(tmp_path: Path) -> None:
    results = results_with_runs(users=5)

    path = write_results(results, tmp_path, records_inline_limit=9)

    on_disk = json.loads(path.read_text())
    assert all("records" not in run for run in on_disk["runs"])
    assert {run["records_file"] for run in on_disk["runs"]} == {"records.jsonl"}
    lines = (tmp_path / "records.jsonl").read_text().splitlines()
    assert len(lines) == 10
    assert list(load_results(path).runs[1].records) == results["runs"][1]["records"]
    assert "records_file" not in results["runs"][0]  # the caller's document is untouched


def test_rewrite_below_the_limit_removes_a_stale_spill(tmp_path: Path) -> None:
    results = results_with_runs(users=5)
    write_results(results, tmp_path, records_inline_limit=1)

    write_results(results, tmp_path)

    assert not (tmp_path / "records.jsonl").exists()
    assert json.loads((tmp_path / "results.json").read_text()) == results


def test_secrets_are_scrubbed_before_writing(tmp_path: Path) -> None:
    results = results_with_runs()
    results["config"]["target"]["url"] = f"http://h/?key={KEY}"
    results["command"].append(f"--api-key={KEY}")
    results["runs"][0]["records"][0]["error"] = f"bad key {KEY}"

    write_results(results, tmp_path, secrets=[KEY], records_inline_limit=2)

    written = (tmp_path / "results.json").read_text() + (tmp_path / "records.jsonl").read_text()
    assert KEY not in written
    assert "http://h/?key=***" in written
    assert results["command"][-1] == f"--api-key={KEY}"  # scrubbing copies


def test_scrub_secrets_reaches_keys_lists_and_tuples() -> None:
    doc = {"a": [{"b": ("x" + KEY, 3)}], KEY: None, "n": 1.5}

    assert scrub_secrets(doc, [KEY, ""]) == {"a": [{"b": ["x***", 3]}], "***": None, "n": 1.5}


def test_scrub_longest_secret_first() -> None:
    assert scrub_secrets("abc-abcdef", ["abc", "abcdef"]) == "***-***"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("compare", "20261128T134005Z-compare", id="plain"),
        pytest.param("../evil name", "20261128T134005Z-evil-name", id="unsafe"),
    ],
)
def test_default_run_dir(name: str, expected: str) -> None:
    now = datetime(2026, 11, 28, 13, 40, 5, tzinfo=UTC)

    assert default_run_dir(name, Path("out"), now=now) == Path("out") / expected
