"""The regression gate: compare a current results file with a baseline under rules.

A rule is ``metric:[+|-]number[%]``; a list is comma-separated::

    parse_rules("efficiency:-5%,p95:+10%,failed:+0")
    result = gate(Path("runs/baseline"), Path("runs/x"), None)
    print(result.markdown); sys.exit(result.exit_code)   # 0 ok, 1 regression

``-5%`` fails when the metric drops by more than 5 %, ``+10%`` when it rises by more
than 10 %, ``+0`` (no ``%``) when it rises at all. Without a sign the rule guards the
metric's bad direction (up for latencies and counts, down for efficiency, speed-up,
throughput). Each (mode, users) group of the baseline is compared on the MEDIAN of
its repetitions; the current spread (min–max) is shown beside it.

A current figure that is NaN or infinite is a regression (❌ with the value), never a
pass. A baseline of another shape (users, designs, mock settings, open vs closed loop,
scenario, …) is not comparable: :func:`gate` raises ReportInputError naming what differs.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from reports.aggregate import METRICS, GroupKey, Spread, groups, mode_rank
from reports.errors import ReportInputError
from reports.load import Results, load_results
from reports.tables import Table, fmt_number, fmt_spread, to_markdown
from reports.verdict import figure_values as metric_values
from reports.verdict import is_open_loop, load_label

# Ratios that the injected (mock) latency dominates, so they travel across machines and
# survive a noisy shared CI runner; absolute seconds and throughput do not.
DEFAULT_RULES = "efficiency:-10%,speedup:-15%,amplification:+10%,failed:+0,p95:+25%"
HIGHER_IS_BETTER = frozenset({"efficiency", "speedup", "throughput", "ok"})
_RULE = re.compile(r"(?P<metric>[a-z0-9_]+):(?P<sign>[+-]?)(?P<number>\d+(?:\.\d+)?)(?P<pct>%?)")
_EPSILON = 1e-9  # so "+10%" does not fail on 10.000000001 % of float noise
Direction = Literal["+", "-"]


@dataclass(frozen=True)
class Rule:
    """Fail when ``metric`` moves in ``direction`` by more than ``limit`` (% if relative).

    >>> Rule("p95", "+", 10.0, True).regressed(1.0, 1.2)
    True
    """

    metric: str
    direction: Direction
    limit: float
    relative: bool

    def __str__(self) -> str:
        return (
            f"{self.metric}:{self.direction}{fmt_number(self.limit)}{'%' if self.relative else ''}"
        )

    def change(self, baseline: float, current: float) -> float:
        """Signed change: percent of the baseline when relative, else in the metric's unit."""
        if not self.relative:
            return current - baseline
        if baseline == 0:
            return 0.0 if current == 0 else math.copysign(math.inf, current)
        return (current - baseline) / abs(baseline) * 100.0

    def regressed(self, baseline: float, current: float) -> bool:
        """True when the move in the guarded direction exceeds the limit."""
        change = self.change(baseline, current)
        moved = change if self.direction == "+" else -change
        return moved > self.limit + _EPSILON


def parse_rules(text: str) -> list[Rule]:
    """Parse ``"efficiency:-5%,p95:+10%,failed:+0"``; a bad part raises ReportInputError.

    >>> parse_rules("p95:+10%")
    [Rule(metric='p95', direction='+', limit=10.0, relative=True)]
    """
    parts = [part.strip() for part in text.split(",")]
    if not any(parts):
        raise ReportInputError(f"regression rules {text!r}: empty, expected metric:[+|-]N[%]")
    return [_parse_rule(part) for part in parts]


def _parse_rule(part: str) -> Rule:
    match = _RULE.fullmatch(part.replace(" ", ""))
    if match is None:
        raise ReportInputError(f"regression rule {part!r}: expected metric:[+|-]number[%]")
    metric = match["metric"]
    if metric not in METRICS:
        known = ", ".join(METRICS)
        raise ReportInputError(f"regression rule {part!r}: unknown metric {metric!r} ({known})")
    sign = match["sign"] or ("-" if metric in HIGHER_IS_BETTER else "+")
    direction: Direction = "+" if sign == "+" else "-"
    return Rule(metric, direction, float(match["number"]), relative=bool(match["pct"]))


@dataclass(frozen=True)
class GateResult:
    """The gate's verdict: a Markdown report and the exit code (0 ok, 1 regression).

    Input the gate cannot judge (exit 2 in the CLI) raises ReportInputError instead.
    """

    markdown: str
    exit_code: int


@dataclass(frozen=True)
class _Row:
    cells: tuple[str, ...]
    failed: bool


def gate(baseline_path: Path, current_path: Path, rules_text: str | None) -> GateResult:
    """Compare ``current_path`` against ``baseline_path`` (run dirs or results files).

    ``rules_text`` None means :data:`DEFAULT_RULES`. Raises ReportInputError on a bad
    rule, an unreadable / malformed results file, or a baseline of another shape
    (:func:`shape_differences`); a regression, NaN and infinities included, is exit code 1.
    """
    rules = parse_rules(DEFAULT_RULES if rules_text is None else rules_text)
    baseline, current = load_results(baseline_path), load_results(current_path)
    differences = shape_differences(baseline, current)
    if differences:
        raise ReportInputError(
            f"{current.path}: not comparable with the baseline {baseline.path} "
            "(baseline vs current): " + "; ".join(differences)
        )
    rows = [row for key in groups(baseline) for row in _group_rows(baseline, current, key, rules)]
    failures = sum(row.failed for row in rows)
    markdown = _markdown(baseline, current, rules, rows, failures)
    return GateResult(markdown, 1 if failures else 0)


def _group_rows(
    baseline: Results, current: Results, key: GroupKey, rules: Sequence[Rule]
) -> list[_Row]:
    name = f"{key[0]} ({load_label(baseline, key[1])})"
    if key not in groups(current):
        return [_Row((name, "(all)", "present", "missing", "—", "❌"), failed=True)]
    rows = []
    for rule in rules:
        if rule.metric == "speedup" and key[0] == "sequential":
            continue  # sequential is the yardstick of speed-up: always 1×
        rows.append(_check(rule, name, baseline, current, key))
    return rows


def _check(rule: Rule, name: str, baseline: Results, current: Results, key: GroupKey) -> _Row:
    base_values = metric_values(baseline, key, rule.metric)
    now_values = metric_values(current, key, rule.metric)
    label = f"{rule.metric} ({rule})"
    broken = _not_finite(now_values)
    if broken:  # NaN compares False with every limit: it would pass every rule
        base_cell = fmt_spread(Spread.of(v for v in base_values if math.isfinite(v)))
        return _Row((name, label, base_cell, broken, "—", "❌ not a number"), failed=True)
    base = Spread.of(v for v in base_values if math.isfinite(v))
    now = Spread.of(now_values)
    if base is None:
        shown = _not_finite(base_values) or "—"
        return _Row((name, label, shown, fmt_spread(now), "—", "➖ no baseline"), failed=False)
    if now is None:
        return _Row((name, label, fmt_number(base.median), "missing", "—", "❌"), failed=True)
    failed = rule.regressed(base.median, now.median)
    change = _fmt_change(rule, rule.change(base.median, now.median))
    cells = (
        name,
        label,
        fmt_number(base.median),
        fmt_spread(now),
        change,
        "❌" if failed else "✅",
    )
    return _Row(cells, failed)


def _not_finite(values: Sequence[float]) -> str:
    """The non-finite values as text (``"NaN, ∞"``), or ``""`` when every value is finite."""
    return ", ".join(fmt_number(v) for v in values if not math.isfinite(v))


def _fmt_change(rule: Rule, change: float) -> str:
    if math.isinf(change):
        return "+∞%" if change > 0 else "−∞%"
    return f"{change:+.1f}%" if rule.relative else f"{change:+g}"


# What makes two documents measure the same thing. Resilience settings and the designs'
# own knobs are left out on purpose: a change there is what the gate exists to catch.
SHAPE_CONFIG_KEYS = ("open_loop", "mock", "service_time_s", "stream", "scenario")
_ABSENT = object()  # a key an older document does not have: unknown, not "different"


def shape(results: Results) -> dict[str, object]:
    """The load shape of a document: loop kind, users, designs, and the settings that shape it.

    >>> shape(results)["users"], shape(results)["loop"]  # doctest: +SKIP
    ([5], 'closed')
    """
    config = results.config
    out: dict[str, object] = {
        "loop": "open" if is_open_loop(results) else "closed",
        "users": sorted({run.users for run in results.runs}),
        "modes": sorted({run.mode for run in results.runs}, key=mode_rank),
        "requests_per_user": sorted({run.requests_per_user for run in results.runs}),
        # the protocol spoken: absent means Gemini (documents before --api, and the default)
        "api": (config.get("target") or {}).get("api") or "gemini",
    }
    for key in SHAPE_CONFIG_KEYS:
        out[key] = config.get(key, _ABSENT)
    scenario = out["scenario"]
    if isinstance(scenario, Mapping):  # its description and file path may change freely
        out["scenario"] = scenario.get("name")
    return out


def shape_differences(baseline: Results, current: Results) -> list[str]:
    """``["users: 5 vs 10", "mock.latency: 'fixed:0.2' vs 'fixed:0.3'"]``: baseline vs current."""
    base, now = shape(baseline), shape(current)
    if base["loop"] != now["loop"]:
        return [f"loop: {base['loop']} vs {now['loop']}"]  # everything else follows from it
    return [line for key in base for line in _differs(key, base[key], now[key])]


def _differs(key: str, base: object, now: object) -> list[str]:
    if base is _ABSENT or now is _ABSENT:
        return []
    if isinstance(base, Mapping) and isinstance(now, Mapping):
        common = [k for k in base if k in now]
        return [line for k in common for line in _differs(f"{key}.{k}", base[k], now[k])]
    return [] if base == now else [f"{key}: {_show(base)} vs {_show(now)}"]


def _show(value: object) -> str:
    if isinstance(value, list) and all(isinstance(v, int | str) for v in value):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return json.dumps(value, sort_keys=True, default=str)


GATE_HEADERS = ("mode", "metric", "baseline", "current (spread)", "change", "verdict")


def _markdown(
    baseline: Results, current: Results, rules: Sequence[Rule], rows: Sequence[_Row], failures: int
) -> str:
    verdict = f"❌ {failures} regression(s)" if failures else "✅ no regression"
    lines = [
        "## Regression gate",
        f"Baseline `{_describe(baseline)}` → current `{_describe(current)}`; "
        f"medians over repetitions. Rules: `{','.join(str(rule) for rule in rules)}`.",
        to_markdown(Table(GATE_HEADERS, tuple(row.cells for row in rows))),
        f"**Result: {verdict}**",
    ]
    return "\n\n".join(lines) + "\n"


def _describe(results: Results) -> str:
    return f"{results.label} @ {results.git_commit or 'unknown commit'}"
