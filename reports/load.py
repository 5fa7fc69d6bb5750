"""Read and validate results files (schema 1 or 2, see ``docs/results-format.md``).

A source is a run directory (holding ``results.json``) or the path of a results file.
Raw records come from the run's ``records`` list or, when the run names a
``records_file``, from that JSON-lines file beside the results file::

    results = load_results(Path("runs/20261128T134000Z-compare"))
    [(run.mode, run.users, run.summary["makespan_s"]) for run in results.runs]

Anything unusable raises :class:`ReportInputError` with one line naming file and key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from reports.errors import ReportInputError

SCHEMA = 2
SCHEMAS = (1, 2)  # schema 1: no derived verdict keys; they are recomputed from the runs
RESULTS_NAME = "results.json"
BREAKER_STATES = frozenset({"closed", "open", "half_open"})


@dataclass(frozen=True)
class Transition:
    """One breaker transition: at ``time_s`` the breaker went ``from_state`` → ``to_state``."""

    time_s: float
    from_state: str
    to_state: str
    reason: str


@dataclass(frozen=True)
class Run:
    """One (mode, users, repetition) run of a results file, validated."""

    mode: str
    users: int
    requests_per_user: int
    repetition: int
    concurrency_cap: int | None
    summary: Mapping[str, Any]
    breaker_transitions: tuple[Transition, ...]
    timeline: tuple[Mapping[str, Any], ...]
    records: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class Results:
    """One results file: its provenance, its runs and its comparison rows."""

    path: Path
    label: str
    created_utc: str | None
    git_commit: str | None
    machine: Mapping[str, Any]
    command: tuple[str, ...]
    config: Mapping[str, Any]
    runs: tuple[Run, ...]
    comparison: tuple[Mapping[str, Any], ...]
    document: Mapping[str, Any] | None = None  # the decoded file, as read


def resolve_source(source: Path) -> Path:
    """The results file a source names: ``dir/results.json`` for a directory, else itself."""
    path = source / RESULTS_NAME if source.is_dir() else source
    if not path.is_file():
        raise ReportInputError(f"{path}: no such results file")
    return path


def load_results(source: Path) -> Results:
    """Load one run directory or results file.

    >>> load_results(Path("runs/x")).runs[0].mode  # doctest: +SKIP
    'sequential'
    """
    path = resolve_source(source)
    return parse_results(_read_json(path), path)


def load_many(sources: Sequence[Path]) -> list[Results]:
    """Load several sources; labels are made unique so tables can tell them apart."""
    loaded = [load_results(source) for source in sources]
    seen: dict[str, int] = {}
    unique = []
    for results in loaded:
        count = seen.get(results.label, 0)
        seen[results.label] = count + 1
        label = results.label if count == 0 else f"{results.label} ({count + 1})"
        unique.append(_with_label(results, label))
    return unique


def parse_results(doc: object, path: Path) -> Results:
    """Validate an already-decoded results document read from ``path``."""
    top = _Checker(path)
    obj = top.mapping(doc, "")
    schema = top.field(obj, "schema", "", int)
    if schema not in SCHEMAS:
        raise ReportInputError(
            f"{path}: schema: unsupported version {schema!r} (want one of {SCHEMAS})"
        )
    runs_raw = top.field(obj, "runs", "", list)
    if not runs_raw:
        raise ReportInputError(f"{path}: runs: empty, nothing to report")
    return Results(
        path=path,
        label=_label(path),
        created_utc=top.optional(obj, "created_utc", "", str),
        git_commit=top.optional(obj, "git_commit", "", str),
        machine=top.optional(obj, "machine", "", dict) or {},
        command=tuple(str(arg) for arg in top.optional(obj, "command", "", list) or ()),
        config=top.optional(obj, "config", "", dict) or {},
        runs=tuple(_parse_run(top, raw, i) for i, raw in enumerate(runs_raw)),
        comparison=tuple(
            top.mapping(row, f"comparison[{i}]")
            for i, row in enumerate(top.optional(obj, "comparison", "", list) or ())
        ),
        document=obj,
    )


def _parse_run(check: _Checker, raw: object, index: int) -> Run:
    where = f"runs[{index}]"
    obj = check.mapping(raw, where)
    summary = check.field(obj, "summary", where, dict)
    _check_summary(check, summary, f"{where}.summary")
    return Run(
        mode=check.field(obj, "mode", where, str),
        users=check.field(obj, "users", where, int),
        requests_per_user=check.optional(obj, "requests_per_user", where, int) or 1,
        repetition=check.optional(obj, "repetition", where, int) or 0,
        concurrency_cap=check.optional(obj, "concurrency_cap", where, int),
        summary=summary,
        breaker_transitions=_parse_transitions(check, obj, where),
        timeline=_parse_timeline(check, obj, where),
        records=_parse_records(check, obj, where, index),
    )


def _check_summary(check: _Checker, summary: Mapping[str, Any], where: str) -> None:
    check.field(summary, "makespan_s", where, float)
    check.field(summary, "throughput_rps", where, float)
    check.field(summary, "counts", where, dict)
    for key in ("bound_s", "efficiency", "amplification", "cpu_s", "peak_rss_bytes"):
        check.optional(summary, key, where, float)
    for key in ("latency_s", "ttft_s"):
        stats = check.optional(summary, key, where, dict) or {}
        for stat in stats:
            check.optional(stats, stat, f"{where}.{key}", float)
    counts = summary["counts"]
    for key in counts:
        check.optional(counts, key, f"{where}.counts", int)


def _parse_transitions(
    check: _Checker, obj: Mapping[str, Any], where: str
) -> tuple[Transition, ...]:
    rows = check.optional(obj, "breaker_transitions", where, list) or []
    out = []
    for i, raw in enumerate(rows):
        at = f"{where}.breaker_transitions[{i}]"
        row = check.mapping(raw, at)
        states = [
            check.state(check.field(row, key, at, str), f"{at}.{key}") for key in ("from", "to")
        ]
        time_s = float(check.field(row, "time_s", at, float))
        out.append(
            Transition(time_s, states[0], states[1], check.optional(row, "reason", at, str) or "")
        )
    return tuple(out)


def _parse_timeline(
    check: _Checker, obj: Mapping[str, Any], where: str
) -> tuple[Mapping[str, Any], ...]:
    rows = check.optional(obj, "timeline", where, list) or []
    out = []
    for i, raw in enumerate(rows):
        at = f"{where}.timeline[{i}]"
        row = check.mapping(raw, at)
        check.field(row, "second", at, int)
        for key in ("offered", "attempts", "ok", "fast_fail", "fallback", "failed", "in_flight"):
            check.optional(row, key, at, int)
        out.append(row)
    return tuple(out)


def _parse_records(
    check: _Checker, obj: Mapping[str, Any], where: str, index: int
) -> tuple[Mapping[str, Any], ...]:
    records_file = check.optional(obj, "records_file", where, str)
    if records_file is None:
        rows = check.optional(obj, "records", where, list) or []
        return tuple(check.mapping(raw, f"{where}.records[{i}]") for i, raw in enumerate(rows))
    lines = check.jsonl(check.path.parent / records_file)
    run = (index, obj["mode"], obj["users"], obj.get("repetition") or 0)
    return tuple(_without_run(row) for row in lines if _belongs(row, run))


def _belongs(record: Mapping[str, Any], run: tuple[int, str, int, int]) -> bool:
    # The harness tags each spilled record with "run", its run's index in "runs"; a file
    # written without that tag is matched on mode (and users / repetition when present).
    index, mode, users, repetition = run
    if "run" in record:
        return bool(record["run"] == index)
    return (
        record.get("mode") == mode
        and record.get("users", users) == users
        and record.get("repetition", repetition) == repetition
    )


def _without_run(record: Mapping[str, Any]) -> Mapping[str, Any]:
    return {key: value for key, value in record.items() if key != "run"}


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportInputError(f"{path}: cannot read: {exc.__class__.__name__}") from exc
    except json.JSONDecodeError as exc:
        raise ReportInputError(f"{path}: not JSON: {exc.msg} at line {exc.lineno}") from exc


def _read_jsonl(path: Path) -> list[Mapping[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportInputError(
            f"{path}: records_file: cannot read ({exc.__class__.__name__})"
        ) from exc
    check = _Checker(path)
    out: list[Mapping[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                out.append(check.mapping(json.loads(line), f"line {number}"))
            except json.JSONDecodeError as exc:
                raise ReportInputError(f"{path}: line {number}: not JSON: {exc.msg}") from exc
    return out


def _label(path: Path) -> str:
    return path.parent.name if path.name == RESULTS_NAME and path.parent.name else path.stem


def _with_label(results: Results, label: str) -> Results:
    return replace(results, label=label)


class _Checker:
    """Type checks that fail with ``<file>: <key path>: <problem>``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._jsonl: dict[Path, list[Mapping[str, Any]]] = {}

    def jsonl(self, path: Path) -> list[Mapping[str, Any]]:
        """The lines of a records file, read once however many runs share it."""
        if path not in self._jsonl:
            self._jsonl[path] = _read_jsonl(path)
        return self._jsonl[path]

    def fail(self, where: str, problem: str) -> ReportInputError:
        return ReportInputError(f"{self.path}: {where or '<top>'}: {problem}")

    def mapping(self, value: object, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected an object, got {type(value).__name__}")
        return value

    def field(self, obj: Mapping[str, Any], key: str, where: str, kind: type) -> Any:
        if key not in obj:
            raise self.fail(_join(where, key), "missing")
        value = self.optional(obj, key, where, kind)
        if value is None:
            raise self.fail(_join(where, key), "must not be null")
        return value

    def optional(self, obj: Mapping[str, Any], key: str, where: str, kind: type) -> Any:
        value = obj.get(key)
        if value is None or _is_kind(value, kind):
            return value
        raise self.fail(_join(where, key), f"expected {_KIND_NAMES[kind]}, got {value!r:.40}")

    def state(self, value: str, where: str) -> str:
        if value not in BREAKER_STATES:
            raise self.fail(where, f"unknown breaker state {value!r}")
        return value


_KIND_NAMES = {
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "an object",
}


def _is_kind(value: object, kind: type) -> bool:
    if isinstance(value, bool):  # JSON true/false are never counts or seconds
        return False
    if kind is float:
        return isinstance(value, int | float)
    return isinstance(value, kind)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
