"""serve: the seed's recipe API (FastAPI + uvicorn) in one of three modes, for Locust.

    python -m harness serve --mode threaded --port 0 --latency 0.5
    # recipe service (threaded) listening on http://127.0.0.1:41234

By default the upstream is an embedded mock (the shared mock flags apply);
``--upstream URL`` uses a running mock, ``--target gemini`` the real API.
Ctrl-C or SIGTERM stops the server, then the embedded mock.
"""

from __future__ import annotations

import argparse
import dataclasses
import socket
import sys
from typing import TYPE_CHECKING

from harness.cli.common import (
    add_resilience_arguments,
    add_target_arguments,
    mock_config,
    resilience_config,
    target_spec,
)
from harness.errors import ConfigError
from harness.service import DEFAULT_MAX_BODY_BYTES, MODES

if TYPE_CHECKING:
    from harness.gemini import Target
    from harness.service.settings import ServiceSettings

READY_PREFIX = "recipe service"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("service")
    add = group.add_argument
    add(
        "--mode",
        choices=MODES,
        default="async",
        help="async | threaded | blocking (the seed's before)",
    )
    add("--host", default="127.0.0.1", help="address to listen on")
    add("--port", type=int, default=8000, help="port to listen on; 0 = any free port")
    add("--concurrency", type=int, default=100, help="async: semaphore and pool")
    add("--workers", type=int, default=100, help="threaded: worker threads")
    add("--max-output-tokens", type=int, default=2048, help="maxOutputTokens of each request")
    add("--upstream", metavar="URL", dest="base_url", help="a running mock (same as --base-url)")
    add("-v", "--verbose", action="store_true", help="log every generation (INFO)")
    add("--log-json", action="store_true", help="log lines as JSON")
    add_target_arguments(parser)
    add_resilience_arguments(parser)
    _add_limit_arguments(parser)


def _add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    # "resolve": here --max-body-bytes is the service's cap, not the embedded mock's
    # (mock_gemini's flag of that name); the mock keeps its own default (20 MiB).
    group = parser.add_argument_group("request limits", conflict_handler="resolve")
    group.add_argument(
        "--max-body-bytes",
        metavar="N",
        type=int,
        default=DEFAULT_MAX_BODY_BYTES,
        dest="service_max_body_bytes",
        help=f"largest request body in bytes; larger → 413 (default {DEFAULT_MAX_BODY_BYTES})",
    )


def settings_from_args(ns: argparse.Namespace, target: Target) -> ServiceSettings:
    """The service settings the flags describe, for ``target``; bad values → ConfigError."""
    from harness.service.settings import ServiceSettings

    return ServiceSettings(
        target=target,
        mode=ns.mode,
        concurrency=ns.concurrency,
        workers=ns.workers,
        resilience=resilience_config(ns),
        max_output_tokens=ns.max_output_tokens,
        secondary=ns.secondary,
        max_body_bytes=ns.service_max_body_bytes,
    )


def main(ns: argparse.Namespace, argv: list[str]) -> int:
    from harness.gemini import Target
    from harness.logs import configure_logging
    from harness.run.targets import open_target
    from harness.service.server import Stopped, listen, serve, stop_on_signals

    if ns.reset_upstream:
        raise ConfigError("--reset-upstream: compare, run and sweep only (serve has no designs)")
    spec = target_spec(ns)
    mock = mock_config(ns) if spec.kind == "mock" else None
    # Check every setting before anything starts (the target comes later).
    settings = settings_from_args(ns, Target("http://127.0.0.1", "unset"))
    sock = listen(ns.host, ns.port)
    try:
        with stop_on_signals(), open_target(spec, mock) as target:
            configure_logging(ns.verbose, ns.log_json, secrets=[target.api_key])
            settings = dataclasses.replace(settings, target=target)
            started = serve(settings, sock, on_ready=lambda: _announce(settings.mode, sock))
    except Stopped:
        print("recipe service stopped", file=sys.stderr)
        return 0
    finally:
        sock.close()
    if not started:
        print("error: the recipe service failed to start (see the log above)", file=sys.stderr)
        return 1
    return 0


def _announce(mode: str, sock: socket.socket) -> None:
    from harness.service.server import url_of

    print(f"{READY_PREFIX} ({mode}) listening on {url_of(sock)}", flush=True)
