"""CSV exports of a results document: pure functions from results to text, one writer.

    texts = csv_exports(results)     # {"requests.csv": "...", "summary.csv": ..., ...}
    write_exports(results, run_dir)  # each file written atomically beside results.json

- ``requests.csv``: one row per request record, every record field, after the run's
  ``mode``, ``users`` and ``repetition``;
- ``summary.csv``: one row per design run, its summary flattened (``latency_s.p99``);
- ``summary_stats.csv``: per (users, mode) and numeric summary figure, the repetitions
  as hyperfine summarises runs: ``n``, ``mean``, ``stddev`` (sample, empty below two),
  ``median``, ``min``, ``max``.
"""

from __future__ import annotations

import csv
import io
import os
import statistics
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from reports.aggregate import groups
from reports.load import Results, Run

RUN_COLUMNS = ("mode", "users", "repetition")
STATS_COLUMNS = ("users", "mode", "metric", "n", "mean", "stddev", "median", "min", "max")


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"latency_s": {"p50": 1.0}}`` → ``{"latency_s.p50": 1.0}``; lists stay one cell."""
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def _cell(value: Any) -> Any:
    return "" if value is None else value


def _table(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({column: _cell(row.get(column)) for column in columns})
    return buffer.getvalue()


def _columns(rows: Sequence[Mapping[str, Any]], first: Sequence[str]) -> list[str]:
    """``first``, then every other key in the order it first appears."""
    seen = dict.fromkeys(first)
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def _run_key(run: Run) -> dict[str, Any]:
    return {"mode": run.mode, "users": run.users, "repetition": run.repetition}


def requests_csv(results: Results) -> str:
    rows = [_run_key(run) | dict(record) for run in results.runs for record in run.records]
    return _table(_columns(rows, RUN_COLUMNS), rows)


def summary_csv(results: Results) -> str:
    rows = [_run_key(run) | flatten(run.summary) for run in results.runs]
    return _table(_columns(rows, RUN_COLUMNS), rows)


def _numbers(runs: Sequence[Run]) -> Iterator[tuple[str, list[float]]]:
    """Each numeric summary figure with its values over the runs (booleans left out)."""
    flat = [flatten(run.summary) for run in runs]
    for name in _columns(flat, ()):
        values = [row.get(name) for row in flat]
        numbers = [float(v) for v in values if isinstance(v, int | float) and _is_number(v)]
        if numbers:
            yield name, numbers


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def spread_row(values: Sequence[float]) -> dict[str, float | int | None]:
    """n, mean, sample stddev (None below two values), median, min, max."""
    return {
        "n": len(values),
        "mean": statistics.fmean(values),
        "stddev": statistics.stdev(values) if len(values) > 1 else None,
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
    }


def summary_stats_csv(results: Results) -> str:
    rows = []
    for (mode, users), runs in groups(results).items():
        for name, values in _numbers(runs):
            rows.append({"users": users, "mode": mode, "metric": name} | spread_row(values))
    return _table(STATS_COLUMNS, rows)


def csv_exports(results: Results) -> dict[str, str]:
    """File name → CSV text."""
    return {
        "requests.csv": requests_csv(results),
        "summary.csv": summary_csv(results),
        "summary_stats.csv": summary_stats_csv(results),
    }


def write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file in the same directory, then rename over ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_exports(results: Results, out_dir: Path) -> list[Path]:
    """Write every CSV export into ``out_dir``; return their paths."""
    paths = []
    for name, text in csv_exports(results).items():
        write_atomic(out_dir / name, text)
        paths.append(out_dir / name)
    return paths
