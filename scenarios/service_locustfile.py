"""Locust users for any service spec: the same ``[service]`` file ``python -m harness load`` reads.

    locust -f scenarios/service_locustfile.py --service-spec scenarios/recipe-service.toml \\
        --headless -u 20 -r 20 -t 30s
    locust -f scenarios/service_locustfile.py --service-spec my-app.toml --master --headless \\
        -u 100 -r 50 -t 60s --expect-workers 2          # plus, on each worker machine:
    locust -f scenarios/service_locustfile.py --service-spec my-app.toml --worker

Without ``--host`` the master (or the single local process) starts what the spec says:
the embedded mock with the spec's ``[mock]`` table and the service from its ``command``
(``--builtin-mode`` for the built-in recipe service), and stops both when Locust quits;
workers get the host from the master. Each request follows the spec's templates and is
judged by its ``[service.ok]`` rules, so a 200 carrying an error is a failure, and a
transport error inside the response (a cut body) is a failure of that request.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import random
from pathlib import Path
from typing import Any

from locust import FastHttpUser, events, task
from locust.env import Environment
from locust.runners import WorkerRunner

from harness.generators.http import ServiceSpec, fill
from harness.run.service_spec import read_service_scenario, spec_from_table

log = logging.getLogger("service_locustfile")
DEFAULT_SPEC = Path(__file__).resolve().parent / "recipe-service.toml"
BUILTIN_MODES = ("async", "threaded", "blocking")


@events.init_command_line_parser.add_listener
def add_options(parser: Any) -> None:
    add = parser.add_argument
    add(
        "--service-spec",
        default=os.environ.get("HARNESS_SERVICE_SPEC", str(DEFAULT_SPEC)),
        help="a scenario file with a [service] table (python -m harness load reads it too)",
    )
    add(
        "--builtin-mode",
        choices=BUILTIN_MODES,
        default="async",
        include_in_web_ui=True,
        help="the built-in recipe service's design, when the spec starts it",
    )
    add("--think-time", type=float, default=0.0, include_in_web_ui=True,
        help="seconds a user waits between two requests")  # fmt: skip
    parser.set_defaults(web_host="127.0.0.1")  # the web UI on loopback unless told otherwise


def load_spec(path: str) -> tuple[ServiceSpec, dict[str, Any]]:
    """(the spec, the file's ``[mock]`` table) — every problem a one-line ConfigError."""
    table = read_service_scenario(Path(path))
    spec = spec_from_table(table.get("service", {}), path, Path(path).parent)
    return spec, dict(table.get("mock", {}))


class ServiceUser(FastHttpUser):
    """Sends the spec's requests in its weighted mix; each is judged by the spec's ok rules."""

    spec: ServiceSpec | None = None

    def on_start(self) -> None:
        if ServiceUser.spec is None:
            ServiceUser.spec = load_spec(self.environment.parsed_options.service_spec)[0]
        self._ids = itertools.count(random.randrange(1_000_000))
        self._user = random.randrange(1_000_000)

    def wait_time(self) -> float:
        options = self.environment.parsed_options
        return float(options.think_time) if options is not None else 0.0

    @task
    def send(self) -> None:
        spec = ServiceUser.spec
        assert spec is not None
        request_id = next(self._ids)
        template = spec.template_for(request_id)
        values = spec.fields(request_id, self._user)
        path = str(fill(template.path, values))
        headers = {k: str(fill(v, values)) for k, v in template.headers.items()}
        name = f"{template.method} {template.path}"
        with self.client.request(
            template.method, path, json=fill(template.body, values), headers=headers,
            name=name, catch_response=True,
        ) as resp:  # fmt: skip
            try:
                body = resp.content or b""
            except Exception as exc:  # a body cut mid-way (geventhttpclient): this request failed
                resp.failure(f"{type(exc).__name__}: {exc}")
                return
            reason = spec.ok.judge(resp.status_code or 0, body)
            if reason is None:
                resp.success()
            else:
                resp.failure(reason)


@events.init.add_listener
def on_init(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner) or environment.parsed_options is None:
        return  # workers get the host from the master
    spec, mock = load_spec(environment.parsed_options.service_spec)
    ServiceUser.spec = spec
    if environment.host:
        return
    if spec.url is not None:
        environment.host = spec.url
        return
    _start_stack(environment, spec, mock)


def _start_stack(environment: Environment, spec: ServiceSpec, mock: dict[str, Any]) -> None:
    from harness.run.embedded import EmbeddedMock
    from harness.run.service_process import started_service

    stack = contextlib.ExitStack()
    upstream = stack.enter_context(EmbeddedMock(mock or {"latency": 0.5}))
    mode = environment.parsed_options.builtin_mode
    environment.host = stack.enter_context(started_service(spec, upstream.url, (), mode))
    log.info("service on %s, its upstream (embedded mock) on %s", environment.host, upstream.url)
    # ``quit`` comes after the runner stopped its users (``quitting`` comes before).
    environment.events.quit.add_listener(lambda **_: stack.close())
