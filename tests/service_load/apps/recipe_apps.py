"""A small recipe app written the common ways, one endpoint per way (for ``load`` tests).

Each endpoint asks Gemini (``$GOOGLE_GEMINI_BASE_URL``, the embedded mock in the tests)
for a recipe and answers ``{"answer": text}``, or ``{"error": …}`` with status 200 when the
upstream failed: the shape a status-only check would count as a success.

    /sync-in-async   requests.post inside ``async def``  (blocks the event loop)
    /sync-in-def     requests.post inside ``def``        (FastAPI's thread pool)
    /async           httpx.AsyncClient inside ``async def``
    /semaphore       httpx.AsyncClient under asyncio.Semaphore(3)
    /executor        requests.post via loop.run_in_executor on 5 worker threads
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import requests
from fastapi import FastAPI

app = FastAPI()
BASE_URL = os.environ.get("GOOGLE_GEMINI_BASE_URL", "http://127.0.0.1:9")
URL = f"{BASE_URL}/v1beta/models/gemini-2.5-flash:generateContent"
HEADERS = {"x-goog-api-key": "test-app-key", "Content-Type": "application/json"}
SEMAPHORE = asyncio.Semaphore(3)
EXECUTOR = ThreadPoolExecutor(5)
SESSION = requests.Session()
SESSION.trust_env = False


def _body(ingredients: list[str]) -> dict[str, Any]:
    prompt = f"Give me a recipe with {', '.join(ingredients)}."
    return {"contents": [{"parts": [{"text": prompt}]}]}


def _answer(status: int, data: dict[str, Any]) -> dict[str, Any]:
    if status != 200:
        return {"error": f"upstream {status}"}
    return {"answer": data["candidates"][0]["content"]["parts"][0]["text"]}


def _blocking(ingredients: list[str]) -> dict[str, Any]:
    resp = SESSION.post(URL, json=_body(ingredients), headers=HEADERS, timeout=30)
    return _answer(resp.status_code, resp.json())


async def _async(client: httpx.AsyncClient, ingredients: list[str]) -> dict[str, Any]:
    resp = await client.post(URL, json=_body(ingredients), headers=HEADERS, timeout=30)
    return _answer(resp.status_code, resp.json())


CLIENT = httpx.AsyncClient(trust_env=False, limits=httpx.Limits(max_connections=1000))


@app.post("/sync-in-async")
async def sync_in_async(body: dict[str, Any]) -> dict[str, Any]:
    return _blocking(body.get("ingredients", ["rice"]))


@app.post("/sync-in-def")
def sync_in_def(body: dict[str, Any]) -> dict[str, Any]:
    return _blocking(body.get("ingredients", ["rice"]))


@app.post("/async")
async def async_client(body: dict[str, Any]) -> dict[str, Any]:
    return await _async(CLIENT, body.get("ingredients", ["rice"]))


@app.post("/semaphore")
async def semaphore(body: dict[str, Any]) -> dict[str, Any]:
    async with SEMAPHORE:
        return await _async(CLIENT, body.get("ingredients", ["rice"]))


@app.post("/executor")
async def executor(body: dict[str, Any]) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(EXECUTOR, _blocking, body.get("ingredients", ["rice"]))


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
