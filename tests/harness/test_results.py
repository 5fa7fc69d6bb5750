"""The results file: round trip, records spill, clear validation errors, no secrets."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from harness.errors import ConfigError
from harness.generators.base import RequestRecord
from harness.measure.metrics import summarize
from harness.measure.results import (
    SCHEMA_VERSION,
    add_run,
    default_run_dir,
    new_results,
    read_results,
    scrub_secrets,
    write_results,
)

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


def test_add_run_keeps_comparison_current() -> None:
    results = results_with_runs(users=3)

    assert results["comparison"] == [
        {
            "users": 3,
            "mode": "async",
            "speedup_vs_sequential": 3.0,
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
    assert read_results(path) == results
    assert read_results(path.parent) == results


def test_records_spill_to_jsonl_and_come_back(tmp_path: Path) -> None:
    results = results_with_runs(users=5)

    path = write_results(results, tmp_path, records_inline_limit=9)

    on_disk = json.loads(path.read_text())
    assert all("records" not in run for run in on_disk["runs"])
    assert {run["records_file"] for run in on_disk["runs"]} == {"records.jsonl"}
    lines = (tmp_path / "records.jsonl").read_text().splitlines()
    assert len(lines) == 10
    assert read_results(path)["runs"][1]["records"] == results["runs"][1]["records"]
    assert "records" not in read_results(path, load_records=False)["runs"][0]
    assert "records_file" not in results["runs"][0]  # the caller's document is untouched


def test_rewrite_below_the_limit_removes_a_stale_spill(tmp_path: Path) -> None:
    results = results_with_runs(users=5)
    write_results(results, tmp_path, records_inline_limit=1)

    write_results(results, tmp_path)

    assert not (tmp_path / "records.jsonl").exists()
    assert read_results(tmp_path) == results


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


def _write_doc(tmp_path: Path, doc: Any) -> Path:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(doc))
    return path


def _valid_doc(tmp_path: Path) -> dict[str, Any]:
    return json.loads(write_results(results_with_runs(), tmp_path / "good").read_text())


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        pytest.param(lambda d: d.pop("runs"), "missing key 'runs'", id="no-runs"),
        pytest.param(lambda d: d.update(schema=2), "key 'schema' is 2", id="schema-2"),
        pytest.param(lambda d: d.update(runs={}), "key 'runs' must be a list", id="runs-dict"),
        pytest.param(
            lambda d: d["runs"][1].pop("mode"), r"runs\[1\]: missing key 'mode'", id="run-mode"
        ),
        pytest.param(
            lambda d: d["runs"][0]["summary"].pop("makespan_s"),
            r"runs\[0\]\.summary: missing key 'makespan_s'",
            id="summary-makespan",
        ),
        pytest.param(
            lambda d: d["runs"][0].update(summary=[]),
            r"runs\[0\]\.summary must be a JSON object",
            id="summary-list",
        ),
        pytest.param(
            lambda d: d["runs"][0].update(records={}),
            r"runs\[0\]\.records must be a list",
            id="records-dict",
        ),
    ],
)
def test_validation_names_file_and_key(tmp_path: Path, damage: Any, message: str) -> None:
    doc = _valid_doc(tmp_path)
    damage(doc)
    path = _write_doc(tmp_path, doc)

    with pytest.raises(ConfigError, match=message) as caught:
        read_results(path)
    assert str(caught.value).startswith(f"{path}: ")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("{not json", "not valid JSON", id="bad-json"),
        pytest.param("[1, 2]", "top level must be a JSON object", id="array"),
    ],
)
def test_unreadable_files_are_config_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "results.json"
    path.write_text(content)

    with pytest.raises(ConfigError, match=message):
        read_results(path)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such results file"):
        read_results(tmp_path / "nowhere")


def test_broken_records_file_names_the_line(tmp_path: Path) -> None:
    write_results(results_with_runs(), tmp_path, records_inline_limit=1)
    records = tmp_path / "records.jsonl"
    records.write_text(records.read_text() + "{oops\n")

    with pytest.raises(ConfigError, match=r"records\.jsonl:7: not valid JSON"):
        read_results(tmp_path)


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
