"""How long one hostile request stalls everyone else (not a test: run it by hand, ~30 s).

    .venv/bin/python tests/mock_gemini/probe_loop_lag.py

Starts a mock in a thread, then for each case sends one hostile request from a thread
while timing tiny generateContent requests back to back on another connection. Prints
the hostile request's status and time, and the slowest and median tiny request.
"""

from __future__ import annotations

import http.client
import json
import threading
import time

from mock_gemini import MockConfig, start_mock_in_thread

GENERATE = "/v1beta/models/gemini-2.5-flash:generateContent"
EMBED = "/v1beta/models/gemini-embedding-001:batchEmbedContents"
HEADERS = {"x-goog-api-key": "k", "Content-Type": "application/json"}
SMALL = json.dumps({"contents": [{"parts": [{"text": "Ingredients: rice"}]}]})
MIB_20 = 20 * 1024 * 1024


def _generate(config: dict[str, object] | None = None, text: str = "hi") -> bytes:
    body: dict[str, object] = {"contents": [{"parts": [{"text": text}]}]}
    if config:
        body["generationConfig"] = {"responseMimeType": "application/json", **config}
    return json.dumps(body).encode()


def _batch(count: int) -> bytes:
    item = {"model": "models/gemini-embedding-001"}
    requests = [{**item, "content": {"parts": [{"text": f"rice {i}"}]}} for i in range(count)]
    return json.dumps({"requests": requests}).encode()


def cases() -> dict[str, tuple[str, bytes]]:
    """Name -> (path, body) of each hostile request."""
    nested = {"type": "ARRAY", "minItems": 10, "items": {"type": "INTEGER"}}
    heavy = {"responseSchema": {"type": "ARRAY", "minItems": 900, "items": nested}}
    huge = {"responseSchema": {"type": "ARRAY", "minItems": 10**9}}
    prompt = "Ingredients: rice, " + "a, " * (MIB_20 // 3 - 100)
    zeros = _generate()[:-1] + b', "labels": [' + b"0," * (MIB_20 // 2 - 100) + b"0]}"
    return {
        "20 MiB of zeros": (GENERATE, zeros),
        "20 MiB prompt": (GENERATE, _generate(text=prompt)),
        "10,000-item batch": (EMBED, _batch(10_000)),
        "100 distinct embeddings": (EMBED, _batch(100)),
        "9,901-value schema": (GENERATE, _generate(heavy)),
        "minItems 1e9": (GENERATE, _generate(huge)),
    }


def _send(port: int, path: str, body: bytes, out: list[tuple[int, float]]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.monotonic()
    connection.request("POST", path, body, HEADERS)
    response = connection.getresponse()
    response.read()
    out.append((response.status, time.monotonic() - started))


def probe(port: int, path: str, body: bytes) -> str:
    """One case: the hostile answer and the tiny requests' latencies, as one line."""
    out: list[tuple[int, float]] = []
    sender = threading.Thread(target=_send, args=(port, path, body, out))
    sender.start()
    lags: list[float] = []
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while sender.is_alive() or not lags:  # at least one, even after an instant refusal
        started = time.monotonic()
        connection.request("POST", GENERATE, SMALL, HEADERS)
        connection.getresponse().read()
        lags.append(time.monotonic() - started)
        time.sleep(0.005)
    sender.join()
    status, took_s = out[0]
    lags.sort()
    return (
        f"{status} in {took_s:.2f} s; {len(lags)} tiny requests meanwhile, "
        f"slowest {lags[-1] * 1000:.1f} ms, median {lags[len(lags) // 2] * 1000:.1f} ms"
    )


def main() -> None:
    """Run every case against one mock (the workers are warmed up first)."""
    with start_mock_in_thread(MockConfig()) as mock:
        port = int(mock.url.rsplit(":", 1)[1])
        all_cases = cases()
        probe(port, *all_cases["9,901-value schema"])  # start the worker processes
        for name, (path, body) in all_cases.items():
            print(f"{name:>24}: {probe(port, path, body)}", flush=True)


if __name__ == "__main__":
    main()
