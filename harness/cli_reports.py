"""report and regress: re-render saved runs; gate a run against a baseline.

``reports`` is imported lazily here only: matplotlib is slow to import.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from harness.errors import ConfigError


def render(sources: Sequence[Path], out_dir: Path) -> Path:
    """Write plots, report.html and summary.md into ``out_dir``; return the HTML path."""
    from reports.errors import ReportInputError
    from reports.render import render_report

    try:
        paths = render_report(list(sources), out_dir)
    except ReportInputError as exc:
        raise ConfigError(str(exc)) from None
    return paths["html"]


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "sources",
        nargs="+",
        metavar="RUN_DIR_OR_RESULTS",
        help="run directories or results.json files (several: side by side)",
    )
    parser.add_argument("--out", metavar="DIR", help="where to write (default: the first run dir)")


def report_main(ns: argparse.Namespace, _argv: list[str]) -> int:
    sources = [Path(s) for s in ns.sources]
    for source in sources:
        if not source.exists():
            raise ConfigError(f"{source}: no such file or directory")
    first = sources[0] if sources[0].is_dir() else sources[0].parent
    out_dir = Path(ns.out) if ns.out else first
    print(f"report: {render(sources, out_dir)}")
    return 0


def add_regress_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--baseline", required=True, metavar="BASE.json")
    parser.add_argument("--current", required=True, metavar="CUR.json")
    parser.add_argument(
        "--fail-on",
        metavar="RULES",
        help='e.g. "efficiency:-5%%,p95:+10%%,failed:+0" (default: a noise-aware set)',
    )
    parser.add_argument("--summary", metavar="FILE.md", help="also write the table to this file")


def regress_main(ns: argparse.Namespace, _argv: list[str]) -> int:
    from reports.errors import ReportInputError
    from reports.regression import gate

    try:
        result = gate(Path(ns.baseline), Path(ns.current), ns.fail_on)
    except ReportInputError as exc:
        raise ConfigError(str(exc)) from None
    print(result.markdown)
    if ns.summary:
        Path(ns.summary).write_text(result.markdown + "\n", encoding="utf-8")
    sys.stdout.flush()
    return result.exit_code
