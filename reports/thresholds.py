"""Thresholds: pass/fail checks of one run's summary figures, k6-style.

    checks = parse_thresholds(["latency_p99<=2s", "ok_share>=99%"])
    outcomes = evaluate(results, checks)       # one per (check, design run)
    for line in threshold_lines(outcomes): print(line)
    #   ✓ latency_p99<=2s  async ×20: 1.02 s

A threshold is ``METRIC OP VALUE[unit]``: ops ``<=``, ``<``, ``>=``, ``>``; units ``s``
or ``ms`` for times (seconds by default), ``%`` for shares (a fraction by default);
rates are requests per second, bare. The metrics are :data:`METRICS`. Each check is
evaluated on every design run of the document (each load, each repetition); a run that
lacks the figure fails the check (no figure, no pass).
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from reports.errors import ReportInputError
from reports.load import Results, Run

Kind = str  # "time" (seconds), "share" (fraction), "rate" (per second)
_PERCENTILES = ("p50", "p90", "p95", "p99", "max", "mean")


def _timing(prefix: str, key: str) -> dict[str, tuple[Kind, tuple[str, ...]]]:
    return {f"{prefix}_{p}": ("time", (key, p)) for p in _PERCENTILES}


# metric → (kind, path into the run summary)
METRICS: Mapping[str, tuple[Kind, tuple[str, ...]]] = {
    **_timing("latency", "latency_s"),
    **_timing("ttft", "ttft_s"),
    **_timing("tpot", "tpot_s"),
    **_timing("itl", "itl_s"),
    **_timing("latency_from_intended", "latency_from_intended_s"),
    "ok_share": ("share", ("ok_share",)),
    "efficiency": ("share", ("efficiency",)),
    "upstream_error_share": ("share", ("upstream_error_share",)),
    "goodput_rps": ("rate", ("goodput_rps",)),
    "throughput_rps": ("rate", ("throughput_rps",)),
    "slo_goodput_rps": ("rate", ("slo_goodput_rps",)),
    "output_tokens_per_s": ("rate", ("output_tokens_per_s",)),
    "amplification": ("rate", ("amplification",)),
}
_OPS: Mapping[str, Callable[[float, float], bool]] = {
    "<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt,
}  # fmt: skip
_UNITS: Mapping[Kind, Mapping[str, float]] = {
    "time": {"": 1.0, "s": 1.0, "ms": 0.001},
    "share": {"": 1.0, "%": 0.01},
    "rate": {"": 1.0},
}
_TEXT = re.compile(r"^\s*([a-z_0-9]+)\s*(<=|<|>=|>)\s*([-+0-9.eE]+)\s*(ms|s|%)?\s*$")


@dataclass(frozen=True)
class Threshold:
    """``latency_p99 <= 2.0`` (values in the summary's own unit: seconds, fractions)."""

    text: str
    metric: str
    op: str
    limit: float

    @property
    def kind(self) -> Kind:
        return METRICS[self.metric][0]


@dataclass(frozen=True)
class Outcome:
    """One check on one run: the measured value (None: the run lacks it) and the verdict."""

    threshold: str
    run: str
    value: float | None
    passed: bool
    kind: Kind

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_threshold(text: str, where: str = "--threshold") -> Threshold:
    """``"latency_p99<=2s"`` → a :class:`Threshold`; bad text raises one line naming it."""
    match = _TEXT.match(text)
    if match is None:
        raise ReportInputError(
            f"{where}: expected METRIC OP VALUE like latency_p99<=2s, got {text!r}"
        )
    metric, op, raw, unit = match.groups()
    if metric not in METRICS:
        raise ReportInputError(
            f"{where}: unknown metric {metric!r} in {text!r}; known: {', '.join(METRICS)}"
        )
    scale = _UNITS[METRICS[metric][0]].get(unit or "")
    if scale is None:
        allowed = ", ".join(u for u in _UNITS[METRICS[metric][0]] if u) or "none"
        raise ReportInputError(f"{where}: {text!r}: unit {unit!r} (units for {metric}: {allowed})")
    value = float(raw) * scale if _number(raw) else math.nan
    if not math.isfinite(value):
        raise ReportInputError(f"{where}: {text!r}: {raw!r} is not a finite number")
    return Threshold(text.replace(" ", ""), metric, op, value)


def _number(raw: str) -> bool:
    try:
        float(raw)
    except ValueError:
        return False
    return True


def parse_thresholds(texts: Iterable[str], where: str = "--threshold") -> list[Threshold]:
    return [parse_threshold(text, where) for text in texts]


def measured(run: Run, metric: str) -> float | None:
    """The run summary's figure for ``metric``, or None when absent."""
    node: Any = run.summary
    for key in METRICS[metric][1]:
        node = node.get(key) if isinstance(node, Mapping) else None
    if isinstance(node, bool) or not isinstance(node, int | float) or not math.isfinite(node):
        return None
    return float(node)


def run_label(run: Run, repeated: bool) -> str:
    """``async ×20`` (``async ×20 #2`` when the run repeated each design)."""
    rep = f" #{run.repetition + 1}" if repeated else ""
    return f"{run.mode} ×{run.users}{rep}"


def evaluate(results: Results, checks: Sequence[Threshold]) -> list[Outcome]:
    """Every check on every run of ``results``, in the document's run order."""
    repeated = any(run.repetition > 0 for run in results.runs)
    out = []
    for check in checks:
        for run in results.runs:
            value = measured(run, check.metric)
            passed = value is not None and _OPS[check.op](value, check.limit)
            out.append(Outcome(check.text, run_label(run, repeated), value, passed, check.kind))
    return out


def document_thresholds(results: Results) -> list[Outcome]:
    """The checks the document's ``config.thresholds`` names, evaluated on its runs."""
    texts = results.config.get("thresholds") or []
    if not isinstance(texts, list):
        raise ReportInputError(f"{results.path}: config.thresholds: expected a list of checks")
    return evaluate(results, parse_thresholds(texts, f"{results.path}: config.thresholds"))


def show_value(value: float | None, kind: Kind) -> str:
    """``1.02 s``, ``99.5 %``, ``12.3/s``; ``no value`` when the run lacks the figure."""
    if value is None:
        return "no value"
    if kind == "time":
        return f"{value * 1000:.3g} ms" if abs(value) < 1 else f"{value:.3g} s"
    if kind == "share":
        return f"{value * 100:.3g} %"
    return f"{value:.3g}/s"


def threshold_lines(outcomes: Sequence[Outcome]) -> list[str]:
    """``✓ latency_p99<=2s  async ×20: 1.02 s`` per outcome, then a count when any failed."""
    width = max((len(o.threshold) for o in outcomes), default=0)
    lines = [
        f"{'✓' if o.passed else '✗'} {o.threshold:<{width}}  {o.run}: {show_value(o.value, o.kind)}"
        for o in outcomes
    ]
    failed = sum(1 for o in outcomes if not o.passed)
    if failed:
        lines.append(f"thresholds: {failed} of {len(outcomes)} checks failed")
    return lines


def slo_lines(results: Results) -> list[str]:
    """Per run with an SLO: good requests, goodput of good requests beside throughput."""
    slo = results.config.get("slo")
    if not slo:
        return []
    repeated = any(run.repetition > 0 for run in results.runs)
    lines = [f"slo {slo}: good = ok answers meeting every criterion"]
    for run in results.runs:
        good, submitted = run.summary.get("slo_good"), (run.summary.get("counts") or {})
        rate, throughput = run.summary.get("slo_goodput_rps"), run.summary.get("throughput_rps")
        lines.append(
            f"  {run_label(run, repeated)}: {good} of {submitted.get('submitted', '?')} good, "
            f"slo goodput {show_value(rate, 'rate')} (throughput {show_value(throughput, 'rate')})"
        )
    return lines


def run_end_lines(results: Results, outcomes: Sequence[Outcome]) -> list[str]:
    """What the end of a run prints after its summary: the SLO lines, then the checks."""
    return [*slo_lines(results), *threshold_lines(outcomes)]
