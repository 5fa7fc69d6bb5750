"""Parse a service spec from a ``[service]`` table or the ``load`` command's flags.

    [service]
    command = "uvicorn app:app --port {port}"     # or url = "http://127.0.0.1:8000"
    env = { GOOGLE_GEMINI_BASE_URL = "{upstream_url}" }
    ready = "/docs"                               # polled until it answers below 500
    [[service.requests]]
    method = "POST"
    path = "/recipes"
    body = { ingredients = "{ingredients}", cuisine = "{cuisine}" }
    [service.ok]
    status = [200]
    has = ["$.recipes[0].title"]                 # JSONPath: must match a non-empty value
    absent = ["$.error"]                         # JSONPath: must match nothing (or null)

Every problem is a ConfigError naming the file, key or flag (docs/your-service.md). The
spec's data and the sending design are in :mod:`harness.generators.http`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.generators.http import OkJudge, RequestTemplate, ServiceSpec


def check_path(expression: str, where: str) -> str:
    """A JSONPath the judge can use, or a ConfigError naming ``where``."""
    from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
    from jsonpath_ng.ext import parse

    try:
        parse(expression)
    except (JsonPathLexerError, JsonPathParserError, ValueError) as exc:
        raise ConfigError(f"{where}: {expression!r} is not a JSONPath: {exc}") from None
    return expression


def read_data(path: Path) -> tuple[Mapping[str, Any], ...]:
    """Rows of a JSONL data file (objects), for placeholders; ConfigError naming the line."""
    from harness.run.inputs import read_text_file

    rows = []
    for number, line in enumerate(read_text_file(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise ConfigError(f"{path}:{number}: not JSON: {exc}") from None
        if not isinstance(row, dict):
            raise ConfigError(f"{path}:{number}: expected a JSON object per line")
        rows.append(row)
    if not rows:
        raise ConfigError(f"{path}: no rows")
    return tuple(rows)


def parse_ok(rules: Sequence[str]) -> OkJudge:
    """``--ok status=200,201 --ok has=$.answer --ok absent=$.error --ok 'equals=$.ok:true'``."""
    status: set[int] = set()
    has: list[str] = []
    absent: list[str] = []
    equals: list[tuple[str, Any]] = []
    for rule in rules:
        kind, sep, value = rule.partition("=")
        kind = kind.strip()
        if not sep or kind not in ("status", "has", "absent", "equals"):
            raise ConfigError(
                f"--ok {rule!r}: expected status=CODES, has=JSONPATH, absent=JSONPATH "
                "or equals=JSONPATH:JSON"
            )
        if kind == "equals":
            path, _, literal = value.rpartition(":")
            try:
                equals.append((check_path(path.strip(), "--ok equals"), json.loads(literal)))
            except ValueError:
                raise ConfigError(
                    f'--ok {rule!r}: equals=JSONPATH:JSON, e.g. $.outcome:"ok"'
                ) from None
            continue
        if kind == "status":
            try:
                status.update(int(code) for code in value.split(","))
            except ValueError:
                raise ConfigError(f"--ok {rule!r}: status codes like 200,201") from None
        else:
            (has if kind == "has" else absent).append(check_path(value.strip(), f"--ok {kind}"))
    return OkJudge(frozenset(status), tuple(has), tuple(absent), tuple(equals))


def spec_from_table(table: Mapping[str, Any], where: str, base: Path) -> ServiceSpec:
    """A ``[service]`` table (from ``where``, relative paths under ``base``) → a checked spec."""
    known = {"url", "command", "env", "ready", "ready_timeout_s", "requests", "ok", "data",
             "timeout_s"}  # fmt: skip
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"{where}: service.{unknown[0]}: unknown key (known: {sorted(known)})")
    ok = _mapping(table.get("ok", {}), f"{where}: service.ok")
    requests = table.get("requests", [{}])
    if not isinstance(requests, list) or not requests:
        raise ConfigError(f"{where}: service.requests: expected a list of tables")
    env = _mapping(table.get("env", {}), f"{where}: service.env")
    templates = [_template(r, f"{where}: service.requests[{i}]") for i, r in enumerate(requests)]
    spec = ServiceSpec(
        url=_optional_str(table, "url", where),
        command=_optional_str(table, "command", where),
        env={str(k): str(v) for k, v in env.items()},
        ready=str(table.get("ready", "/")),
        ready_timeout_s=float(table.get("ready_timeout_s", 30.0)),
        requests=tuple(templates),
        ok=_judge(ok, f"{where}: service.ok"),
        data=read_data(base / str(table["data"])) if "data" in table else (),
        timeout_s=float(table.get("timeout_s", 60.0)),
    )  # fmt: skip
    spec.validate()
    return spec


def _judge(ok: Mapping[str, Any], where: str) -> OkJudge:
    unknown = sorted(set(ok) - {"status", "has", "absent", "equals"})
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown key (status, has, absent, equals)")
    try:
        status = frozenset(int(code) for code in ok.get("status", []))
    except (TypeError, ValueError):
        raise ConfigError(f"{where}.status: expected a list of status codes") from None
    equals = _mapping(ok.get("equals", {}), f"{where}.equals")
    return OkJudge(
        status,
        tuple(check_path(str(p), f"{where}.has") for p in ok.get("has", [])),
        tuple(check_path(str(p), f"{where}.absent") for p in ok.get("absent", [])),
        tuple((check_path(str(p), f"{where}.equals"), v) for p, v in equals.items()),
    )


def _template(raw: Any, where: str) -> RequestTemplate:
    table = _mapping(raw, where)
    unknown = sorted(set(table) - {"method", "path", "headers", "body", "weight"})
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown key")
    return RequestTemplate(
        method=str(table.get("method", "POST")).upper(),
        path=str(table.get("path", "/")),
        headers={str(k): str(v) for k, v in _mapping(table.get("headers", {}), where).items()},
        body=table.get("body"),
        weight=float(table.get("weight", 1.0)),
    )


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a table, got {value!r:.40}")
    return value


def _optional_str(table: Mapping[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{where}: service.{key}: expected a string, got {value!r:.40}")
    return value


SCENARIO_TABLES = ("description", "service", "workload", "mock")


def read_service_scenario(path: Path) -> dict[str, Any]:
    """A service scenario file's tables (``description``, ``service``, ``workload``, ``mock``)."""
    from harness.run.inputs import read_toml

    table = read_toml(path)
    unknown = sorted(set(table) - set(SCENARIO_TABLES))
    if unknown:
        raise ConfigError(
            f"{path}: {unknown[0]}: unknown table for a service scenario "
            f"({', '.join(SCENARIO_TABLES)})"
        )
    return table
