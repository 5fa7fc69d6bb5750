"""A recipe app written like the real one, served against the mock without a code change.

The app (a FastAPI service) asks Gemini in its prompt for a JSON document
``{answer, details{recipe_name, ingredients, ...}}`` and reads the answer with
``json.loads``. It is pointed at the mock only through the environment
(``GOOGLE_GEMINI_BASE_URL``, ``GEMINI_API_KEY``), and served twice: once answered by the
prompt-skeleton rule, once by a response template.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from google import genai
from pydantic import BaseModel

from mock_gemini.config import MockConfig
from mock_gemini.embedded import MockHandle, start_mock_in_thread

PROMPT = """You are a friendly chef. Suggest one recipe using these ingredients: {ingredients}.
Respond ONLY with JSON in exactly this format, no prose, no Markdown:
{{
  "answer": "a short friendly reply to the user",
  "details": {{
    "recipe_name": "Name of the recipe",
    "ingredients": ["ingredient 1", "ingredient 2"],
    "instructions": ["step 1", "step 2"],
    "prep_time_minutes": 10,
    "servings": 2
  }}
}}
Field notes:
- recipe_name: Name of the recipe (string)
- ingredients: List of ingredients (array of strings)
- instructions: Steps in order (array of strings)
"""
TEMPLATES = """
[[template]]
prompt = '(?i)suggest one recipe'
model = "gemini-2.5-*"
text = '''{"answer": "From the template!", "details": {"recipe_name": "Template Special",
  "ingredients": ${ingredients_json}, "instructions": ["Cook ${first_ingredient}."],
  "prep_time_minutes": 5, "servings": 1}}'''
"""


class RecipeRequest(BaseModel):
    ingredients: list[str]


def create_app() -> FastAPI:
    """The app under test: nothing in it knows about the mock."""
    app = FastAPI()

    @app.post("/recipes")
    def recipes(request: RecipeRequest) -> dict[str, Any]:
        client = genai.Client(api_key=os.environ["GEMINI_API_KEY"])
        prompt = PROMPT.format(ingredients=", ".join(request.ingredients))
        response = client.models.generate_content(model="gemini-2.5-flash", contents=prompt)
        data = json.loads(response.text or "")
        return {"answer": data["answer"], "recipe": data["details"]}

    return app


def call_app(url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", url)  # google-genai reads it
    monkeypatch.setenv("GEMINI_API_KEY", "test-key")
    with TestClient(create_app()) as client:
        response = client.post("/recipes", json={"ingredients": ["chicken", "rice", "garlic"]})
    assert response.status_code == 200, response.text
    return response.json()


def test_app_works_by_the_prompt_skeleton_rule(
    mock: MockHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = call_app(mock.url, monkeypatch)
    recipe = body["recipe"]
    assert isinstance(body["answer"], str) and body["answer"]
    assert set(recipe) == {
        "recipe_name", "ingredients", "instructions", "prep_time_minutes", "servings",
    }  # fmt: skip
    assert recipe["ingredients"][:3] == ["chicken", "rice", "garlic"]  # not the field notes
    assert all(isinstance(step, str) for step in recipe["instructions"])
    assert isinstance(recipe["prep_time_minutes"], int) and isinstance(recipe["servings"], int)


def test_app_works_with_a_response_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    templates = tmp_path / "templates.toml"
    templates.write_text(TEMPLATES)
    config = MockConfig(response_templates=str(templates))
    with start_mock_in_thread(config, "127.0.0.1", 0) as mock:
        body = call_app(mock.url, monkeypatch)
        stats = mock.stats()
    assert body["answer"] == "From the template!"
    assert body["recipe"]["recipe_name"] == "Template Special"
    assert body["recipe"]["ingredients"] == ["chicken", "rice", "garlic"]
    assert body["recipe"]["instructions"] == ["Cook chicken."]
    assert stats["requests"]["generateContent"] == {"200": 1}
