"""report.html in a real headless browser (Debian's chromium) at 1024 and 1440 px.

A copy of the page gets a small script that measures the laid-out page and writes the
figures into ``<body data-measure="…">``; ``chromium --headless --dump-dom`` prints the
DOM after the script ran, and the test reads the attribute back. Skipped, saying so, only
when no chromium is installed (``.ci/run`` installs it where apt is available).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from reports.render import render_report

BROWSERS = ("chromium", "chromium-browser")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars",
)  # fmt: skip
VIEWPORT_HEIGHT_PX = 768
MEASURE = """<script>
addEventListener("load", () => {
  const width = document.documentElement.clientWidth;
  const top = (el) => el ? el.getBoundingClientRect().top + scrollY : null;
  const rights = (sel) => [...document.querySelectorAll(sel)]
    .map((el) => el.getBoundingClientRect().right);
  const figures = [...document.querySelectorAll(".plots figure")];
  const firstImg = document.querySelector(".plots img").getBoundingClientRect();
  const modeCell = document.querySelector("section.file table td");
  document.body.dataset.measure = JSON.stringify({
    width, height: innerHeight, pageWidth: document.documentElement.scrollWidth,
    boxRights: rights(".scroll"), tableRights: rights("table"),
    scrollable: [...document.querySelectorAll(".scroll")].map(
      (el) => el.scrollWidth <= el.clientWidth + 1 || getComputedStyle(el).overflowX === "auto"),
    verdictTop: top(document.querySelector(".verdict")),
    plotTop: firstImg.top + scrollY, plotBottom: firstImg.bottom + scrollY,
    tableTop: top(document.querySelector("section.file table")),
    configOpen: document.querySelector("details").open,
    plotsInFirstRow: figures.filter((f) => f.getBoundingClientRect().top === figures[0]
      .getBoundingClientRect().top).length,
    modeAlign: getComputedStyle(modeCell).textAlign,
  });
});
</script>"""


def chromium() -> str:
    found = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if found is None:
        pytest.skip("no chromium on PATH: install Debian's `chromium` (apt-get install chromium)")
    return found


def measure(page: Path, width_px: int, tmp_path: Path) -> dict[str, Any]:
    """Load ``page`` at ``width_px`` × 768 in headless chromium; the script's measurements."""
    probe = tmp_path / f"probe-{width_px}.html"
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"))
    profile = tmp_path / f"profile-{width_px}"
    profile.mkdir()
    done = subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={profile}",
         f"--window-size={width_px},{VIEWPORT_HEIGHT_PX}", "--virtual-time-budget=5000",
         "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    found = re.search(r'data-measure="([^"]*)"', done.stdout)
    assert found, f"no measurements in the dumped DOM; stderr: {done.stderr[-1500:]}"
    return dict(json.loads(html.unescape(found.group(1))))


@pytest.fixture(params=[pytest.param(1, id="one-run"), pytest.param(2, id="two-runs")])
def report_page(request: pytest.FixtureRequest, build: Any, write: Any, tmp_path: Path) -> Path:
    sources = [write(build(faults=True, stream=True), "faulty")]
    if request.param == 2:  # another run, named by what differs: longer labels everywhere
        slower = build(faults=True, stream=True, slowdown=1.3)
        slower["config"]["mock"] = {"latency": "fixed:1.3"}
        sources.append(write(slower, "slower"))
    return render_report(sources, tmp_path / "report")["html"]


@pytest.mark.parametrize(
    "width_px", [pytest.param(1024, id="1024px"), pytest.param(1440, id="1440px")]
)
def test_report_fits_the_viewport_with_a_plot_above_the_fold(
    report_page: Path, width_px: int, tmp_path: Path
) -> None:
    m = measure(report_page, width_px, tmp_path)
    assert m["width"] <= width_px
    assert m["pageWidth"] <= m["width"], "the page scrolls sideways"
    assert max(m["boxRights"]) <= m["width"], "a table's box is wider than the viewport"
    assert all(m["scrollable"]), "a table overflows a box that does not scroll"
    assert max(m["tableRights"]) <= m["width"], "a table is wider than the viewport"
    assert m["plotBottom"] <= m["height"], "the first plot is not wholly above the fold"
    assert m["verdictTop"] < m["plotTop"] < m["tableTop"]  # verdict, plots, then tables
    assert m["plotsInFirstRow"] == 2  # two per row from 1024 px up
    assert m["configOpen"] is False and m["modeAlign"] == "left"
