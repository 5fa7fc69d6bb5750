"""sweep --rates / --find-knee: one open-loop run per offered rate, then the knee and a plot.

    python -m harness sweep --rates 5,10,20,40 --duration 2 --modes async --latency 0.1
    python -m harness sweep --find-knee --duration 2 --modes async --max-concurrency 4

Each rate runs like ``compare --rate R`` into ``OUT/rate-R/`` (its own results.json and
verdict); ``--find-knee`` first runs a probe of :data:`PROBE_REQUESTS` requests at
``--rate`` (default :data:`DEFAULT_PROBE_RPS`) into ``OUT/probe/`` and spreads the rates
below what it served (``reports.sweep.rates_below``). ``OUT/sweep.json`` holds the
points and each design's knee; ``OUT/sweep.png`` the picture (unless ``--no-report``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.cli import compare as cli_compare
from harness.errors import ConfigError
from harness.measure import results
from harness.measure.files import writable_dir, write_atomic

PROBE_REQUESTS = 100
DEFAULT_PROBE_RPS = 1000.0
SWEEP_NAME = "sweep.json"


def rates_list(text: str) -> list[float]:
    """``"1,2.5,10"`` → ``[1.0, 2.5, 10.0]``; anything else is an argparse error naming it."""
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values or not all(0 < v < float("inf") for v in values):
        raise argparse.ArgumentTypeError(
            f"expected positive rates separated by commas, like 1,2,5; got {text!r}"
        )
    return values


def sweep_out(ns: argparse.Namespace) -> Path:
    return writable_dir(Path(ns.out) if ns.out else results.default_run_dir("sweep"), "--out")


def rate_sweep_main(ns: argparse.Namespace, argv: list[str]) -> int:
    """The probe (``--find-knee``), each rate, then sweep.json, the plot and the knee lines."""
    _check(ns)
    out = sweep_out(ns)
    dirs: list[Path] = []
    status = 0
    rates: Sequence[float] = ns.rates or []
    if ns.find_knee:
        probe = out / "probe"
        status = _one_rate(ns, argv, ns.rate or DEFAULT_PROBE_RPS, probe, PROBE_REQUESTS)
        if status >= 128:
            return status
        rates = _rates_from_probe(probe)
    for rate in rates:
        where = out / f"rate-{rate:g}"
        point_status = _one_rate(ns, argv, rate, where, None)
        if point_status >= 128:
            return point_status
        status = max(status, point_status)
        dirs.append(where)
    write_sweep(out, "rate", dirs, plot=not ns.no_report, json_out=ns.json)
    return status


def _check(ns: argparse.Namespace) -> None:
    if ns.rates and ns.find_knee:
        raise ConfigError("--rates and --find-knee: give one (--find-knee chooses the rates)")
    if ns.rates and ns.rate is not None:
        raise ConfigError("--rate: not with --rates (each rate is a run of its own)")
    if ns.rates and len(set(ns.rates)) != len(ns.rates):
        raise ConfigError(f"--rates: expected distinct rates, got {ns.rates}")
    if ns.requests is None and ns.duration is None:
        raise ConfigError("--rates/--find-knee: each rate needs --duration S or --requests N")


def _one_rate(
    ns: argparse.Namespace, argv: list[str], rate: float, out: Path, requests: int | None
) -> int:
    """``compare --rate RATE`` into ``out`` (``requests`` set: a probe of that many)."""
    from harness.cli.output import run_and_finish
    from harness.run.runner import execute

    one = argparse.Namespace(**vars(ns))
    one.rate, one.out, one.no_report = rate, str(out), True
    if requests is not None:
        one.requests, one.duration = requests, None
    plan = cli_compare.plan_from_args(one, argv[1:], ns.users[:1])
    return run_and_finish(lambda: execute(plan), plan.output, "sweep")


def _rates_from_probe(probe: Path) -> list[float]:
    from reports.load import load_results
    from reports.sweep import rates_below, saturation, sweep_points

    served = saturation(sweep_points([load_results(probe)], "rate"))
    most = max((v for v in served.values() if v is not None), default=None)
    if not most:
        raise ConfigError(f"--find-knee: the probe ({probe}) served no ok answer; no rates")
    return rates_below(most)


def write_sweep(out: Path, axis: str, dirs: Sequence[Path], *, plot: bool, json_out: bool) -> Any:
    """sweep.json (and sweep.png) from the runs in ``dirs``; print the knee lines."""
    from reports.load import load_results
    from reports.plot_sweep import plot_sweep
    from reports.sweep import knee_lines, sweep_document, sweep_points

    documents = [load_results(d) for d in dirs]
    slo = documents[0].config.get("slo") if documents else None
    points = sweep_points(documents, axis)
    names = [str(d.relative_to(out)) if d != out else "." for d in dirs]
    document = sweep_document(axis, points, slo, names)
    write_atomic(out / SWEEP_NAME, json.dumps(document, indent=2) + "\n", "--out")
    stream = sys.stderr if json_out else sys.stdout
    for line in knee_lines(document):
        print(line, file=stream)
    if plot and points:
        print(f"sweep plot: {plot_sweep(document, out / 'sweep.png')}", file=stream)
    return document
