"""Locust users that speak Gemini directly: streamed recipes, time to first token, tokens.

    locust -f scenarios/gemini_locustfile.py          # embedded mock; web UI on 127.0.0.1:8089
    locust -f scenarios/gemini_locustfile.py --headless -u 20 -r 20 -t 30s \\
        --host http://127.0.0.1:9000                                          # a running mock
    GEMINI_API_KEY=... locust -f scenarios/gemini_locustfile.py --headless -u 1 -r 1 -t 20s \\
        --host https://generativelanguage.googleapis.com                      # the real API

Each request is ``:streamGenerateContent?alt=sse``. Locust's table shows the whole stream
(its "size" column is the output token count) and ``TTFT`` (time until the first event
with text), a separate entry left out of the Aggregated row, which so counts each request
once. A stream that breaks mid-body (a cut connection, a truncated event) is a failure of
its request, with the reason; an error answer is a failure named by its error class. The API key
(GEMINI_API_KEY / GOOGLE_API_KEY, only for ``*.googleapis.com``) travels in a
header and is never logged. Without ``--host`` the master (or local process)
starts an embedded mock on a free loopback port and stops it at quit.
"""

from __future__ import annotations

import itertools
import logging
import os
import random
import time
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import gevent
import locust.stats
from locust import FastHttpUser, events, task
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import WorkerRunner
from locust.stats import RequestStats

from harness.errors import HarnessError, UpstreamError
from harness.gemini import (
    SseDecoder,
    Target,
    answer_from_chunks,
    build_generate_request,
    chunk_from_event,
    error_from_response,
)
from harness.recipes import RecipeRequest
from harness.run.service_child import LocalStack, StackOptions
from harness.run.targets import LOCAL_KEY, api_key_from_env

WEB_HOST = "127.0.0.1"
"""The web UI's default address (Locust's own default is every interface)."""

log = logging.getLogger("gemini_locustfile")

STREAM = "streamGenerateContent"
TTFT = "TTFT"
CSV_PASS_MARGIN_S = 0.25


@events.init_command_line_parser.add_listener
def add_options(parser: Any) -> None:
    # Locust's web UI listens on every interface unless told otherwise: here it stays on
    # loopback; --web-host, LOCUST_WEB_HOST or a config file's web-host still override it.
    parser.set_defaults(web_host=WEB_HOST)
    add = parser.add_argument
    add("--gemini-model", default="gemini-2.5-flash", include_in_web_ui=True, help="model id")
    add("--max-output-tokens", type=int, default=1024, include_in_web_ui=True)
    add("--mock-latency", type=float, default=0.5, include_in_web_ui=True,
        help="embedded mock: seconds to first token")  # fmt: skip
    add("--mock-tokens-per-s", type=float, default=200.0, include_in_web_ui=True,
        help="embedded mock: output speed")  # fmt: skip
    add("--mock-fault-rate", type=float, default=0.0, include_in_web_ui=True,
        help="embedded mock: probability of a 503")  # fmt: skip


def key_for(host: str, env: Any) -> str:
    """The real API's key for Google's hosts; the harness's local key for anything else."""
    hostname = urlsplit(host).hostname or ""
    return api_key_from_env(env) if hostname.endswith("googleapis.com") else LOCAL_KEY


class GeminiUser(FastHttpUser):
    """Streams one recipe answer after another, reporting TTFT and output tokens."""

    def on_start(self) -> None:
        options = self.environment.parsed_options
        assert self.host, "no host: give --host or let the locustfile start the mock"
        try:
            key = key_for(self.host, os.environ)
        except HarnessError as exc:
            log.error("%s", exc)
            raise StopUser() from None
        model = options.gemini_model if options is not None else "gemini-2.5-flash"
        self.target = Target(self.host, key, model)
        self.max_output_tokens = int(options.max_output_tokens) if options is not None else 1024
        self._next = itertools.count(random.randrange(1000))

    @task
    def stream(self) -> None:
        req = RecipeRequest.example(next(self._next))
        http = build_generate_request(
            self.target, req, stream=True, max_output_tokens=self.max_output_tokens
        )
        started = time.perf_counter()
        with self.client.request(
            http.method, http.url, name=STREAM, data=http.body.decode(), headers=dict(http.headers),
            stream=True, catch_response=True,
        ) as resp:  # fmt: skip
            try:
                tokens = self._read_stream(resp, started)
            except UpstreamError as exc:
                resp.failure(f"{type(exc).__name__} (HTTP {exc.status})")
            except Exception as exc:  # a cut stream is a failure of this request
                # geventhttpclient raises its own parse errors ("Incomplete response.") from
                # readline(), besides OSError and the decoder's ValueError: all transport.
                resp.failure(f"stream broken: {type(exc).__name__}: {exc}")
            else:
                resp.request_meta["response_length"] = tokens
                resp.success()
            resp.request_meta["response_time"] = (time.perf_counter() - started) * 1000

    def _read_stream(self, resp: Any, started: float) -> int:
        """Decode the SSE body as it arrives; fire TTFT at the first text; return tokens."""
        if resp.status_code != 200:
            raise error_from_response(
                resp.status_code or 0, dict(resp.headers or {}), resp.content or b""
            )
        decoder = SseDecoder()
        first = True
        while line := resp.readline():
            for event in decoder.feed(line):
                if first and chunk_from_event(event).text:
                    first = False
                    self._fire_ttft((time.perf_counter() - started) * 1000)
        decoder.flush()
        answer = answer_from_chunks(decoder.received)
        return answer.output_tokens or 0

    def _fire_ttft(self, ttft_ms: float) -> None:
        log_ttft(self.environment.stats, ttft_ms)


def log_ttft(stats: RequestStats, ttft_ms: float) -> None:
    """Log a TTFT as its own stats entry, outside ``stats.total``.

    Not a ``request`` event: that would add every TTFT to the Aggregated row, counting each
    request twice. The entry still shows in the web UI, the console table and the CSV, and
    workers send it to the master like any other entry.
    """
    stats.get(STREAM, TTFT).log(round(ttft_ms), 0)


def serialize_without_reset(stats: RequestStats) -> list[Any]:
    """``stats.serialize_stats()`` minus the reset: the non-destructive form for ``--json``.

    Locust's own version resets every entry it serializes (workers send deltas). At quit,
    ``--json`` / ``--json-file`` serialize before the CSV writer's last pass and before the
    ``quit`` listeners stop the embedded mock (which yields to that writer): the stats CSV
    then held zeros on every endpoint row. A master or local runner sends no deltas.
    """
    return [e.serialize() for e in stats.entries.values() if e.num_requests or e.num_failures]


def let_the_csv_writer_finish(environment: Environment, **_: Any) -> None:
    """At ``quit`` (users stopped, stats final), give Locust's CSV writer one more pass.

    The writer rewrites ``_stats.csv`` once a second and is never asked for a last pass:
    without this wait the file missed the run's last second (20 of 28 requests, once).
    """
    options = environment.parsed_options
    if options is not None and getattr(options, "csv_prefix", None):
        gevent.sleep(locust.stats.CSV_STATS_INTERVAL_SEC + CSV_PASS_MARGIN_S)


@events.init.add_listener
def on_init(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return
    # an instance attribute shadows the method: only this process's final reports use it
    environment.stats.serialize_stats = partial(serialize_without_reset, environment.stats)
    environment.events.quit.add_listener(partial(let_the_csv_writer_finish, environment))
    if environment.host:
        return
    stack = LocalStack()

    def start(environment: Environment, **_: Any) -> None:
        if environment.host and environment.host != stack.url:
            return  # someone typed another host in the web UI: leave it alone
        options = environment.parsed_options
        if options is None:
            return
        wanted = StackOptions(
            mode=None,
            mock_latency_s=float(options.mock_latency),
            mock_fault_rate=float(options.mock_fault_rate),
            mock_tokens_per_s=float(options.mock_tokens_per_s),
        )
        environment.host = stack.ensure(wanted)

    def stop(**_: Any) -> None:
        stack.stop()

    environment.events.test_start.add_listener(start)
    # ``quit`` comes after the runner stopped its users (``quitting`` comes before).
    environment.events.quit.add_listener(stop)
    start(environment)
