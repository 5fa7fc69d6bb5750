"""Reading results files: run directories, spilled records, one-line errors on bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reports.errors import ReportInputError
from reports.load import load_many, load_results

Doc = dict[str, Any]


def test_a_run_directory_and_its_results_file_load_the_same(faulty_results: Path) -> None:
    from_dir = load_results(faulty_results.parent)
    from_file = load_results(faulty_results)
    assert from_dir == from_file
    assert from_dir.label == "faulty"
    assert [(r.mode, r.repetition) for r in from_dir.runs][:3] == [
        ("sequential", 0),
        ("sequential", 1),
        ("sequential", 2),
    ]
    assert from_dir.runs[3].breaker_transitions[0].to_state == "open"


def _spill(doc: Doc, directory: Path, tag_run: bool) -> None:
    lines = []
    for index, run in enumerate(doc["runs"]):
        for record in run.pop("records"):
            lines.append(json.dumps({"run": index, **record} if tag_run else record))
        run["records_file"] = "records.jsonl"
    (directory / "records.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    "tag_run",
    [pytest.param(True, id="tagged-with-run-index"), pytest.param(False, id="matched-on-mode")],
)
def test_records_come_back_from_a_sibling_records_file(
    build: Callable[..., Doc], tmp_path: Path, tag_run: bool
) -> None:
    doc = build(modes=("sequential", "async"), users=(4,), reps=1)
    expected = [[r["latency_s"] for r in run["records"]] for run in doc["runs"]]
    _spill(doc, tmp_path, tag_run)
    (tmp_path / "results.json").write_text(json.dumps(doc), encoding="utf-8")
    runs = load_results(tmp_path).runs
    assert [[r["latency_s"] for r in run.records] for run in runs] == expected
    assert all("run" not in record for run in runs for record in run.records)


def test_same_labels_are_made_unique(build: Callable[..., Doc], tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name / "same").mkdir(parents=True)
        (tmp_path / name / "same" / "results.json").write_text(json.dumps(build(reps=1)))
    loaded = load_many([tmp_path / "a" / "same", tmp_path / "b" / "same"])
    assert [r.label for r in loaded] == ["same", "same (2)"]


def _drop(*keys: str) -> Callable[[Doc], None]:
    def edit(doc: Doc) -> None:
        obj = doc
        for key in keys[:-1]:
            obj = obj[int(key)] if isinstance(obj, list) else obj[key]
        del obj[keys[-1]]

    return edit


def _set(value: Any, *keys: str) -> Callable[[Doc], None]:
    def edit(doc: Doc) -> None:
        obj = doc
        for key in keys[:-1]:
            obj = obj[int(key)] if isinstance(obj, list) else obj[key]
        obj[keys[-1]] = value

    return edit


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            _drop("runs", "0", "summary", "makespan_s"),
            "runs[0].summary.makespan_s: missing",
            id="missing-makespan",
        ),
        pytest.param(_drop("runs", "1", "mode"), "runs[1].mode: missing", id="missing-mode"),
        pytest.param(_drop("schema"), "schema: missing", id="missing-schema"),
        pytest.param(_set(3, "schema"), "schema: unsupported version 3", id="future-schema"),
        pytest.param(_set([], "runs"), "runs: empty", id="no-runs"),
        pytest.param(
            _set("fast", "runs", "0", "summary", "throughput_rps"),
            "runs[0].summary.throughput_rps: expected a number",
            id="text-for-number",
        ),
        pytest.param(
            _set(True, "runs", "0", "users"),
            "runs[0].users: expected an integer",
            id="bool-for-int",
        ),
        pytest.param(
            _set("ajar", "runs", "1", "breaker_transitions", "0", "to"),
            "runs[1].breaker_transitions[0].to: unknown breaker state 'ajar'",
            id="bad-breaker-state",
        ),
        pytest.param(
            _set("gone.jsonl", "runs", "0", "records_file"),
            "gone.jsonl: records_file: cannot read",
            id="missing-records-file",
        ),
        pytest.param(
            _set(None, "runs", "0", "summary"),
            "runs[0].summary: must not be null",
            id="null-summary",
        ),
    ],
)
def test_bad_results_raise_one_line_naming_file_and_key(
    build: Callable[..., Doc],
    write: Callable[..., Path],
    edit: Callable[[Doc], None],
    expected: str,
) -> None:
    doc = build(faults=True, reps=1)
    edit(doc)
    path = write(doc, "bad")
    with pytest.raises(ReportInputError) as caught:
        load_results(path)
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message
    assert message.startswith(str(path.parent))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param("{not json", "not JSON", id="not-json"),
        pytest.param("[1, 2]", "<top>: expected an object", id="not-an-object"),
    ],
)
def test_undecodable_files_are_named(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "results.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ReportInputError, match=expected):
        load_results(path)


def test_a_missing_source_is_named(tmp_path: Path) -> None:
    with pytest.raises(ReportInputError, match="no such results file"):
        load_results(tmp_path / "nowhere")
