"""The recipe API: ``create_app(settings)`` builds a FastAPI app for one mode.

Endpoints: ``POST /recipes/generate``, ``POST /recipes/generate-batch``, ``GET /health``,
``GET /stats``. Clients and the resilience policy are created by the lifespan, at
startup, and closed at shutdown; nothing is built at import time::

    app = create_app(ServiceSettings(target, mode="threaded"))
    uvicorn.run(app, host="127.0.0.1", port=8000)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import BackgroundTasks, FastAPI, HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from harness.service.core import Generation, ServiceCore, log_generation
from harness.service.limits import BodyLimit
from harness.service.models import (
    BATCH_ERRORS,
    BODY_TOO_LARGE,
    GENERATE_ERRORS,
    MAX_BATCH,
    Batch,
    BatchAnswer,
    GenerateBody,
    Health,
    RecipeSet,
    Stats,
    on_validation_error,
)
from harness.service.modes import AsyncMode, BlockingMode, Mode, ThreadedMode
from harness.service.settings import ServiceSettings

Answer = dict[str, Any] | JSONResponse

# The answers are built as dicts (no validation on the hot path) and declared here, for
# the OpenAPI document, with every error status each operation can return.
ONE: dict[str, Any] = {
    "response_model": None,
    "responses": {200: {"model": RecipeSet}, **GENERATE_ERRORS},
}
BATCH: dict[str, Any] = {
    "response_model": None,
    "responses": {200: {"model": BatchAnswer}, **BATCH_ERRORS},
}


def create_app(settings: ServiceSettings) -> FastAPI:
    """A new app with its own state: two apps built from the same settings share nothing."""
    core = ServiceCore(settings)
    mode = _build_mode(core)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        core.open()
        await mode.start()
        try:
            yield
        finally:
            await mode.close()

    app = FastAPI(
        title=f"Recipe service ({settings.mode})", lifespan=lifespan, responses=BODY_TOO_LARGE
    )
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_middleware(BodyLimit, max_body_bytes=settings.max_body_bytes)
    _add_status_routes(app, core)
    if isinstance(mode, AsyncMode):
        _add_async_routes(app, core, mode)
    elif isinstance(mode, ThreadedMode):
        _add_threaded_routes(app, core, mode)
    else:
        _add_blocking_routes(app, core, mode)
    return app


def _build_mode(core: ServiceCore) -> Mode:
    if core.settings.mode == "async":
        return AsyncMode(core)
    return ThreadedMode(core) if core.settings.mode == "threaded" else BlockingMode(core)


def answer_one(core: ServiceCore, generation: Generation, tasks: BackgroundTasks) -> Answer:
    """The body of ``/recipes/generate``; a failed generation is a 502 with a JSON detail."""
    core.stats.served()
    tasks.add_task(log_generation, generation.log_fields(core.settings.mode))
    if generation.outcome == "failed":
        # A returned Response (unlike a raised HTTPException) still runs the log task.
        return JSONResponse(status_code=502, content={"detail": generation.failure_detail()})
    return generation.to_json()


def answer_batch(
    core: ServiceCore, generations: list[Generation], tasks: BackgroundTasks, concurrent: bool
) -> dict[str, Any]:
    """The body of ``/recipes/generate-batch``: every item's answer, failed ones included."""
    core.stats.served()
    for generation in generations:
        tasks.add_task(log_generation, generation.log_fields(core.settings.mode))
    return {
        "recipe_sets": [generation.to_json() for generation in generations],
        "total_recipes": sum(len(generation.recipes) for generation in generations),
        "concurrent_processing": concurrent,
    }


def check_batch(bodies: list[GenerateBody]) -> None:
    if len(bodies) > MAX_BATCH:
        raise HTTPException(
            status_code=400, detail=f"Maximum {MAX_BATCH} requests per batch, got {len(bodies)}"
        )


def _add_status_routes(app: FastAPI, core: ServiceCore) -> None:
    @app.get("/health", response_model=None, responses={200: {"model": Health}})
    async def health() -> dict[str, Any]:
        return {"status": "ok", "mode": core.settings.mode}

    @app.get("/stats", response_model=None, responses={200: {"model": Stats}})
    async def stats() -> dict[str, Any]:
        return core.snapshot()


def _add_async_routes(app: FastAPI, core: ServiceCore, mode: AsyncMode) -> None:
    @app.post("/recipes/generate", **ONE)
    async def generate(body: GenerateBody, tasks: BackgroundTasks) -> Answer:
        return answer_one(core, await mode.generate(body.to_request()), tasks)

    @app.post("/recipes/generate-batch", **BATCH)
    async def generate_batch(bodies: Batch, tasks: BackgroundTasks) -> dict[str, Any]:
        check_batch(bodies)
        generations = await mode.generate_batch([body.to_request() for body in bodies])
        return answer_batch(core, generations, tasks, mode.concurrent_batch)


def _add_threaded_routes(app: FastAPI, core: ServiceCore, mode: ThreadedMode) -> None:
    # Plain ``def``: FastAPI runs these in its thread pool.
    @app.post("/recipes/generate", **ONE)
    def generate(body: GenerateBody, tasks: BackgroundTasks) -> Answer:
        return answer_one(core, mode.generate(body.to_request()), tasks)

    @app.post("/recipes/generate-batch", **BATCH)
    def generate_batch(bodies: Batch, tasks: BackgroundTasks) -> dict[str, Any]:
        check_batch(bodies)
        generations = mode.generate_batch([body.to_request() for body in bodies])
        return answer_batch(core, generations, tasks, mode.concurrent_batch)


def _add_blocking_routes(app: FastAPI, core: ServiceCore, mode: BlockingMode) -> None:
    # ``async def`` calling blocking code: the event loop stops while Gemini answers.
    @app.post("/recipes/generate", **ONE)
    async def generate(body: GenerateBody, tasks: BackgroundTasks) -> Answer:
        return answer_one(core, mode.generate(body.to_request()), tasks)

    @app.post("/recipes/generate-batch", **BATCH)
    async def generate_batch(bodies: Batch, tasks: BackgroundTasks) -> dict[str, Any]:
        check_batch(bodies)
        generations = mode.generate_batch([body.to_request() for body in bodies])
        return answer_batch(core, generations, tasks, mode.concurrent_batch)
