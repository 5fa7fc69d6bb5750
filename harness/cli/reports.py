"""report and regress: show saved runs again; gate a run against a baseline.

    python -m harness report runs/<run>                 # the console summary the run printed
    python -m harness report runs/<a> runs/<b> --out DIR   # plots, report.html, summary.md
    python -m harness report runs/<a> runs/<b>             # … into runs/<UTC stamp>-report/

``reports`` is imported lazily here only: matplotlib is slow to import.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.errors import ConfigError


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "sources",
        nargs="+",
        metavar="RUN_DIR_OR_RESULTS",
        help="run directories or results.json files (several: side by side)",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="also write plots, report.html and summary.md into DIR (default: one source "
        "writes nothing; several write into a new runs/<UTC stamp>-report/)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def report_main(ns: argparse.Namespace, _argv: list[str]) -> int:
    from harness.cli.output import render
    from harness.measure.files import writable_dir
    from reports.console import print_summary, stdout_console, summary_json
    from reports.errors import ReportInputError
    from reports.load import load_many
    from reports.thresholds import document_thresholds, run_end_lines

    sources = [Path(s) for s in ns.sources]
    if ns.out:  # a bad --out fails before any work
        writable_dir(Path(ns.out), "--out")
    for source in sources:
        if not source.exists():
            raise ConfigError(f"{source}: no such file or directory")
    try:
        loaded = load_many(sources)
    except ReportInputError as exc:
        raise ConfigError(str(exc)) from None
    out = report_dir(ns.out, len(sources))
    if out is not None and not ns.out:  # made once the sources proved good: no empty dir
        writable_dir(out, "--out")
    for results in loaded:
        if ns.json:
            print(summary_json(results))
        else:
            print_summary(results, stdout_console())
        for line in run_end_lines(results, document_thresholds(results)):
            print(line, file=sys.stderr if ns.json else sys.stdout)
    if out is not None:
        print(f"report: {render(sources, out)}")
    return 0


def report_dir(out: str | None, sources: int, root: Path = Path("runs")) -> Path | None:
    """Where ``report`` writes: ``--out``; else, for several sources, a new stamped directory.

    One source without ``--out`` writes nothing (None). The new directory never reuses an
    existing one (``…-report-2``, ``-3``, … within the same second), so no source is touched.
    """
    from harness.measure.results import default_run_dir

    if out:
        return Path(out)
    if sources < 2:
        return None
    base = default_run_dir("report", root)
    candidates = (base.with_name(f"{base.name}-{n}") for n in range(2, 1000))
    return next((p for p in (base, *candidates) if not p.exists()), base)


def add_regress_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--baseline",
        required=True,
        metavar="BASE.json",
        help="the results file to compare against (e.g. a committed baseline)",
    )
    parser.add_argument("--current", required=True, metavar="CUR.json",
                        help="the results file of the run under test")  # fmt: skip
    parser.add_argument(
        "--fail-on",
        metavar="RULES",
        help='e.g. "efficiency:-5%%,p95:+10%%,failed:+0" (default: a noise-aware set)',
    )
    parser.add_argument("--summary", metavar="FILE.md", help="also write the table to this file")


def regress_main(ns: argparse.Namespace, _argv: list[str]) -> int:
    from harness.measure.files import writable_file, write_atomic
    from reports.errors import ReportInputError
    from reports.regression import gate

    if ns.summary:
        writable_file(Path(ns.summary), "--summary")
    try:
        result = gate(Path(ns.baseline), Path(ns.current), ns.fail_on)
    except ReportInputError as exc:
        raise ConfigError(str(exc)) from None
    print(result.markdown)
    if ns.summary:
        write_atomic(Path(ns.summary), result.markdown + "\n", "--summary")
    sys.stdout.flush()
    return result.exit_code
