"""``python -m mock_gemini``: serve the mock Gemini API until Ctrl-C or SIGTERM.

    python -m mock_gemini --port 0 --latency-dist lognormal:median=0.5,sigma=0.4 --fault 503=0.05
    # prints: mock_gemini listening on http://127.0.0.1:41234

Bad flags or settings print one line on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import signal
import sys
from collections.abc import Callable
from typing import NoReturn

from mock_gemini.config import MockConfig, MockConfigError, add_mock_arguments, config_from_args

PROG = "mock_gemini"
LOOPS = ("auto", "uvloop", "asyncio")
GC_GEN0_THRESHOLD = 50_000


class _OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad flag in one line (no usage block) and exits 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The command line: ``--host``, ``--port`` and every mock flag."""
    parser = _OneLineParser(prog=PROG, description="A mock of the Gemini Developer API.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port; 0 picks a free one")
    parser.add_argument(
        "--loop",
        choices=LOOPS,
        default="auto",
        help="event loop: uvloop (timers fire ~0.2 ms late, not ~0.6), asyncio, or auto "
        "(uvloop when installed)",
    )
    add_mock_arguments(parser.add_argument_group("mock behaviour"))
    return parser


def tune_gc() -> None:
    """Make the collector cheap for a server holding thousands of requests (this process only).

    Most of a request's objects die young; collecting every 700 allocations made the
    collector a third of the CPU at 5,000 requests in flight (see docs/BENCHMARKS.md).
    """
    gc.freeze()  # startup objects (modules, app) are never garbage: stop scanning them
    gc.set_threshold(GC_GEN0_THRESHOLD, 20, 20)


async def serve(config: MockConfig, host: str, port: int) -> None:
    """Listen, print the one ready line, and run until SIGINT or SIGTERM."""
    from mock_gemini.app import start_server  # aiohttp loads only once the flags are good

    server = await start_server(config, host, port)
    tune_gc()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print(f"{PROG} listening on {server.url}", flush=True)
    try:
        await stop.wait()
    finally:
        await server.close()


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop ``--loop`` asks for; None is asyncio's default.

    Raises MockConfigError when ``uvloop`` is asked for and not installed.
    """
    if name == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if name == "uvloop":
            raise MockConfigError("--loop uvloop: uvloop is not installed") from None
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def main(argv: list[str] | None = None) -> int:
    """Parse, configure, serve; returns the exit status."""
    ns = build_parser().parse_args(argv)
    try:
        config = config_from_args(ns)
        with asyncio.Runner(loop_factory=loop_factory(ns.loop)) as runner:
            runner.run(serve(config, ns.host, ns.port))
    except MockConfigError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(
            f"{PROG}: error: cannot listen on {ns.host}:{ns.port}: {exc.strerror}", file=sys.stderr
        )
        return 2
    except KeyboardInterrupt:  # Ctrl-C before the signal handlers were installed
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
