"""The verdict and the cross-run figures, computed once for every view.

The console summary, ``--json``, ``summary.md``, ``report.html`` and the results
document's ``comparison`` / ``verdict`` keys all call :func:`verdicts` and
:func:`comparison_rows`; no other module words a verdict::

    for v in verdicts(results):
        print(v.text)   # "20 users: async 19.6× faster than sequential; bound allows 20×"

Rules (docs/reports.md, "The verdict"):

- a load is one users value (closed loop) or the run's schedule (open loop);
- the reference is ``sequential`` when it ran, otherwise the first design in the usual
  order (sequential, threaded, async, sdk), and the text says so;
- a design serves a request only when it got a real answer: when any design's ok share
  (ok / submitted, median over repetitions) is below :data:`MIN_OK_SHARE`, or the shares
  differ by more than :data:`MAX_OK_SHARE_GAP`, the verdict is "not comparable" and
  claims no speed-up;
- closed loop ranks designs by goodput (ok answers per second of makespan), median over
  repetitions with min–max spread; open loop ranks them by p99 latency from the intended
  start (coordinated omission corrected), lower is better.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from reports.aggregate import GroupKey, Spread, groups, metric_values, mode_rank, run_metric
from reports.load import Results, Run

MIN_OK_SHARE = 0.95  # below this a design mostly did not answer: no speed claim
MAX_OK_SHARE_GAP = 0.05  # designs that served different shares are not comparable
REFERENCE_MODE = "sequential"


@dataclass(frozen=True)
class Ranked:
    """One design in a verdict's ranking.

    ``value`` is the speed-up against the reference (closed loop) or the p99 latency
    from the intended start in seconds (open loop); ``low``/``high`` its spread over
    repetitions; ``bound`` how much faster the caps allow (closed loop, when known).
    """

    mode: str
    value: float | None
    low: float | None
    high: float | None
    ok_share: float | None
    repetitions: int
    bound: float | None = None
    bound_exact: bool = False  # False: one of the two bounds is an estimate


@dataclass(frozen=True)
class Verdict:
    """What one load's run says, as text and as data (``to_dict`` for JSON)."""

    load: str
    text: str
    comparable: bool
    reference: str | None
    ranking: tuple[Ranked, ...]
    warnings: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ranking"] = [asdict(r) for r in self.ranking]
        out["warnings"] = list(self.warnings)
        return out


def is_open_loop(results: Results) -> bool:
    """Whether the run followed an arrival schedule (``config.open_loop`` set)."""
    return bool(results.config.get("open_loop"))


def load_label(results: Results, users: int) -> str:
    """``"20 users"``, or ``"20 req/s (poisson), ≤ 256 in flight"`` for an open-loop run."""
    open_loop = results.config.get("open_loop")
    if not open_loop:
        return f"{users} users"
    rate = open_loop.get("rate_rps")
    # sequential is one in flight by definition: the cap that describes the load is the others'
    caps = sorted({run.concurrency_cap for run in results.runs
                   if run.concurrency_cap and run.mode != REFERENCE_MODE})  # fmt: skip
    cap = f", ≤ {_num(caps[0])} in flight" if len(caps) == 1 else ""
    if len(caps) > 1:
        cap = f", ≤ {_num(caps[0])}–{_num(caps[-1])} in flight"
    return f"{_num(rate)} req/s ({open_loop.get('arrival', '?')}){cap}"


def verdicts(results: Results) -> list[Verdict]:
    """One verdict per load: per users value (closed loop), or one for the schedule."""
    by_users: dict[int, dict[str, list[Run]]] = {}
    for (mode, users), runs in groups(results).items():
        by_users.setdefault(users, {})[mode] = runs
    return [_verdict(results, users, modes) for users, modes in sorted(by_users.items())]


def headline(results: Results) -> Verdict:
    """The verdict of the largest load: the one line a run ends with."""
    return verdicts(results)[-1]


def _verdict(results: Results, users: int, modes: Mapping[str, list[Run]]) -> Verdict:
    load = load_label(results, users)
    ordered = sorted(modes, key=mode_rank)
    shares = {mode: ok_share(modes[mode]) for mode in ordered}
    warnings = _share_warnings(shares, modes)
    warnings += upstream_warnings(results, modes)
    comparable = not warnings
    if (results.document or {}).get("interrupted"):
        warnings.append(
            "the run was interrupted: figures cover what was measured before it stopped "
            "(requests in flight then are failed records with error Interrupted)"
        )
    warnings += measurement_warnings(modes)
    if len(ordered) < 2:
        text = f"{load}: only {ordered[0]} ran: nothing to compare"
        ranked = tuple(_ranked(results, m, modes[m], None, shares) for m in ordered)
        return Verdict(load, text, False, None, ranked, tuple(warnings))
    if is_open_loop(results):
        return _open_verdict(load, ordered, modes, shares, warnings, comparable)
    reference = REFERENCE_MODE if REFERENCE_MODE in modes else ordered[0]
    ranked = tuple(
        sorted(
            (_ranked(results, m, modes[m], modes[reference], shares) for m in ordered),
            key=lambda r: -(r.value if r.value is not None else -math.inf),
        )
    )
    if not comparable:
        text = f"{load}: not comparable: {warnings[0]}"
        return Verdict(load, text, False, reference, ranked, tuple(warnings[1:]))
    text = f"{load}: {_speed_text(ranked, reference)}"
    warnings += beyond_bound_warnings(ranked, modes, reference)
    return Verdict(load, text, True, reference, ranked, tuple(warnings))


def _speed_text(ranked: Sequence[Ranked], reference: str) -> str:
    best = next((r for r in ranked if r.mode != reference and r.value is not None), None)
    if best is None or best.value is None or best.value <= 0:
        return f"no speed-up against {reference} to report"
    if best.value >= 1:
        text = f"{best.mode} {_num(best.value)}× faster than {reference}"
    else:
        text = f"{best.mode} {_num(1 / best.value)}× slower than {reference}"
    if best.low is not None and best.high is not None and best.low != best.high:
        text += f" ({_num(best.low)}–{_num(best.high)}× over {best.repetitions} repetitions)"
    if best.bound is not None:
        text += f"; {_bound_words(best)} {_num(best.bound)}×"
    others = [r for r in ranked if r.mode not in (reference, best.mode) and r.value is not None]
    for other in others:
        bound = f" (bound {_num(other.bound)}×)" if other.bound is not None else ""
        if other.bound is not None and not other.bound_exact:
            bound = f" (estimated bound {_num(other.bound)}×)"
        text += f"; {other.mode} {_num(other.value)}×{bound}"
    return text


def _bound_words(ranked: Ranked) -> str:
    return "bound allows" if ranked.bound_exact else "estimated bound allows"


def _exact(run: Run) -> bool:
    return run.summary.get("bound_kind", "exact") == "exact"  # schema 1: no kind, exact


def _open_verdict(
    load: str,
    ordered: Sequence[str],
    modes: Mapping[str, list[Run]],
    shares: Mapping[str, float | None],
    warnings: list[str],
    comparable: bool,
) -> Verdict:
    ranked = tuple(
        sorted(
            (_open_ranked(m, modes[m], shares) for m in ordered),
            key=lambda r: r.value if r.value is not None else math.inf,
        )
    )
    if not comparable:
        text = f"{load}: not comparable: {warnings[0]}"
        return Verdict(load, text, False, None, ranked, tuple(warnings[1:]))
    known = [r for r in ranked if r.value is not None]
    if not known:
        return Verdict(load, f"{load}: no latencies recorded", False, None, ranked, tuple(warnings))
    best, worst = known[0], known[-1]
    text = f"{load}: {best.mode} has the lowest p99 from the intended start ({_num(best.value)} s)"
    if worst is not best and best.value and worst.value is not None:
        text += f"; {worst.mode} {_num(worst.value / best.value)}× higher ({_num(worst.value)} s)"
    return Verdict(load, text, True, best.mode, ranked, tuple(warnings))


def ok_share(runs: Sequence[Run]) -> float | None:
    """Median over repetitions of ok answers / requests submitted (None with no requests)."""
    spread = Spread.of(_share(run) for run in runs)
    return None if spread is None else spread.median


def _share(run: Run) -> float | None:
    counts = run.summary.get("counts") or {}
    submitted = counts.get("submitted")
    if not submitted:
        return None
    return float(counts.get("ok", 0)) / float(submitted)


def goodput_rps(run: Run) -> float | None:
    """Ok answers per second of the run's makespan (the summary's own figure when present)."""
    stated = run.summary.get("goodput_rps")
    if isinstance(stated, int | float):
        return float(stated)
    makespan = run_metric(run, "makespan")
    ok = run_metric(run, "ok")
    if not makespan or ok is None:
        return None
    return ok / makespan


MAX_EFFICIENCY = 1.02  # a makespan below its lower bound is a measurement problem


def measurement_warnings(modes: Mapping[str, list[Run]]) -> list[str]:
    """Runs whose efficiency exceeds :data:`MAX_EFFICIENCY`: never a result, a problem."""
    warnings = []
    for mode, runs in modes.items():
        for run in runs:
            efficiency = _number(run.summary.get("efficiency"))
            if efficiency is not None and efficiency > MAX_EFFICIENCY:
                warnings.append(
                    f"{mode}: efficiency {efficiency:.2f} > {MAX_EFFICIENCY}: the run finished "
                    "faster than its lower bound, a measurement problem (clock, or an "
                    "upstream that did not wait as it said), not a result"
                )
    return warnings


def beyond_bound_warnings(
    ranked: Sequence[Ranked], modes: Mapping[str, list[Run]], reference: str
) -> list[str]:
    """A speed-up above what the bounds allow: the reference ran slow, not the design fast.

    "bound allows N×" is the ratio of the two lower bounds; a speed-up beyond it means the
    reference design spent more than its bound (its efficiency says how much).
    """
    ref = Spread.of(_number(run.summary.get("efficiency")) for run in modes[reference])
    lines = []
    for r in ranked:
        if r.mode != reference and r.value and r.bound and r.value > r.bound * 1.05:
            eff = "" if ref is None else f" (efficiency {ref.median:.2f})"
            lines.append(
                f"{r.mode} {_num(r.value)}× is more than the bounds allow ({_num(r.bound)}×): "
                f"{reference} spent more than its own bound{eff}, so part of the gap is "
                f"{reference}'s overhead per request, not {r.mode}'s speed"
            )
    return lines


def upstream_warnings(results: Results, modes: Mapping[str, list[Run]]) -> list[str]:
    """Designs that met a different upstream: only for an upstream the runner cannot reset."""
    target = results.config.get("target") or {}
    if target.get("kind") not in ("base-url", "gemini") or target.get("reset_upstream"):
        return []
    shares = {
        mode: spread.median
        for mode, runs in modes.items()
        if (spread := Spread.of(_number(r.summary.get("upstream_error_share")) for r in runs))
    }
    if len(shares) < 2 or max(shares.values()) - min(shares.values()) <= MAX_OK_SHARE_GAP:
        return []
    text = ", ".join(f"{mode} {share:.0%}" for mode, share in shares.items())
    return [f"the designs met different upstream error shares ({text}): the upstream "
            "changed between designs (--reset-upstream resets a mock_gemini)"]  # fmt: skip


def _share_warnings(
    shares: Mapping[str, float | None], modes: Mapping[str, list[Run]]
) -> list[str]:
    warnings = []
    for mode, share in shares.items():
        if share is not None and share < MIN_OK_SHARE:
            warnings.append(f"{mode} served {_served(modes[mode])}")
    known = [s for s in shares.values() if s is not None]
    if not warnings and known and max(known) - min(known) > MAX_OK_SHARE_GAP:
        text = ", ".join(f"{m} {s:.0%}" for m, s in shares.items() if s is not None)
        warnings.append(f"the designs served different shares of real answers ({text})")
    return warnings


def _served(runs: Sequence[Run]) -> str:
    run = runs[len(runs) // 2] if len(runs) > 1 else runs[0]
    counts = run.summary.get("counts") or {}
    ok, submitted = counts.get("ok", 0), counts.get("submitted", 0)
    rest = [f"{counts[k]} {k}" for k in ("fallback", "failed") if counts.get(k)]
    return f"{ok} of {submitted} real answers" + (f" ({', '.join(rest)})" if rest else "")


def _ranked(
    results: Results,
    mode: str,
    runs: Sequence[Run],
    reference: Sequence[Run] | None,
    shares: Mapping[str, float | None],
) -> Ranked:
    speedups = speedup_values(runs, reference) if reference is not None else []
    spread = Spread.of(speedups)
    is_reference = reference is None or reference is runs
    bound = None if is_reference else bound_speedup(runs, reference or [])
    exact = not is_reference and all(_exact(run) for run in [*runs, *(reference or [])])
    return _of(mode, spread, shares.get(mode), len(runs), bound, exact)


def _open_ranked(mode: str, runs: Sequence[Run], shares: Mapping[str, float | None]) -> Ranked:
    p99 = Spread.of(_intended_p99(run) for run in runs)
    return _of(mode, p99, shares.get(mode), len(runs))


def _of(
    mode: str,
    spread: Spread | None,
    share: float | None,
    repetitions: int,
    bound: float | None = None,
    exact: bool = False,
) -> Ranked:
    if spread is None:
        return Ranked(mode, None, None, None, share, repetitions, bound, exact)
    return Ranked(mode, spread.median, spread.low, spread.high, share, repetitions, bound, exact)


def _intended_p99(run: Run) -> float | None:
    stats = run.summary.get("latency_from_intended_s") or {}
    value = stats.get("p99")
    return float(value) if isinstance(value, int | float) else None


def speedup_values(runs: Sequence[Run], reference: Sequence[Run]) -> list[float]:
    """Per repetition: this run's goodput / the reference's median goodput."""
    base = Spread.of(goodput_rps(run) for run in reference)
    if base is None or not base.median:
        return []
    return [g / base.median for run in runs if (g := goodput_rps(run)) is not None]


def bound_speedup(runs: Sequence[Run], reference: Sequence[Run]) -> float | None:
    """How much faster than the reference the caps allow: the ratio of the median bounds."""
    ref = Spread.of(_number(run.summary.get("bound_s")) for run in reference)
    mine = Spread.of(_number(run.summary.get("bound_s")) for run in runs)
    if ref is None or mine is None or not mine.median:
        return None
    return ref.median / mine.median


def reference_mode(results: Results, users: int) -> str | None:
    """The design a load's speed-ups are measured against (closed loop, ≥ 2 designs)."""
    modes = {mode for mode, n in groups(results) if n == users}
    if len(modes) < 2 or is_open_loop(results):
        return None
    return REFERENCE_MODE if REFERENCE_MODE in modes else min(modes, key=mode_rank)


def _against_reference(results: Results, key: GroupKey) -> tuple[list[Run], list[Run]] | None:
    """(this group's runs, its reference's runs), or None for the reference itself or none."""
    reference = reference_mode(results, key[1])
    if reference is None or reference == key[0]:
        return None
    by_key = groups(results)
    return by_key.get(key, []), by_key[(reference, key[1])]


def group_speedups(results: Results, key: GroupKey) -> list[float]:
    """A group's speed-up per repetition against its reference (the reference: 1.0 each)."""
    if reference_mode(results, key[1]) == key[0]:
        return [1.0 for _ in groups(results).get(key, [])]
    pair = _against_reference(results, key)
    return [] if pair is None else speedup_values(*pair)


def group_bound_speedup(results: Results, key: GroupKey) -> float | None:
    """What the caps allow a group against its reference (None when unknown)."""
    pair = _against_reference(results, key)
    return None if pair is None else bound_speedup(*pair)


def comparison_rows(results: Results) -> list[dict[str, Any]]:
    """The results document's ``comparison`` list: each design against its load's reference."""
    rows = []
    for key, runs in groups(results).items():
        pair = _against_reference(results, key)
        if pair is None:
            continue
        spread = Spread.of(speedup_values(*pair))
        rows.append({
            "users": key[1],
            "mode": key[0],
            "reference": reference_mode(results, key[1]),
            "speedup_vs_reference": None if spread is None else spread.median,
            "bound_speedup": bound_speedup(*pair),
            "median_makespan_s": _median(run_metric(run, "makespan") for run in runs),
            "repetitions": len(runs),
        })  # fmt: skip
    return rows


def _median(values: Any) -> float | None:
    spread = Spread.of(values)
    return None if spread is None else spread.median


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _num(value: float | None) -> str:
    """3 significant digits, whole numbers bare: 19.6, 20, 0.0123."""
    if value is None or not math.isfinite(value):
        return "—"
    if float(value).is_integer() or abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def derived(results: Results) -> dict[str, Any]:
    """The document's derived keys: ``comparison``, ``verdict`` (headline), ``verdicts``,
    and for a service load its ``diagnosis`` (reports.diagnosis)."""
    from reports.diagnosis import diagnose

    every = verdicts(results)
    out = {
        "comparison": comparison_rows(results),
        "verdict": every[-1].to_dict(),
        "verdicts": [v.to_dict() for v in every],
    }
    diagnosis = diagnose(results)
    return out | ({"diagnosis": diagnosis} if diagnosis is not None else {})


def figure_values(results: Results, key: GroupKey, name: str) -> list[float]:
    """Any metric of ``reports.aggregate.METRICS`` over a group's repetitions.

    ``speedup`` is each repetition's goodput against its reference's median goodput;
    every other name is read from the run summaries.
    """
    if name == "speedup":
        return group_speedups(results, key)
    return metric_values(results, key, name)
