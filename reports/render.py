"""Render results files as Markdown (for ``$GITHUB_STEP_SUMMARY``) and self-contained HTML.

    paths = render_report([Path("runs/20261128T134000Z-compare")], Path("out"))
    paths["html"], paths["markdown"], paths.get("timeline")

``render_markdown`` and ``render_html`` are pure (results in, text out); ``render_report``
loads, draws the plots (matplotlib is imported only here, lazily) and writes the files.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from reports.diagnosis import diagnose
from reports.load import Results, load_many
from reports.tables import (
    Table,
    breaker_summary_table,
    streaming_table,
    summary_table,
    to_markdown,
    transitions_table,
)
from reports.verdict import is_open_loop, load_label, verdicts

TITLE = "Load harness report"
PlotFunction = Callable[[Sequence[Results], Path], Path | None]
PLOT_CAPTIONS = {
    "throughput": "Throughput vs users per mode; dashed: the bound users·R / bound_s.",
    "latency_percentiles": "Latency p50 / p95 / p99 per mode (median of repetitions).",
    "latency_cdf": "Latency CDF per mode from the raw records: real answers (ok) and "
    "fallbacks/failures in separate panels, so fast fails do not pose as fast answers.",
    "ttft_cdf": "Time to first token CDF per mode, from the streamed records.",
    "itl_cdf": "Inter-token latency CDF per mode (each request's mean gap), streamed records.",
    "timeline": "Timeline per mode in bins sized to the run (50–200 bins from the raw "
    "records; whole seconds without them); background: breaker open (red), half-open (amber).",
    "amplification": "Retry amplification per second: upstream attempts / requests offered.",
    "concurrency": "Service load: users, requests in flight at the service and upstream calls "
    "in flight at the mock, against time.",
}
PLOT_COLUMNS = {  # the summary columns (header prefixes) a plot draws: its data table
    "throughput": ("mode", "users", "in-flight", "throughput", "offered", "achieved", "goodput",
                   "bound"),
    "latency_percentiles": ("mode", "users", "in-flight", "p50", "from intended"),
    "latency_cdf": ("mode", "users", "in-flight", "p50", "from intended", "ok / fallback"),
    "ttft_cdf": ("mode", "users", "TTFT"),
    "itl_cdf": ("mode", "users", "ITL"),
    "timeline": ("mode", "users", "in-flight", "ok / fallback", "makespan"),
    "amplification": ("mode", "users", "in-flight", "amplification"),
}  # fmt: skip
NUMERIC = re.compile(r"^[-+~≤(\d.∞—−]|^NaN")
OPEN_LOOP_CAPTIONS = {
    "throughput": "Achieved throughput per mode; dashed: the offered rate of the schedule.",
    "latency_percentiles": "Latency from the intended start p50 / p95 / p99 per mode "
    "(coordinated omission corrected; median of repetitions).",
    "latency_cdf": "CDF of latency from the intended start per mode, from the raw records "
    "(coordinated omission corrected); real answers and fallbacks/failures apart.",
}


def plot_caption(name: str, results_list: Sequence[Results]) -> str:
    """A plot's caption; open-loop documents get the open-loop wording."""
    if results_list and all(is_open_loop(r) for r in results_list):
        return OPEN_LOOP_CAPTIONS.get(name) or PLOT_CAPTIONS.get(name, name)
    return PLOT_CAPTIONS.get(name, name)


def load_note(results: Results) -> str | None:
    """What an open-loop document's load was, and what its corrected latency means."""
    if not is_open_loop(results):
        return None
    users = results.runs[0].users
    return (
        f"Open loop: {load_label(results, users)}. Requests arrive on a schedule whatever "
        "the design does: latency counts from each request's intended start (coordinated "
        "omission corrected), and the schedule lag is how late a request left."
    )


def render_markdown(results_list: Sequence[Results]) -> str:
    """Summary tables, verdicts and breaker summaries of each results file, as Markdown."""
    parts = [f"## {TITLE}"]
    for results in results_list:
        parts += [f"### {_md_text(results.label)}", _md_provenance(results)]
        note = load_note(results)
        parts += [] if note is None else [f"**Load** — {_md_text(note)}"]
        parts.append(to_markdown(summary_table(results)))
        stream = streaming_table(results)
        parts += [] if stream is None else ["#### Streaming", to_markdown(stream)]
        parts += [f"**{label}** — {_md_text(text)}" for label, text in headline_lines(results)]
        parts += ["#### Circuit breaker", _md_breaker(results)]
    return "\n\n".join(parts) + "\n"


def headline_lines(results: Results) -> list[tuple[str, str]]:
    """("Verdict", text) per load; a service load's ("Diagnosis", text) instead."""
    diagnosis = diagnose(results)
    if diagnosis is not None:
        return [("Diagnosis", f"{diagnosis['design']}: {diagnosis['evidence']}")]
    return [("Verdict", v.text) for v in verdicts(results)]


def _md_provenance(results: Results) -> str:
    machine = results.machine
    bits = [
        f"commit `{results.git_commit or 'unknown'}`",
        f"{machine.get('cpu_count', '?')} CPUs",
        f"Python {machine.get('python', '?')}",
        f"created {results.created_utc or 'unknown'}",
    ]
    if results.command:
        bits.append(f"`python -m harness {_command(results)}`")
    return _md_text(" · ".join(bits))


def _md_breaker(results: Results) -> str:
    table = breaker_summary_table(results)
    return "_No breaker transitions recorded._" if table is None else to_markdown(table)


def _md_text(text: str) -> str:
    # Keep Markdown/HTML structure intact in the step summary: no raw tags from run data.
    return text.replace("<", "&lt;").replace(">", "&gt;")


def render_html(results_list: Sequence[Results], plots: Mapping[str, Path]) -> str:
    """A self-contained page: verdicts, then the plots (two per row), then the tables.

    Provenance and configuration are folded in ``<details>``. Plots are base64 PNG data
    URIs, each with its figures in a small table beneath (and in its alt/title text).
    """
    head = "".join(_html_headline(results) for results in results_list)
    figures = "".join(
        _html_figure(name, path, plot_caption(name, results_list), plot_tables(name, results_list))
        for name, path in plots.items()
    )
    tables = "".join(_html_tables(results, len(results_list)) for results in results_list)
    config = "".join(_html_config(results) for results in results_list)
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(TITLE)}</title><style>{_CSS}</style></head><body>"
        f'<h1>{html.escape(TITLE)}</h1><div class="headlines">{head}</div>'
        f'<h2>Plots</h2><div class="plots">{figures or "<p>No plots.</p>"}</div>'
        f"<h2>Tables</h2>{tables}"
        f"<details><summary>Configuration and provenance</summary>{config}</details>"
        f"</body></html>\n"
    )


def _html_headline(results: Results) -> str:
    note = load_note(results)
    load = "" if note is None else f'<p class="load">{html.escape(note)}</p>'
    lines = _html_items([t for _, t in headline_lines(results)])
    return f'<section class="headline"><h2>{html.escape(results.label)}</h2>{load}' \
        f'<ul class="verdict">{lines}</ul></section>'  # fmt: skip


def _html_tables(results: Results, files: int) -> str:
    breaker = breaker_summary_table(results)
    transitions = transitions_table(results)
    stream = streaming_table(results)
    title = f"<h3>{html.escape(results.label)}</h3>" if files > 1 else ""
    streaming = "" if stream is None else f"<h4>Streaming</h4>{_html_table(stream)}"
    return (
        f'<section class="file">{title}<h4>Summary</h4>{_html_table(summary_table(results))}'
        f"{streaming}<h4>Circuit breaker</h4>"
        f"{_html_table(breaker) if breaker else '<p>No breaker transitions recorded.</p>'}"
        f"{_html_table(transitions) if transitions else ''}</section>"
    )


def _html_config(results: Results) -> str:
    config = json.dumps(results.config, indent=2, sort_keys=True)
    return (
        f'<section class="file"><h3>{html.escape(results.label)}</h3>'
        f"{_html_provenance(results)}<pre>{html.escape(config)}</pre></section>"
    )


def plot_tables(name: str, results_list: Sequence[Results]) -> list[Table]:
    """The figures a plot draws: the matching summary columns of each file, as small tables.

    Files whose columns agree share one table (a ``run`` column tells them apart); an open-
    and a closed-loop file get one each.
    """
    wanted = PLOT_COLUMNS.get(name)
    if wanted is None:
        return []
    picked = [p for t in _plot_sources(name, results_list) if (p := _columns(t, wanted))]
    several = len(results_list) > 1
    shapes: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for table, label in picked:
        rows = shapes.setdefault(table.headers, [])
        rows.extend((label, *row) if several else row for row in table.rows)
    return [
        Table(("run", *headers) if several else headers, tuple(rows))
        for headers, rows in shapes.items()
    ]


def _plot_sources(name: str, results_list: Sequence[Results]) -> list[tuple[Table | None, str]]:
    if name in ("ttft_cdf", "itl_cdf"):
        return [(streaming_table(r), r.label) for r in results_list]
    return [(summary_table(r), r.label) for r in results_list]


def _columns(source: tuple[Table | None, str], wanted: Sequence[str]) -> tuple[Table, str] | None:
    table, label = source
    if table is None:
        return None
    keep = [i for i, h in enumerate(table.headers) if any(h.startswith(w) for w in wanted)]
    if len(keep) < 2:
        return None
    sub = Table(tuple(table.headers[i] for i in keep),
                tuple(tuple(row[i] for i in keep) for row in table.rows))  # fmt: skip
    return sub, label


def _html_provenance(results: Results) -> str:
    machine = ", ".join(f"{k}: {v}" for k, v in results.machine.items() if v is not None)
    items = {
        "file": str(results.path),
        "created": results.created_utc or "unknown",
        "commit": results.git_commit or "unknown",
        "machine": machine or "unknown",
        "command": f"python -m harness {_command(results)}",
    }
    rows = "".join(f"<dt>{k}</dt><dd>{html.escape(v)}</dd>" for k, v in items.items())
    return f"<dl>{rows}</dl>"


def _html_table(table: Table) -> str:
    text = _text_columns(table)
    head = "".join(
        f"<th{_cls(i in text)}>{html.escape(h)}</th>" for i, h in enumerate(table.headers)
    )
    body = "".join(
        "<tr>"
        + "".join(f"<td{_cls(i in text)}>{html.escape(c)}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in table.rows
    )
    table_html = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="scroll">{table_html}</div>'


def _cls(text: bool) -> str:
    return ' class="text"' if text else ""


def _text_columns(table: Table) -> set[int]:
    """Columns holding words rather than figures: left-aligned."""
    return {i for i in range(len(table.headers)) if any(_is_text(row[i]) for row in table.rows)}


def _is_text(cell: str) -> bool:
    return bool(cell.strip()) and not NUMERIC.match(cell.strip())


def _html_items(lines: Sequence[str]) -> str:
    return "".join(f"<li>{html.escape(line)}</li>" for line in lines)


def _html_figure(name: str, path: Path, caption: str, tables: Sequence[Table]) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    figures = "; ".join(" ".join(row) for table in tables for row in table.rows)
    alt = html.escape(f"{name}: {caption} {figures}".strip(), quote=True)
    under = "".join(_html_table(table) for table in tables)
    return (
        f'<figure id="plot-{html.escape(name, quote=True)}">'
        f'<img src="data:image/png;base64,{data}" alt="{alt}" title="{alt}">'
        f"<figcaption>{html.escape(caption)}</figcaption>{under}</figure>"
    )


def _command(results: Results) -> str:
    return " ".join(results.command)


def render_report(sources: Sequence[Path], out_dir: Path) -> dict[str, Path]:
    """Load ``sources``, write ``<plot>.png``, ``report.html`` and ``summary.md`` into ``out_dir``.

    Returns every written path by name: the plot names of :data:`PLOT_CAPTIONS` that had
    data, plus ``"html"`` and ``"markdown"``. Raises ReportInputError on a bad source.
    """
    from reports.plot_base import named_by_difference  # matplotlib: only when drawing

    results_list = named_by_difference(load_many(sources))
    out_dir.mkdir(parents=True, exist_ok=True)
    plots = {}
    for name, plot in _plot_functions().items():
        path = plot(results_list, out_dir / f"{name}.png")
        if path is not None:
            plots[name] = path
    html_path = out_dir / "report.html"
    _write_whole(html_path, render_html(results_list, plots))
    md_path = out_dir / "summary.md"
    _write_whole(md_path, render_markdown(results_list))
    return {**plots, "html": html_path, "markdown": md_path}


def _write_whole(path: Path, text: str) -> None:
    # Aside, then renamed over: a full disk or a kill leaves the old file or none, never half.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _plot_functions() -> dict[str, PlotFunction]:
    from reports import plots  # matplotlib is slow to import: only when drawing
    from reports.plot_concurrency import plot_concurrency

    return {
        "throughput": plots.plot_throughput_vs_users,
        "latency_percentiles": plots.plot_latency_percentiles,
        "latency_cdf": plots.plot_latency_cdf,
        "ttft_cdf": plots.plot_ttft_cdf,
        "itl_cdf": plots.plot_itl_cdf,
        "timeline": plots.plot_timeline,
        "amplification": plots.plot_amplification,
        "concurrency": plot_concurrency,
    }


_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:1rem 1.5rem;color:#222;background:#fff}
h1{margin:0 0 .3rem;font-size:1.5rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;
margin:.8rem 0 .4rem;font-size:1.2rem}h3,h4{margin:.6rem 0 .3rem}
.headlines{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,420px),1fr));
gap:0 1.5rem}.headline h2{border:0;margin:.3rem 0 0;font-size:1.05rem}
.verdict{margin:.2rem 0}.verdict li{font-weight:600}.load{color:#444;margin:.2rem 0}
.plots{display:grid;grid-template-columns:minmax(0,1fr);gap:1rem}
@media (min-width:900px){.plots{grid-template-columns:repeat(2,minmax(0,1fr))}}
figure{margin:0;min-width:0}img{width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:13px}
figure .scroll table{font-size:12px}
.file{min-width:0;margin-bottom:1rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .8rem;margin:.5rem 0}
dt{font-weight:600;color:#555}dd{margin:0;word-break:break-word;font-family:monospace}
.scroll{max-width:100%;overflow-x:auto;margin:.4rem 0}
table{border-collapse:collapse;font-size:12px}
th,td{border:1px solid #ddd;padding:.2rem .35rem;text-align:right;vertical-align:top}
th{background:#f4f4f4;font-weight:600}
td{white-space:normal}
.text{text-align:left}
details{margin:1rem 0}summary{cursor:pointer;font-weight:600}
pre{background:#f7f7f7;padding:.6rem;overflow-x:auto;font-size:12px}
"""
