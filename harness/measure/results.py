"""The versioned results document (docs/results-format.md): build it and write it.

    results = new_results(["compare", "--users", "20"], config)
    add_run(results, mode="async", users=20, requests_per_user=1, repetition=0,
            concurrency_cap=20, summary=summary, records=records)
    path = write_results(results, default_run_dir("compare"), secrets=[api_key])

Raw records move to a sibling ``records.jsonl`` (one record per line, with a
``"run"`` key giving its index in ``runs``) when there are too many to inline;
``reports.load.load_results`` (the one reader) puts them back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.measure.files import write_atomic
from harness.measure.machine import git_commit, machine_info, tool_info

SCHEMA_VERSION = 2  # docs/results-format.md; reports.load reads 1 and 2
RESULTS_NAME = "results.json"
RECORDS_NAME = "records.jsonl"


def new_results(command: Sequence[str], config: Mapping[str, Any]) -> dict[str, Any]:
    """An empty results document for this machine, commit and command line."""
    return {
        "schema": SCHEMA_VERSION,
        "tool": tool_info(),
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_commit": git_commit(),
        "machine": machine_info(),
        "command": list(command),
        "config": dict(config),
        "runs": [],
    }


def add_run(
    results: dict[str, Any],
    *,
    mode: str,
    users: int,
    requests_per_user: int,
    repetition: int,
    concurrency_cap: int,
    summary: Mapping[str, Any],
    records: Iterable[Any],
    transitions: Iterable[Mapping[str, Any]] = (),
    timeline: Iterable[Mapping[str, Any]] = (),
) -> None:
    """Append one run (records may be RequestRecords or dicts)."""
    results["runs"].append(
        {
            "mode": mode,
            "users": users,
            "requests_per_user": requests_per_user,
            "repetition": repetition,
            "concurrency_cap": concurrency_cap,
            "summary": dict(summary),
            "breaker_transitions": [dict(t) for t in transitions],
            "timeline": [dict(row) for row in timeline],
            "records": [_record_dict(r) for r in records],
        }
    )


def _record_dict(record: Any) -> dict[str, Any]:
    if isinstance(record, Mapping):
        return dict(record)
    as_dict: dict[str, Any] = record.to_dict()
    return as_dict


def write_results(
    results: Mapping[str, Any],
    out_dir: Path,
    *,
    records_inline_limit: int = 20000,
    secrets: Collection[str] = (),
) -> Path:
    """Write ``out_dir/results.json`` (and ``records.jsonl`` past the limit); returns its path.

    Every string equal to or containing one of ``secrets`` is scrubbed first.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    document = scrub_secrets(results, secrets) if secrets else dict(results)
    runs = [dict(run) for run in document.get("runs", [])]
    document["runs"] = runs
    records_path = out_dir / RECORDS_NAME
    if sum(len(run.get("records", ())) for run in runs) > records_inline_limit:
        write_atomic(records_path, "".join(_spill_records(runs)), "--out")
    elif records_path.exists():
        records_path.unlink()  # a stale spill from an earlier write to this directory
    path = out_dir / RESULTS_NAME
    write_atomic(path, json.dumps(document, indent=1) + "\n", "--out")
    return path


def _spill_records(runs: list[dict[str, Any]]) -> Iterable[str]:
    """Move each run's records out (in place) and yield them as JSON lines."""
    for index, run in enumerate(runs):
        records = run.pop("records", ())
        run["records_file"] = RECORDS_NAME
        for record in records:
            yield json.dumps({"run": index, **record}) + "\n"


def scrub_secrets(obj: Any, secrets: Collection[str]) -> Any:
    """A copy of ``obj`` with every occurrence of each secret replaced by ``***``.

    >>> scrub_secrets({"url": "http://h/?key=S3CRET"}, ["S3CRET"])
    {'url': 'http://h/?key=***'}
    """
    # Longest first, so a secret that contains another is replaced whole.
    ordered = sorted((s for s in secrets if s), key=len, reverse=True)
    return _scrub(obj, ordered) if ordered else obj


def _scrub(obj: Any, secrets: list[str]) -> Any:
    if isinstance(obj, str):
        for secret in secrets:
            obj = obj.replace(secret, "***")
        return obj
    if isinstance(obj, Mapping):
        return {_scrub(key, secrets): _scrub(value, secrets) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [_scrub(item, secrets) for item in obj]
    return obj


def default_run_dir(
    command_name: str, root: Path = Path("runs"), *, now: datetime | None = None
) -> Path:
    """``runs/<UTC YYYYmmddTHHMMSSZ>-<command>``, e.g. ``runs/20261128T134000Z-compare``."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", command_name).strip("-.") or "run"
    return root / f"{stamp}-{safe}"
