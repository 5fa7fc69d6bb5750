"""``python -m harness SUB-COMMAND``: argument parsing and dispatch only.

Every user error ends as one line on stderr and exit status 2; regressions exit 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from harness.errors import ConfigError, HarnessError, RegressionError
from mock_gemini.config import MockConfigError

Command = Callable[[argparse.Namespace, list[str]], int]


def _commands() -> dict[str, tuple[Callable[[argparse.ArgumentParser], None], Command]]:
    import harness.cli_bench as cli_bench
    from harness import cli_compare, cli_reports, cli_run, cli_serve

    return {
        "compare": (cli_compare.add_arguments, cli_compare.main),
        "run": (cli_run.add_run_arguments, cli_run.run_main),
        "sweep": (cli_run.add_sweep_arguments, cli_run.sweep_main),
        "report": (cli_reports.add_report_arguments, cli_reports.report_main),
        "regress": (cli_reports.add_regress_arguments, cli_reports.regress_main),
        "serve": (cli_serve.add_arguments, cli_serve.main),
        "calibrate": (cli_bench.add_calibrate_arguments, cli_bench.calibrate_main),
        "bench-self": (cli_bench.add_bench_self_arguments, cli_bench.bench_self_main),
    }


class OneLineParser(argparse.ArgumentParser):
    """Usage errors as one line (``error: python -m harness compare: …``) and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m harness",
        description="Benchmark and load-test LLM-calling designs against a mock or real Gemini.",
    )
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser
    )
    for name, (add_arguments, _) in _commands().items():
        doc = (sys.modules[add_arguments.__module__].__doc__ or "").strip().splitlines()
        add_arguments(sub.add_parser(name, help=doc[0] if doc else None))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, dispatch, and turn every expected failure into its exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    ns = parser.parse_args(args)
    _, command = _commands()[ns.command]
    try:
        return command(ns, args)
    except RegressionError as exc:
        print(f"regression: {exc}", file=sys.stderr)
        return 1
    except (ConfigError, MockConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except HarnessError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
