"""Regenerate docs/screenshots/: the console summary at 80 and 120 columns, report.html at 1440 px.

    .venv/bin/python scripts/screenshots.py               # writes into docs/screenshots/
    .venv/bin/python scripts/screenshots.py --out /tmp/s  # anywhere else

It runs ``python -m harness compare --users 5 --latency 0.1 --calibration off`` against
the embedded mock (a few seconds), prints that run's console summary through ``rich`` at
80 and 120 columns and saves each as SVG (``console-80.svg``, ``console-120.svg``), renders
its report and photographs ``report.html`` with headless chromium at 1440 × 1800 px
(``report-1440.png``; Debian: ``apt-get install chromium``). Exit status 2, with one line
on stderr, when chromium is missing or a step fails.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.text import Text

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script from anywhere: import the repo's packages

from reports.console import print_summary  # noqa: E402
from reports.load import load_results  # noqa: E402
from reports.render import render_report  # noqa: E402

RUN = ["compare", "--users", "5", "--latency", "0.1", "--calibration", "off", "--no-progress",
       "--no-report"]  # fmt: skip
CONSOLE_WIDTHS = (80, 120)
PAGE_SIZE_PX = (1440, 1800)
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars",
)  # fmt: skip


def run_compare(out: Path) -> Path:
    """One short ``compare`` against the embedded mock; its run directory."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-m", "harness", *RUN, "--out", str(out)], env=env,
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    return out


def console_svg(run_dir: Path, width: int) -> str:
    """The run's console summary at ``width`` columns, as an SVG picture of a terminal.

    Long notes are printed soft-wrapped (the terminal wraps them); here they are wrapped
    at ``width`` as a terminal would, so the picture shows them whole.
    """
    recorder = Console(record=True, width=width, force_terminal=True, file=io.StringIO())
    print_summary(load_results(run_dir), recorder)
    screen = Console(record=True, width=width, force_terminal=True, file=io.StringIO())
    for line in recorder.export_text(styles=True).splitlines():
        text = Text.from_ansi(line)
        cuts = range(width, len(text.plain), width)
        for piece in text.divide(cuts) if cuts else [text]:
            screen.print(piece, no_wrap=True, overflow="ignore", crop=False)
    return screen.export_svg(title=f"python -m harness report {run_dir} ({width} columns)")


def page_png(page: Path, out: Path, work: Path) -> Path:
    """Photograph ``page`` in headless chromium at :data:`PAGE_SIZE_PX`."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise RuntimeError("no chromium on PATH (Debian: apt-get install chromium)")
    profile = Path(tempfile.mkdtemp(dir=work))
    width, height = PAGE_SIZE_PX
    subprocess.run(
        [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
         "--virtual-time-budget=5000", f"--screenshot={out}", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    out: Path = parser.parse_args(argv).out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        try:
            os.chdir(work)  # the pictures show a short relative path: runs/example
            run_dir = run_compare(Path("runs/example"))
            for width in CONSOLE_WIDTHS:
                (out / f"console-{width}.svg").write_text(console_svg(run_dir, width))
            page = render_report([run_dir], work / "report")["html"].resolve()
            page_png(page, out / "report-1440.png", work)
        except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
            print(f"screenshots: {exc}", file=sys.stderr)
            return 2
    print(f"screenshots: wrote {', '.join(sorted(p.name for p in out.iterdir()))} in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
