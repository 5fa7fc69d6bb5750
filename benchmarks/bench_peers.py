"""This harness and its peers against one mock, interleaved: rate, CPU per request, TTFT error.

Not a test: run it by hand (a few minutes):

    .venv/bin/python benchmarks/bench_peers.py --users 16 --duration 15 --rounds 3

One ``mock_gemini`` (fixed ``--latency``, ``--tokens-per-s``) serves every tool at
``{mock}/v1/chat/completions``, streamed, the same recipe prompt, ``--users`` concurrent
closed-loop users for about ``--duration`` seconds. Each round runs every installed tool
once, in a rotated order (so none always runs first on a cold or hot machine), after a
``POST /_mock/reset``. Tools: ``harness`` (``compare --api openai --modes async
--stream``), ``locust`` (a generated locustfile: ``HttpUser`` reading the SSE stream and
reporting TTFT as its own request type), ``guidellm`` (``guidellm run`` with a scenario
file: ``openai_http`` backend, ``concurrent`` profile, a JSON data file), and — when
installed — ``aiperf``, ``vllm`` and ``genai-bench`` are named but not driven (their
command lines need a tokenizer download; see docs/openai.md).

Per tool it prints one Markdown row: requests/s (the tool's own figure), the requests the
mock counted, CPU seconds per request (user + system of the tool's process tree, from
``RUSAGE_CHILDREN``: start-up included), and the TTFT error: the tool's mean TTFT minus
the TTFT the mock injected (``latency + first chunk / tokens_per_s``). ``--json FILE``
writes the rows with the machine they came from.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.measure.machine import machine_info
from harness.recipes import RecipeRequest, build_prompt
from harness.run.embedded import EmbeddedMock
from mock_gemini.latency import split_tokens

ROOT = Path(__file__).resolve().parents[1]
MODEL = "gemini-2.5-flash"
KEY = "peer-key"
PROMPT = build_prompt(RecipeRequest.example(0))

LOCUSTFILE = """
import json, time
from locust import HttpUser, constant, task

BODY = json.dumps({"model": %(model)r, "stream": True, "max_tokens": 2048,
                   "stream_options": {"include_usage": True},
                   "messages": [{"role": "user", "content": %(prompt)r}]})
HEADERS = {"Authorization": "Bearer %(key)s", "Content-Type": "application/json"}


class Chat(HttpUser):
    wait_time = constant(0)

    @task
    def chat(self):
        start = time.perf_counter()
        ttft = None
        with self.client.post("/v1/chat/completions", data=BODY, headers=HEADERS,
                              stream=True, name="chat", catch_response=True) as resp:
            for line in resp.iter_lines():
                if ttft is None and line.startswith(b"data: {") and b'"content"' in line:
                    ttft = time.perf_counter() - start
            if ttft is None:
                resp.failure("no content")
                return
        self.environment.events.request.fire(
            request_type="SSE", name="ttft", response_time=ttft * 1000.0,
            response_length=0, exception=None, context={})
"""


def _cpu_children_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(cmd: list[str], timeout_s: float, cwd: Path) -> tuple[float, float]:
    """Run ``cmd``; (wall seconds, CPU seconds of its process tree)."""
    cpu_before, started = _cpu_children_s(), time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout_s)
    wall_s, cpu_s = time.perf_counter() - started, _cpu_children_s() - cpu_before
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{cmd[0]} {cmd[1]} failed: {done.stderr[-1500:]}")
    return wall_s, cpu_s


def run_harness(url: str, ns: argparse.Namespace, work: Path) -> dict[str, Any]:
    per_request_s = ns.latency + ns.expected_tokens / ns.tokens_per_s
    rpu = max(1, round(ns.duration / per_request_s))
    out = work / "harness"
    cmd = [sys.executable, "-m", "harness", "compare", "--api", "openai", "--base-url",
           f"{url}/v1", "--model", MODEL, "--modes", "async", "--users", str(ns.users),
           "--requests-per-user", str(rpu), "--stream", "--resilience", "none",
           "--calibration", "off", "--no-progress", "--no-report", "--out", str(out)]  # fmt: skip
    wall_s, cpu_s = _run(cmd, ns.duration * 10 + 120, ROOT)
    summary = json.loads((out / "results.json").read_text())["runs"][0]["summary"]
    ok = summary["counts"]["ok"]
    return {"rps": summary["throughput_rps"], "ok": ok, "ttft_s": summary["ttft_s"]["mean"],
            "wall_s": wall_s, "cpu_s": cpu_s}  # fmt: skip


def run_locust(url: str, ns: argparse.Namespace, work: Path) -> dict[str, Any]:
    locustfile = work / "peer_locustfile.py"
    locustfile.write_text(LOCUSTFILE % {"model": MODEL, "prompt": PROMPT, "key": KEY})
    prefix = work / "locust"
    cmd = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "-u",
           str(ns.users), "-r", str(ns.users), "-t", f"{ns.duration}s", "--host", url,
           "--csv", str(prefix), "--only-summary", "--stop-timeout", "10"]  # fmt: skip
    wall_s, cpu_s = _run(cmd, ns.duration + 120, work)
    rows = _csv_rows(Path(f"{prefix}_stats.csv"))
    chat, ttft = rows["chat"], rows["ttft"]
    return {"rps": float(chat["Requests/s"]), "ok": int(chat["Request Count"]) -
            int(chat["Failure Count"]), "ttft_s": float(ttft["Average Response Time"]) / 1000,
            "wall_s": wall_s, "cpu_s": cpu_s}  # fmt: skip


def _csv_rows(path: Path) -> dict[str, dict[str, str]]:
    import csv

    with path.open(newline="") as file:
        return {row["Name"]: row for row in csv.DictReader(file)}


def run_guidellm(url: str, ns: argparse.Namespace, work: Path) -> dict[str, Any]:
    data = work / "guidellm_data.json"
    rows = max(200, int(ns.users * ns.duration * 4))  # more prompts than it can send
    data.write_text(json.dumps([{"prompt": PROMPT}] * rows))
    scenario = {"spec": {
        "backend": {"kind": "openai_http", "target": url, "model": MODEL, "api_key": KEY,
                    "request_format": "/v1/chat/completions", "max_tokens": 2048},
        "profile": {"kind": "concurrent", "streams": ns.users},
        "data": [{"kind": "json_file", "path": str(data)}],
        "constraints": [{"kind": "max_duration", "seconds": ns.duration}],
    }}  # fmt: skip
    spec = work / "guidellm_scenario.json"
    spec.write_text(json.dumps(scenario))
    out = work / "guidellm_out.json"
    exe = shutil.which("guidellm") or str(Path(sys.executable).with_name("guidellm"))
    cmd = [exe, "run", "--scenario", str(spec), "--output", f"kind=json,path={out}",
           "--disable-progress", "--disable-console"]  # fmt: skip
    wall_s, cpu_s = _run(cmd, ns.duration + 300, work)
    bench = json.loads(out.read_text())["benchmarks"][0]
    metrics = bench["metrics"]
    ok = int(metrics["request_totals"]["successful"])
    return {"rps": ok / bench["duration"], "ok": ok,
            "ttft_s": metrics["time_to_first_token_ms"]["successful"]["mean"] / 1000,
            "wall_s": wall_s, "cpu_s": cpu_s}  # fmt: skip


def _installed(module: str, exe: str | None = None) -> bool:
    import importlib.util

    found = importlib.util.find_spec(module) is not None
    return found or (exe is not None and shutil.which(exe) is not None)


TOOLS: dict[str, tuple[Callable[[str, argparse.Namespace, Path], dict[str, Any]], bool]] = {
    "harness": (run_harness, True),
    "locust": (run_locust, _installed("locust")),
    "guidellm": (run_guidellm, _installed("guidellm", "guidellm")),
}
NOT_DRIVEN = {"aiperf": ("aiperf", "aiperf"), "vllm bench": ("vllm", "vllm"),
              "genai-bench": ("genai_bench", "genai-bench")}  # fmt: skip


def _reset(url: str) -> None:
    request = urllib.request.Request(f"{url}/_mock/reset", method="POST")
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request) as answer:
        answer.read()


def _mock_count(url: str) -> int:
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
        f"{url}/_mock/stats"
    ) as answer:
        stats = json.loads(answer.read())
    return sum(int(n) for n in stats["requests"].get("openai.chat", {}).values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--duration", type=int, default=15, help="seconds per tool run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--latency", type=float, default=0.2, help="the mock's fixed latency")
    parser.add_argument("--tokens-per-s", type=float, default=1000.0)
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    ns = parser.parse_args(argv)
    ns.expected_tokens = 350  # about what the mock answers the recipe prompt with
    tools = [t for t in ns.tools.split(",") if t in TOOLS and TOOLS[t][1]]
    skipped = [t for t in ns.tools.split(",") if t not in tools]
    skipped += [name for name, (module, exe) in NOT_DRIVEN.items() if _installed(module, exe)]
    injected_ttft_s = ns.latency + split_tokens(ns.expected_tokens)[0] / ns.tokens_per_s
    results: dict[str, list[dict[str, Any]]] = {tool: [] for tool in tools}
    config = {"latency": ns.latency, "tokens_per_s": ns.tokens_per_s}  # any key
    with EmbeddedMock(config) as mock, tempfile.TemporaryDirectory() as tmp:
        for round_no in range(ns.rounds):
            order = tools[round_no % len(tools) :] + tools[: round_no % len(tools)]
            for tool in order:
                _reset(mock.url)
                work = Path(tmp) / f"{tool}-{round_no}"
                work.mkdir()
                row = TOOLS[tool][0](mock.url, ns, work)
                row["mock_requests"] = _mock_count(mock.url)
                results[tool].append(row)
                print(f"round {round_no + 1} {tool}: {row}", file=sys.stderr)
    rows = [_row(tool, runs, injected_ttft_s) for tool, runs in results.items()]
    _print(rows, ns, injected_ttft_s, skipped)
    if ns.json:
        ns.json.write_text(
            json.dumps(
                {
                    "machine": machine_info(),
                    "args": vars(ns) | {"json": str(ns.json)},
                    "rows": rows,
                    "runs": results,
                },
                indent=2,
                default=str,
            )
        )
    return 0


def _row(tool: str, runs: list[dict[str, Any]], injected_s: float) -> dict[str, Any]:
    med = statistics.median
    return {
        "tool": tool,
        "runs": len(runs),
        "rps": med(r["rps"] for r in runs),
        "mock_requests": med(r["mock_requests"] for r in runs),
        "cpu_ms_per_request": med(1000 * r["cpu_s"] / max(r["mock_requests"], 1) for r in runs),
        "ttft_ms": med(1000 * r["ttft_s"] for r in runs),
        "ttft_error_ms": med(1000 * (r["ttft_s"] - injected_s) for r in runs),
    }


def _print(rows: list[dict[str, Any]], ns: argparse.Namespace, injected_s: float,
           skipped: list[str]) -> None:  # fmt: skip
    print(f"users {ns.users}, {ns.duration} s per run, {ns.rounds} rounds (median shown), "
          f"injected TTFT {injected_s * 1000:.1f} ms; {os.cpu_count()} CPUs")  # fmt: skip
    print("| tool | requests/s | mock-counted requests | CPU ms / request | TTFT mean ms "
          "| TTFT error ms |\n|---|---:|---:|---:|---:|---:|")  # fmt: skip
    for r in rows:
        cells = (
            r["tool"],
            f"{r['rps']:.1f}",
            f"{r['mock_requests']:.0f}",
            f"{r['cpu_ms_per_request']:.2f}",
            f"{r['ttft_ms']:.1f}",
            f"{r['ttft_error_ms']:+.1f}",
        )
        print("| " + " | ".join(cells) + " |")
    if skipped:
        print(f"not run: {', '.join(skipped)}")


if __name__ == "__main__":
    raise SystemExit(main())
