"""Locust users for the recipe service (``python -m harness serve``).

    locust --config scenarios/locust.conf                        # web UI: http://127.0.0.1:8089
    locust --config scenarios/locust.conf --headless -u 50 -r 50 -t 30s --service-mode blocking
    locust --config scenarios/locust.conf --host http://127.0.0.1:8000   # a service you started

Without ``--host`` the master (or the single local process) starts an embedded mock
Gemini and the service on free loopback ports, restarts them when the web UI's
``--service-mode`` / ``--mock-*`` fields change, and stops them when Locust quits.
A generation that fell back to static recipes is counted as a success under
"/recipes/generate [fallback]"; a failed one (HTTP 502, wrong body) as a failure.
``HARNESS_SHAPE=step`` or ``spike`` switches on a load shape from ``shapes.py``.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import random
from collections import Counter
from typing import Any

from locust import FastHttpUser, events, tag, task
from locust.contrib.fasthttp import ResponseContextManager
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from harness.recipes import RecipeRequest
from harness.run.service_child import LocalStack, StackOptions

_SHAPE = os.environ.get("HARNESS_SHAPE", "")
if _SHAPE == "step":
    from shapes import StepLoadShape  # noqa: F401  (Locust picks up any shape class here)
elif _SHAPE == "spike":
    from shapes import SpikeLoadShape  # noqa: F401
elif _SHAPE:
    raise ValueError(f"HARNESS_SHAPE must be 'step' or 'spike', got {_SHAPE!r}")

WEB_HOST = "127.0.0.1"
"""The web UI's default address (Locust's own default is every interface)."""

log = logging.getLogger("locustfile")

GENERATE = "/recipes/generate"
BATCH = "/recipes/generate-batch"
BATCH_SIZE = 3
SERVICE_MODES = ("async", "threaded", "blocking")


@events.init_command_line_parser.add_listener
def add_options(parser: Any) -> None:
    # Locust's web UI listens on every interface unless told otherwise: here it stays on
    # loopback; --web-host, LOCUST_WEB_HOST or a config file's web-host still override it.
    parser.set_defaults(web_host=WEB_HOST)
    add = parser.add_argument
    add("--service-mode", choices=SERVICE_MODES, default="async", include_in_web_ui=True,
        help="mode of the service started when no --host is given")  # fmt: skip
    add("--mock-latency", type=float, default=0.5, include_in_web_ui=True,
        help="seconds the embedded mock takes to answer")  # fmt: skip
    add("--mock-fault-rate", type=float, default=0.0, include_in_web_ui=True,
        help="probability of a 503 from the embedded mock")  # fmt: skip
    add("--think-time", type=float, default=0.0, include_in_web_ui=True,
        help="seconds a user waits between two requests")  # fmt: skip


def stack_options(options: Any) -> StackOptions:
    return StackOptions(
        mode=options.service_mode,
        mock_latency_s=float(options.mock_latency),
        mock_fault_rate=float(options.mock_fault_rate),
    )


def body(index: int) -> dict[str, Any]:
    req = RecipeRequest.example(index)
    return {"ingredients": list(req.ingredients), "cuisine_type": req.cuisine_type}


def judge(status: int, answer: Any) -> tuple[str, str]:
    """("ok" | "fallback" | "failed", why) for one answer of either endpoint."""
    if status == 502 and isinstance(answer, dict):
        detail = answer.get("detail")
        message = detail.get("message") if isinstance(detail, dict) else detail
        return "failed", f"HTTP 502: {message}"
    if status != 200 or not isinstance(answer, dict):
        return "failed", f"HTTP {status}"
    items = answer.get("recipe_sets", [answer])
    outcomes = [item.get("outcome") if isinstance(item, dict) else None for item in items]
    if not outcomes or any(o not in ("ok", "fallback") for o in outcomes):
        bad = sum(o not in ("ok", "fallback") for o in outcomes)
        return "failed", f"{bad} of {len(outcomes)} generations failed"
    return ("fallback", "static recipes") if "fallback" in outcomes else ("ok", "")


def report(resp: ResponseContextManager, name: str) -> None:
    """Mark the response: fallbacks succeed under their own name, failures fail."""
    try:
        answer = resp.json()
    except Exception:  # connection error (status 0) or a body that is not JSON
        answer = None
    verdict, why = judge(resp.status_code or 0, answer)
    if verdict == "failed":
        resp.failure(why)
        return
    if verdict == "fallback":
        resp.request_meta["name"] = f"{name} [fallback]"
    resp.success()


class RecipeUser(FastHttpUser):
    """One cook: mostly single generations, sometimes a batch of three."""

    def on_start(self) -> None:
        self._next = itertools.count(random.randrange(1000))

    def wait_time(self) -> float:
        options = self.environment.parsed_options
        return float(options.think_time) if options is not None else 0.0

    @task(5)
    def generate(self) -> None:
        payload = body(next(self._next))
        with self.client.post(GENERATE, json=payload, catch_response=True) as resp:
            report(resp, GENERATE)

    @tag("batch")
    @task(1)
    def generate_batch(self) -> None:
        payloads = [body(next(self._next)) for _ in range(BATCH_SIZE)]
        with self.client.post(BATCH, json=payloads, catch_response=True) as resp:
            report(resp, BATCH)


@events.init.add_listener
def on_init(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return  # workers get the host from the master
    if isinstance(environment.runner, MasterRunner):
        _count_requests_per_worker(environment)
    if not environment.host:
        _manage_local_stack(environment)


def _manage_local_stack(environment: Environment) -> None:
    stack = LocalStack()

    def start(environment: Environment, **_: Any) -> None:
        if environment.host and environment.host != stack.url:
            return  # someone typed another host in the web UI: leave it alone
        before = stack.url
        environment.host = stack.ensure(stack_options(environment.parsed_options))
        if stack.url != before:
            log.info("recipe service (%s) on %s", stack.options and stack.options.mode, stack.url)

    def stop(**_: Any) -> None:
        stack.stop()

    environment.events.test_start.add_listener(start)
    # ``quit`` comes after the runner stopped its users (``quitting`` comes before).
    environment.events.quit.add_listener(stop)
    start(environment)  # now, so that the web UI shows the host


def _count_requests_per_worker(environment: Environment) -> None:
    counts: Counter[str] = Counter()

    def on_report(client_id: str, data: dict[str, Any], **_: Any) -> None:
        counts[client_id] += int(data.get("stats_total", {}).get("num_requests", 0))

    def on_quit(**_: Any) -> None:
        log.info("requests per worker: %s", json.dumps(dict(counts), sort_keys=True))

    environment.events.worker_report.add_listener(on_report)
    environment.events.quit.add_listener(on_quit)
