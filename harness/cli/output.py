"""The end of every run-type command: derive, write, show, render.

    document = execute(plan)
    finish(plan, document)    # results.json, the console summary (or --json), the report

The figures a person reads are computed by ``reports`` from the document; this module
only wires them to stdout and files. ``reports`` is imported here, lazily (matplotlib
is slow to import).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from harness.errors import ConfigError, Interrupted
from harness.measure import results
from harness.measure.files import writable_dir
from harness.run.interrupts import signals_ignored, signals_raise
from harness.run.plan import OutputOptions, RunPlan


def run_plan(plan: RunPlan) -> int:
    """Check where the results go, run the plan, :func:`finish` it; return the exit status."""
    from harness.run.runner import execute

    return run_and_finish(lambda: execute(plan), plan.output, plan.command)


def run_and_finish(
    execute: Callable[[], dict[str, Any]], output: OutputOptions, command: str
) -> int:
    """Check where results go, ``execute``, write and show; return the exit status.

    SIGINT, SIGTERM or SIGHUP stop the run: what was measured is still written (marked
    ``"interrupted": true``) and the status is ``128 + signal`` (130, 143, 129).
    """
    out_dir = output.out or results.default_run_dir(command)
    if (out_dir / results.RESULTS_NAME).exists():  # never mix a new run with an old report
        raise ConfigError(
            f"--out {out_dir}: already holds a run ({results.RESULTS_NAME}); "
            "choose a new directory or remove that one"
        )
    out_dir = writable_dir(out_dir, "--out")
    try:
        with signals_raise():
            document = execute()
    except Interrupted as stopped:
        with signals_ignored():
            if stopped.document is None:
                print("interrupted before any design ended: nothing to write", file=sys.stderr)
            else:
                print("interrupted: writing what was measured", file=sys.stderr)
                finish(output, stopped.document, out_dir)
        return stopped.exit_status
    finish(output, document, out_dir)
    return 1 if failed_thresholds(document) else 0


def failed_thresholds(document: dict[str, Any]) -> int:
    """How many threshold checks the written document records as failed."""
    return sum(1 for check in document.get("thresholds") or [] if not check.get("passed"))


def finish(output: OutputOptions, document: dict[str, Any], out_dir: Path) -> Path:
    """Add the derived keys, write ``results.json``, print the summary, render the report."""
    from reports.console import notes, print_summary, stdout_console, summary_json
    from reports.load import parse_results
    from reports.thresholds import document_thresholds, run_end_lines
    from reports.verdict import derived

    path = out_dir / results.RESULTS_NAME
    parsed = parse_results(document, path)
    document.update(derived(parsed))
    checks = document_thresholds(parsed)
    if checks:
        document["thresholds"] = [check.to_dict() for check in checks]
    written = results.write_results(document, out_dir)
    loaded = parse_results(document, written)
    if output.json:
        print(summary_json(loaded))
        for line in notes(loaded):
            print(line, file=sys.stderr)
    else:
        print_summary(loaded, stdout_console())
    for line in run_end_lines(loaded, checks):
        print(line, file=sys.stderr if output.json else sys.stdout)
    if output.export_csv:
        export(loaded, out_dir)
    if output.report:
        report = render([written], out_dir)
        if not output.json:
            print(f"report: {report}")
    return written


def export(loaded: Any, out_dir: Path) -> None:
    """``--export-csv``: the CSV files beside results.json (reports.export)."""
    from reports.export import write_exports

    try:
        write_exports(loaded, out_dir)
    except OSError as exc:
        raise ConfigError(
            f"--out {out_dir}: cannot write the CSV exports: {exc.strerror}"
        ) from None


def render(sources: Sequence[Path], out_dir: Path) -> Path:
    """Write plots, report.html and summary.md into ``out_dir``; return the HTML path."""
    from reports.errors import ReportInputError
    from reports.render import render_report

    try:
        paths = render_report(list(sources), out_dir)
    except ReportInputError as exc:
        raise ConfigError(str(exc)) from None
    except OSError as exc:
        raise ConfigError(f"--out {out_dir}: cannot write the report: {exc.strerror}") from None
    return paths["html"]
