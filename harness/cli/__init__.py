"""``python -m harness SUB-COMMAND``: argument parsing and dispatch only.

Each sub-command is a module here with ``add_arguments``-style and ``main``-style
functions; only the chosen sub-command's module is imported, and it imports what it
needs when it runs, so ``--help`` returns at once. Every user error ends as one line on
stderr and exit status 2; regressions exit 1.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import threading
from collections.abc import Callable, Sequence
from typing import NoReturn

from harness.errors import ConfigError, HarnessError, Interrupted, RegressionError
from harness.run.interrupts import signals_raise
from mock_gemini.config_error import MockConfigError

Command = Callable[[argparse.Namespace, list[str]], int]

# name → (module, add-arguments function, main function, one-line description)
COMMANDS: dict[str, tuple[str, str, str, str]] = {
    "compare": ("compare", "add_arguments", "main",
                "every design on the same workload, side by side with its bound and a verdict"),
    "run": ("run", "add_run_arguments", "run_main", "run a scenario file (scenarios/*.toml)"),
    "sweep": ("run", "add_sweep_arguments", "sweep_main",
              "compare the designs over a list of user counts"),
    "load": ("load", "add_arguments", "main",
             "load-test your own HTTP service that calls an LLM; tell its concurrency design"),
    "report": ("reports", "add_report_arguments", "report_main",
               "print a saved run's summary again; write its report with --out"),
    "regress": ("reports", "add_regress_arguments", "regress_main",
                "gate a run against a baseline: Markdown table, exit 1 on a regression"),
    "serve": ("serve", "add_arguments", "main",
              "the seed's recipe API (FastAPI) in one of three modes, for Locust"),
    "calibrate": ("bench", "add_calibrate_arguments", "calibrate_main",
                  "measure the harness's own limits on this machine (max rate, timing error)"),
    "bench-self": ("bench", "add_bench_self_arguments", "bench_self_main",
                   "the harness against a bare aiohttp loop and Locust, in interleaved rounds"),
}  # fmt: skip


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Every flag's default after its help (when it has one); examples kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default in (None, False, argparse.SUPPRESS) or "default" in text:
            return text
        return super()._get_help_string(action)


class OneLineParser(argparse.ArgumentParser):
    """Usage errors as one line (``error: python -m harness compare: …``) and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message} (see --help)\n")


def _function(command: str, index: int) -> Callable[..., object]:
    module = importlib.import_module(f"harness.cli.{COMMANDS[command][0]}")
    function: Callable[..., object] = getattr(module, COMMANDS[command][index])
    return function


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``only``, just that sub-command's arguments are declared (fast).

    ``only=None`` declares every sub-command's arguments; ``only=""`` none of them.
    """
    parser = OneLineParser(
        prog="python -m harness",
        description="Benchmark and load-test LLM-calling designs against a mock or real Gemini.",
        epilog="Run `python -m harness COMMAND --help` for a command's flags and examples.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser
    )
    for name, (module, _, _, summary) in COMMANDS.items():
        command = sub.add_parser(
            name, help=summary, description=summary, formatter_class=HelpFormatter
        )
        if only is None or name == only:
            _function(name, 1)(command)
            command.epilog = getattr(sys.modules[f"harness.cli.{module}"], "EXAMPLES", None)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("llm-loadharness")
    except PackageNotFoundError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, dispatch, and turn every expected failure into its exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in args if not a.startswith("-")), None)
    # Declare only the chosen sub-command's arguments: the others' imports are not needed.
    ns = build_parser(chosen if chosen in COMMANDS else "").parse_args(args)
    command: Command = _function(ns.command, 2)  # type: ignore[assignment]
    try:
        with signals_raise():
            status = command(ns, args)
        if status >= 128:
            leave_now_if_threads_linger(status)
        return status
    except RegressionError as exc:
        print(f"regression: {exc}", file=sys.stderr)
        return 1
    except (ConfigError, MockConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except HarnessError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # outside a run: nothing measured to keep
        status = exc.exit_status if isinstance(exc, Interrupted) else 130
        print("interrupted", file=sys.stderr)
        leave_now_if_threads_linger(status)
        return status


def leave_now_if_threads_linger(status: int) -> None:
    """After an interrupt, exit at once rather than join threads stuck in socket reads.

    Everything worth keeping is written and every child stopped by now; only the
    threaded design's abandoned workers may still wait on their upstream.
    """
    main = threading.main_thread()
    if any(t.is_alive() and not t.daemon and t is not main for t in threading.enumerate()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
