"""The HTTP bodies of the recipe API: pydantic validation in, JSON-ready dicts out.

body = GenerateBody.model_validate({"ingredients": ["egg"], "cuisine_type": "French"})
body.to_request()  # RecipeRequest(("egg",), "French", ())
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Body, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StringConstraints

from harness.recipes import RecipeRequest

MAX_INGREDIENTS = 30
MAX_PREFERENCES = 30
MAX_TEXT_CHARS = 100
MAX_BATCH = 5

ASCII_SPACE = " \t\n\r\f\v"
# What the OpenAPI says is what is checked: 1-100 characters as sent, at least one of them
# not ASCII white space. (Stripping before checking the length, as before, accepted
# strings the schema calls too long and refused ones it calls valid, such as "\t".)
# Spelled out, not ``\S``: JSON Schema's (ECMA) and pydantic's (Rust) ``\s`` differ.
Text = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_TEXT_CHARS, pattern=f"[^{ASCII_SPACE}]"),
]


class GenerateBody(BaseModel):
    """``{"ingredients": [...], "cuisine_type"?: str, "dietary_preferences"?: [...]}``."""

    ingredients: list[Text] = Field(min_length=1, max_length=MAX_INGREDIENTS)
    cuisine_type: Text | None = None
    dietary_preferences: list[Text] = Field(default_factory=list, max_length=MAX_PREFERENCES)

    def to_request(self) -> RecipeRequest:
        """The domain request, each text without its surrounding ASCII white space."""
        cuisine = self.cuisine_type.strip(ASCII_SPACE) if self.cuisine_type else None
        return RecipeRequest(
            _stripped(self.ingredients), cuisine, _stripped(self.dietary_preferences)
        )


Batch = Annotated[list[GenerateBody], Body(json_schema_extra={"maxItems": MAX_BATCH})]
"""The batch body. ``maxItems`` is declared, not enforced by validation: the endpoint
answers a longer batch with 400 and the reason (:func:`harness.service.app.check_batch`)."""


def _stripped(texts: list[str]) -> tuple[str, ...]:
    return tuple(text.strip(ASCII_SPACE) for text in texts)


class RecipeOut(BaseModel):
    """One recipe in an answer (:meth:`harness.recipes.Recipe.to_json`)."""

    title: str
    cuisine: str | None
    ingredients: list[str]
    steps: list[str]
    prep_time_minutes: int
    cook_time_minutes: int
    servings: int


class RecipeSet(BaseModel):
    """``POST /recipes/generate``'s 200, and each item of a batch; ``error`` unless ok."""

    recipes: list[RecipeOut]
    status: Literal["success", "fallback", "failed"]
    outcome: Literal["ok", "fallback", "failed"]
    attempts: int
    error: str | None = None


class BatchAnswer(BaseModel):
    """``POST /recipes/generate-batch``'s 200: every item's answer, failed ones included."""

    recipe_sets: list[RecipeSet]
    total_recipes: int
    concurrent_processing: bool


class Health(BaseModel):
    status: Literal["ok"]
    mode: str


class Stats(BaseModel):
    """``GET /stats``: generations in flight now and at peak, by outcome, since startup."""

    mode: str
    limit: int
    in_flight: int
    peak_in_flight: int
    breaker_state: str
    uptime_s: float
    outcomes: dict[str, int]
    requests_served: int


class ErrorMessage(BaseModel):
    """The service's error shape: 400 (bad batch, unparseable body), 413 (body too large)."""

    detail: str


class FailureDetail(BaseModel):
    message: str
    outcome: Literal["failed"]
    error: str | None
    attempts: int


class Failure(BaseModel):
    """502: the generation failed and no fallback was allowed (no upstream text inside)."""

    detail: FailureDetail


def _error(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"model": model, "description": description}


BODY_TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: _error(ErrorMessage, "Request body over --max-body-bytes")
}
"""Declared on every operation: the body cap applies to every request."""
GENERATE_ERRORS = {
    400: _error(ErrorMessage, "The body is not parseable"),
    502: _error(Failure, "Generation failed and no fallback was allowed"),
}
BATCH_ERRORS = {400: _error(ErrorMessage, "More than 5 items, or the body is not parseable")}


async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 as the OpenAPI declares it (``HTTPValidationError``): ``{"detail": [{loc, msg,
    type}, ...]}``, one item per bad field, without echoing the input back."""
    assert isinstance(exc, RequestValidationError)
    shown = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type"))}
        for e in exc.errors()
    ]
    return JSONResponse(status_code=422, content={"detail": shown})
