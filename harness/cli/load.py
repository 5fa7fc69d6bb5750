"""load: load-test your own HTTP service that calls an LLM, and tell its concurrency design.

    python -m harness load                                   # the built-in recipe service
    python -m harness load --service-cmd "uvicorn app:app --port {port}" \\
        --upstream-env GOOGLE_GEMINI_BASE_URL --path /recipe --body '{"q": "{ingredients}"}' \\
        --ok status=200 --ok absent=$.error --users 10 --requests-per-user 5
    python -m harness load scenarios/recipe-service.toml --users 20
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.cli.common import add_output_arguments, mock_config
from harness.errors import ConfigError
from harness.service import MODES
from mock_gemini.config import add_mock_arguments

if TYPE_CHECKING:
    from harness.generators.http import ServiceSpec
    from harness.run.service_run import LoadPlan

EXAMPLES = """examples:
  python -m harness load --users 10 --requests-per-user 5     # the built-in recipe service
  python -m harness load --builtin-mode blocking --users 10    # the seed's "before"
  python -m harness load --service-url http://127.0.0.1:8000 --path /recipes \\
      --body '{"ingredients": "{ingredients}"}' --ok status=200 --ok 'absent=$.error'
  python -m harness load --service-cmd "python app.py --port {port}" \\
      --upstream-env GOOGLE_GEMINI_BASE_URL --latency 0.5 --users 10
  python -m harness load scenarios/recipe-service.toml --rate 20 --duration 10
"""
BUILTIN_REQUEST = {"ingredients": "{ingredients}", "cuisine_type": "{cuisine}"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "scenario", nargs="?", metavar="SCENARIO.toml",
        help="a scenario file with a [service] table (flags override it)",
    )  # fmt: skip
    service = parser.add_argument_group("service (default: the built-in recipe service)")
    add = service.add_argument
    add("--service-url", metavar="URL", help="a running service")
    add("--service-cmd", metavar="CMD", help="start the service: {port}, {upstream_url} filled")
    add(
        "--upstream-env",
        action="append",
        default=[],
        metavar="NAME",
        help="set NAME to the embedded mock's URL in the service's environment (repeatable)",
    )
    add("--ready", metavar="PATH", help="polled until it answers below 500 (default: /)")
    add(
        "--builtin-mode",
        choices=MODES,
        default="async",
        help="the built-in recipe service's concurrency design",
    )
    add("--method", metavar="M", help="request method (default: POST)")
    add("--path", metavar="P", help="request path, placeholders allowed")
    add("--body", metavar="JSON", help="request JSON body; placeholders like {ingredients}")
    add(
        "--header",
        action="append",
        default=[],
        metavar="NAME:VALUE",
        help="request header (repeatable)",
    )
    add("--data", metavar="FILE.jsonl", help="placeholder values, one JSON object per line")
    add("--ok", action="append", default=[], metavar="RULE",
        help="status=200,201 | has=JSONPATH | absent=JSONPATH | equals=JSONPATH:JSON "
             "(repeatable; default: any 2xx)")  # fmt: skip
    add("--timeout", type=float, metavar="S", help="per-request timeout (default: 60)")
    load = parser.add_argument_group("load")
    add = load.add_argument
    add("--users", type=int, metavar="N", help="closed loop: concurrent users (default: 10)")
    add("--requests-per-user", type=int, metavar="R", help="closed loop (default: 5)")
    add("--rate", type=float, metavar="R", help="open loop: R requests/s")
    add("--arrival", default="poisson", metavar="KIND", help="open loop: constant | poisson")
    add("--duration", type=float, metavar="S", help="open loop: send for S seconds")
    add("--requests", type=int, metavar="N", help="open loop: send N requests")
    add("--max-in-flight", type=int, metavar="M", help="at most M requests in flight")
    from harness.cli.compare import add_check_arguments

    add_check_arguments(parser)
    add_mock_arguments(parser.add_argument_group(
        "embedded mock", "the upstream the service calls (with --service-cmd or the built-in)"
    ))  # fmt: skip
    add_output_arguments(parser)


def main(ns: argparse.Namespace, argv: list[str]) -> int:
    from harness.cli.compare import output_options
    from harness.cli.output import run_and_finish
    from harness.run.service_run import execute_load

    plan = load_plan(ns, argv[1:], output_options(ns))
    return run_and_finish(lambda: execute_load(plan), plan.output, "load")


def load_plan(ns: argparse.Namespace, argv: list[str], output: Any) -> LoadPlan:
    """The run the flags (over the scenario file, if any) describe."""
    from harness.run.service_run import LoadPlan

    table = _scenario(ns)
    spec = _spec(ns, table.get("service", {}), Path(ns.scenario).parent if ns.scenario else None)
    workload = table.get("workload", {})
    load, cap = _load(ns, workload)
    upstream = spec.command is not None or spec.url is None
    mock = _mock(ns, table.get("mock")) if upstream else None
    builtin = ns.builtin_mode if spec.command == "builtin" else None
    if builtin is not None:
        from dataclasses import replace

        from harness.run.service_process import BUILTIN_COMMAND

        spec = replace(spec, command=BUILTIN_COMMAND, ready="/health")
    from harness.cli.compare import checked_thresholds
    from harness.measure.slo import parse_slo

    return LoadPlan(list(argv), spec, load, cap, mock, output, tuple(ns.upstream_env),
                    builtin, table or None, slo=parse_slo(ns.slo) if ns.slo else None,
                    thresholds=checked_thresholds(ns.threshold))  # fmt: skip


def _mock(ns: argparse.Namespace, table: dict[str, Any] | None) -> Any:
    """The embedded mock: the scenario's ``[mock]`` table, then the flags on top."""
    if not table:
        return mock_config(ns)
    from mock_gemini.config import MockConfig, flag_changes

    base = MockConfig.from_mapping(table, source=f"{ns.scenario}: [mock]")
    changes = flag_changes(ns, base)
    return base.updated(changes, source="command line") if changes else base


def _scenario(ns: argparse.Namespace) -> dict[str, Any]:
    if not ns.scenario:
        return {}
    from harness.run.service_spec import read_service_scenario

    return read_service_scenario(Path(ns.scenario))


def _spec(ns: argparse.Namespace, table: dict[str, Any], base: Path | None) -> ServiceSpec:
    from dataclasses import replace

    from harness.generators.http import RequestTemplate
    from harness.run.service_spec import parse_ok, read_data, spec_from_table

    merged = dict(table)
    if ns.service_url or ns.service_cmd:
        merged.pop("url", None)
        merged.pop("command", None)
    if ns.service_url:
        merged["url"] = ns.service_url
    if ns.service_cmd:
        merged["command"] = ns.service_cmd
    builtin = "url" not in merged and "command" not in merged
    if builtin:  # validated as a command; replaced by the built-in service's in load_plan
        merged["command"] = "builtin"
        merged.setdefault("requests", [{"path": "/recipes/generate", "body": BUILTIN_REQUEST}])
        merged.setdefault("ok", {"status": [200], "equals": {"$.outcome": "ok"}})
    spec = spec_from_table(merged, str(ns.scenario or "flags"), base or Path("."))
    template = spec.requests[0] if len(spec.requests) == 1 else None
    if ns.method or ns.path or ns.body or ns.header:
        template = template or RequestTemplate()
        template = replace(
            template,
            method=(ns.method or template.method).upper(),
            path=ns.path or template.path,
            body=_json(ns.body) if ns.body else template.body,
            headers={**template.headers, **_headers(ns.header)},
        )
        spec = replace(spec, requests=(template,))
    if ns.ok:
        spec = replace(spec, ok=parse_ok(ns.ok))
    if ns.data:
        spec = replace(spec, data=read_data(Path(ns.data)))
    if ns.ready:
        spec = replace(spec, ready=ns.ready)
    if ns.timeout is not None:
        spec = replace(spec, timeout_s=ns.timeout)
    spec.validate()
    return spec


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"--body: not JSON: {exc}") from None


def _headers(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise ConfigError(f"--header {item!r}: expected NAME:VALUE")
        out[name.strip()] = value.strip()
    return out


def _load(ns: argparse.Namespace, table: dict[str, Any]) -> tuple[Any, int]:
    """(closed-loop Workload or OpenLoad, concurrency cap) from flags over ``[workload]``."""
    from harness.generators.base import Workload
    from harness.generators.load import OpenLoad, parse_arrival
    from harness.run import limits

    rate = ns.rate if ns.rate is not None else table.get("rate_rps")
    if rate is not None:
        load = OpenLoad(
            rate_rps=float(rate),
            arrival=parse_arrival(ns.arrival if ns.rate is not None else
                                  str(table.get("arrival", ns.arrival))),
            requests=ns.requests if ns.requests is not None else table.get("requests"),
            duration_s=ns.duration if ns.duration is not None else table.get("duration_s"),
            max_in_flight=ns.max_in_flight or table.get("max_in_flight"),
        )  # fmt: skip
        limits.check_range("--rate", load.rate_rps, 0, limits.MAX_RATE_RPS)
        limits.check_range("--duration", load.duration_s, 0, limits.MAX_DURATION_S)
        cap = load.max_in_flight or 1000
        limits.check_range("--max-in-flight", cap, 1, limits.MAX_IN_FLIGHT)
        return load, cap
    if ns.duration is not None or ns.requests is not None:
        raise ConfigError("--duration/--requests: only with --rate R (open loop)")
    users = ns.users or int(table.get("users", 10))
    per_user = ns.requests_per_user or int(table.get("requests_per_user", 5))
    limits.check_range("--users", users, 1, limits.MAX_USERS)
    limits.check_total_requests(users, per_user)
    cap = ns.max_in_flight or users
    return Workload(users, per_user), cap
