"""The HTTP bodies of the recipe API: pydantic validation in, JSON-ready dicts out.

body = GenerateBody.model_validate({"ingredients": ["egg"], "cuisine_type": "French"})
body.to_request()  # RecipeRequest(("egg",), "French", ())
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StringConstraints

from harness.recipes import RecipeRequest

MAX_INGREDIENTS = 30
MAX_PREFERENCES = 30
MAX_TEXT_CHARS = 100
MAX_BATCH = 5

Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT_CHARS)
]


class GenerateBody(BaseModel):
    """``{"ingredients": [...], "cuisine_type"?: str, "dietary_preferences"?: [...]}``."""

    ingredients: list[Text] = Field(min_length=1, max_length=MAX_INGREDIENTS)
    cuisine_type: Text | None = None
    dietary_preferences: list[Text] = Field(default_factory=list, max_length=MAX_PREFERENCES)

    def to_request(self) -> RecipeRequest:
        return RecipeRequest(
            tuple(self.ingredients), self.cuisine_type, tuple(self.dietary_preferences)
        )


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def validation_message(errors: list[dict[str, Any]]) -> str:
    """One line naming every bad field: ``body.ingredients: List should have at least 1 item``."""
    return "; ".join(f"{_location(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in errors)


async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 with a one-line ``detail`` and the errors (without echoing the input back)."""
    assert isinstance(exc, RequestValidationError)
    errors = [dict(e) for e in exc.errors()]
    shown = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in errors
    ]
    return JSONResponse(
        status_code=422, content={"detail": validation_message(errors), "errors": shown}
    )
