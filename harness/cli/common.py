"""Argument groups shared by the run-type commands (compare, run, sweep, serve).

Each option is declared once here; the builders turn a namespace into config objects.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from harness.errors import ConfigError
from harness.run.defaults import DEFAULT_MOCK_LATENCY_S
from mock_gemini.config import add_mock_arguments, config_from_args

if TYPE_CHECKING:
    from harness.resilience.config import ResilienceConfig
    from harness.run.targets import TargetSpec
    from mock_gemini.config import MockConfig


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("target (default: an embedded mock on 127.0.0.1)")
    group.add_argument(
        "--target",
        choices=("mock", "gemini"),
        default="mock",
        help="'gemini' calls the real API with GEMINI_API_KEY / GOOGLE_API_KEY",
    )
    group.add_argument("--base-url", metavar="URL", help="any running mock or compatible server")
    group.add_argument(
        "--reset-upstream",
        action="store_true",
        help="--base-url is a mock_gemini: reset it (POST /_mock/reset) before each design, "
        "so each meets the same schedule, quotas and draws (the embedded mock always is)",
    )
    group.add_argument(
        "--api",
        choices=("gemini", "openai"),
        default="gemini",
        help="the wire protocol: Gemini's own, or OpenAI chat completions (--base-url is then "
        "the OpenAI base, e.g. http://host:8000/v1; the mock and --target gemini are reached "
        "at their /v1beta/openai)",
    )
    group.add_argument("--model", default="gemini-2.5-flash", help="model id")
    group.add_argument("--api-version", default="v1beta", choices=("v1", "v1beta", "v1alpha"),
                       help="the API version in request paths")  # fmt: skip
    mock = parser.add_argument_group(
        "embedded mock",
        f"settings of the embedded mock (default --latency {DEFAULT_MOCK_LATENCY_S})",
    )
    add_mock_arguments(mock)


def target_spec(ns: argparse.Namespace) -> TargetSpec:
    from harness.run.targets import TargetSpec

    if ns.target == "gemini":
        if ns.reset_upstream:
            raise ConfigError("--reset-upstream: only with --base-url (a running mock_gemini)")
        return TargetSpec("gemini", ns.base_url, ns.model, ns.api_version, api=ns.api)
    if ns.base_url:
        return TargetSpec(
            "base-url", ns.base_url, ns.model, ns.api_version, ns.reset_upstream, ns.api
        )
    if ns.reset_upstream:
        raise ConfigError("--reset-upstream: only with --base-url (a running mock_gemini)")
    return TargetSpec("mock", None, ns.model, ns.api_version, api=ns.api)


def mock_config(ns: argparse.Namespace) -> MockConfig:
    """The embedded mock's settings: file, then flags; 1 s latency when nothing says otherwise."""
    config = config_from_args(ns)
    latency_given = ns.latency is not None or ns.latency_dist is not None or ns.config
    if not latency_given:
        config = config.updated({"latency": DEFAULT_MOCK_LATENCY_S}, source="default")
    return config


def add_resilience_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("resilience (see docs/resilience.md)")
    add = group.add_argument
    add("--resilience", metavar="PRESET", default="default", help="default | seed | none")
    add("--timeout", metavar="S", type=float, help="per-attempt timeout")
    add("--deadline", metavar="S", type=float, help="per-request deadline over all attempts")
    add("--retries", metavar="N", type=int, help="retries after the first attempt")
    add("--retry-budget", metavar="RATIO", help="retries ≤ RATIO × first attempts, or 'none'")
    add("--breaker-window", metavar="N", type=int, help="calls in the breaker's sliding window")
    add("--breaker-threshold", metavar="RATE", type=float, help="failure rate that opens it")
    add("--breaker-min-calls", metavar="N", type=int, help="calls before the rate counts")
    add("--breaker-open-s", metavar="S", type=float, help="time open before half-open probes")
    add("--breaker-probes", metavar="K", type=int, help="probes admitted when half-open")
    add("--no-breaker", action="store_true", help="disable the circuit breaker")
    add("--no-fallback", action="store_true", help="failures stay failures (no static recipes)")
    add("--secondary", action="store_true", help="async/sdk: try the sync client before recipes")


_BREAKER_FLAGS = {
    "breaker_window": "window_calls",
    "breaker_threshold": "failure_rate_threshold",
    "breaker_min_calls": "minimum_calls",
    "breaker_open_s": "open_s",
    "breaker_probes": "half_open_probes",
}


def resilience_overrides(ns: argparse.Namespace) -> dict[str, Any]:
    """The resilience flags that were given, as a ``[resilience]`` table."""
    table: dict[str, Any] = {"preset": ns.resilience}
    retry: dict[str, Any] = {}
    breaker: dict[str, Any] = {k: getattr(ns, f) for f, k in _BREAKER_FLAGS.items()}
    breaker = {k: v for k, v in breaker.items() if v is not None}
    if ns.timeout is not None:
        table["attempt_timeout_s"] = ns.timeout
    if ns.deadline is not None:
        table["deadline_s"] = ns.deadline
    if ns.retries is not None:
        retry["max_attempts"] = ns.retries + 1
    if ns.retry_budget is not None:
        retry["budget_ratio"] = _ratio(ns.retry_budget)
    if ns.no_breaker:
        breaker["enabled"] = False
    if ns.no_fallback:
        table["fallback"] = False
    return table | ({"retry": retry} if retry else {}) | ({"breaker": breaker} if breaker else {})


def _ratio(text: str) -> float | str:
    if text == "none":
        return "none"
    try:
        return float(text)
    except ValueError:
        raise ConfigError(
            f"--retry-budget: expected a ratio like 0.1 or 'none', got {text!r}"
        ) from None


def resilience_config(ns: argparse.Namespace) -> ResilienceConfig:
    from harness.resilience.config import ResilienceConfig

    return ResilienceConfig.from_mapping(resilience_overrides(ns), "command line")


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("output")
    group.add_argument("--out", metavar="DIR", help="run directory (default: runs/<UTC>-<command>)")
    group.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    group.add_argument("--no-report", action="store_true", help="skip plots and HTML report")
    group.add_argument("--no-progress", action="store_true", help="no progress bars")
    group.add_argument("-v", "--verbose", action="store_true", help="log each request")
    group.add_argument("--log-json", action="store_true", help="log each request as a JSON line")
    group.add_argument("--export-csv", action="store_true",
                       help="also write requests.csv, summary.csv and summary_stats.csv "
                            "beside results.json")  # fmt: skip
