"""sweep --rates / --find-knee against the embedded mock with a known capacity.

The mock's ``--max-concurrency 4`` with 0.1 s per answer serves at most 40 answers/s;
the knee the sweep finds must lie within 20 % of that.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from reports.sweep import Point, find_knees, rates_below

QUICK = ["--calibration", "off", "--no-progress"]
CAPPED = ["--latency", "0.1", "--max-concurrency", "4", "--modes", "async"]


def test_find_knee_lands_near_the_mocks_capacity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sweep"
    argv = ["sweep", "--find-knee", "--duration", "2", "--arrival", "constant", *CAPPED,
            *QUICK, "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    sweep = json.loads((out / "sweep.json").read_text())
    knee = sweep["knee_rps"]["async"]
    assert knee == pytest.approx(40.0, rel=0.20)
    assert f"knee: async {knee:.3g} req/s" in printed
    assert (out / "probe" / "results.json").is_file() and (out / "sweep.png").is_file()
    offered = [p["offered_rps"] for p in sweep["points"]]
    assert len(offered) == 6 and offered == sorted(offered)
    assert sweep["runs"] == [f"rate-{rate:g}" for rate in offered]


def test_rates_run_one_document_each_with_the_slo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sweep"
    argv = ["sweep", "--rates", "5,10", "--duration", "0.6", "--latency", "0.02",
            "--modes", "sequential,async", "--slo", "latency<=1s", *QUICK, "--no-report",
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    capsys.readouterr()
    sweep = json.loads((out / "sweep.json").read_text())
    assert sweep["slo"] == "latency<=1s"
    for rate in (5, 10):
        document = json.loads((out / f"rate-{rate}" / "results.json").read_text())
        assert [run["summary"]["offered_rps"] for run in document["runs"]] == [rate, rate]
    assert [(p["mode"], p["offered_rps"]) for p in sweep["points"]] == [
        ("sequential", 5), ("sequential", 10), ("async", 5), ("async", 10),
    ]  # fmt: skip
    assert not (out / "sweep.png").exists()


def test_users_sweep_writes_the_same_picture(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sweep"
    argv = ["sweep", "--users", "1,3", "--latency", "0.02", "--modes", "async", *QUICK,
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    capsys.readouterr()
    sweep = json.loads((out / "sweep.json").read_text())
    assert [p["x"] for p in sweep["points"]] == [1.0, 3.0]
    assert sweep["knee_rps"] is None and (out / "sweep.png").is_file()


@pytest.mark.parametrize(
    ("extra", "names"),
    [
        pytest.param(["--rates", "5,x"], "--rates", id="not-a-rate"),
        pytest.param(["--rates", "5,5", "--duration", "1"], "distinct", id="repeated"),
        pytest.param(["--rates", "5"], "--duration", id="no-duration"),
        pytest.param(["--rates", "5", "--find-knee", "--duration", "1"], "one", id="both"),
    ],
)
def test_bad_rate_sweep_is_one_line_exit_2(
    extra: list[str], names: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        status = main(["sweep", *extra, *QUICK, "--out", str(tmp_path / "s")])
    except SystemExit as exc:  # argparse's own usage error
        status = exc.code
    assert status == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and names in err


def _point(offered: float, achieved: float) -> Point:
    return Point("async", offered, 1, offered, achieved, achieved, {}, None)


def test_knee_is_the_last_followed_rate() -> None:
    points = [_point(10, 10), _point(20, 19), _point(30, 26.9), _point(40, 30)]
    assert find_knees(points) == {"async": 19}
    assert find_knees([_point(10, 5)]) == {"async": None}
    assert rates_below(40.0) == [10.0, 20.0, 30.0, 36.0, 40.0, 44.0]
