"""run and sweep: run a scenario file, or compare the designs over a list of user counts.

    python -m harness run scenarios/outage.toml --set workload.users=5 --out runs/outage
    python -m harness sweep --users 1,5,10,20 --latency 0.5 --modes threaded,async

Both build a RunPlan and go through ``run.runner.execute`` + ``cli.output.finish`` like compare.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.cli import compare as cli_compare
from harness.cli.common import add_output_arguments
from harness.errors import ConfigError

DEFAULT_SWEEP_USERS = "1,5,10,20"


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO.toml", help="scenario file (scenarios/)")
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario key, e.g. workload.users=5 or mock.latency=0.2 (repeatable)",
    )
    add_output_arguments(parser)


def run_main(ns: argparse.Namespace, argv: list[str]) -> int:
    from harness.cli.output import run_plan
    from harness.measure import results
    from harness.run.plan import OutputOptions
    from harness.run.scenario import load_scenario

    scenario = load_scenario(Path(ns.scenario), ns.sets)
    cli_compare.checked_thresholds(scenario.thresholds, f"{scenario.path}: thresholds.checks")
    output = cli_compare.output_options(ns)
    out = output.out or results.default_run_dir(scenario.name)
    output = OutputOptions(
        out=out,
        json=output.json,
        report=output.report and scenario.report,
        progress=output.progress,
        verbose=output.verbose,
        log_json=output.log_json,
        export_csv=output.export_csv,
    )
    return run_plan(scenario.plan(argv[1:], output))


def users_list(text: str) -> list[int]:
    """``"1,5,10"`` → ``[1, 5, 10]``; anything else is an argparse error naming the text."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(
            f"expected positive integers separated by commas, like 1,5,10; got {text!r}"
        )
    return values


def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    """compare's flags, with ``--users`` taking a list (a sweep)."""
    cli_compare.add_arguments(parser)
    # Re-declare only --users: "resolve" drops compare's integer --users, so every other
    # flag stays declared once, in cli_compare.
    group = parser.add_argument_group("sweep", conflict_handler="resolve")
    group.add_argument(
        "--users",
        type=users_list,
        default=users_list(DEFAULT_SWEEP_USERS),
        metavar="N,N,...",
        help="user counts to sweep",
    )
    from harness.cli.rate_sweep import rates_list

    group.add_argument(
        "--rates",
        type=rates_list,
        metavar="R,R,...",
        help="open loop: one run per offered rate (req/s), with --duration or --requests; "
        "OUT/sweep.json and sweep.png show each design's knee",
    )
    group.add_argument(
        "--find-knee",
        action="store_true",
        help="open loop: a probe at --rate (default 1000/s, 100 requests) finds what the "
        "designs serve at most, then rates spread below it",
    )


def sweep_main(ns: argparse.Namespace, argv: list[str]) -> int:
    from harness.cli import rate_sweep

    if ns.rates or ns.find_knee:
        return rate_sweep.rate_sweep_main(ns, argv)
    if len(set(ns.users)) != len(ns.users):
        raise ConfigError(f"--users: expected distinct user counts, got {ns.users}")
    from harness.cli.output import run_plan

    out = rate_sweep.sweep_out(ns)
    ns.out = str(out)
    status = run_plan(cli_compare.plan_from_args(ns, argv[1:], ns.users))
    if status < 128 and ns.rate is None:
        rate_sweep.write_sweep(out, "users", [out], plot=not ns.no_report, json_out=ns.json)
    return status
