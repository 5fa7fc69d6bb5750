"""JSON asked for in the prompt: schemas, examples and relaxed skeletons are followed."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from mock_gemini.content import compose_answer
from mock_gemini.json_shape import prompt_schema
from mock_gemini.recipes import find_ingredients

KEY = {"x-goog-api-key": "test-key"}
PATH = "/v1beta/models/gemini-2.5-flash:generateContent"
SKELETON = "Reply in JSON: {answer, details{recipe_name, ingredients, servings, …}}"
EXAMPLE = (
    'Return JSON like {"answer": "short", "details": {"recipe_name": "Name of the recipe", '
    '"ingredients": ["item"], "cook_time_minutes": 10, "rating": 4.5, "vegan": true}}'
)
SCHEMA_PROMPT = "Answer with JSON that matches this json_schema:\n" + json.dumps(
    {
        "type": "object",
        "properties": {"dish": {"type": "string"}, "portions": {"type": "integer"}},
        "required": ["dish", "portions"],
    },
    indent=2,
)


def test_relaxed_skeleton_becomes_a_schema() -> None:
    schema = prompt_schema(SKELETON)
    assert schema is not None
    details = schema["properties"]["details"]["properties"]
    assert details["ingredients"] == {"type": "array", "items": {"type": "string"}}
    assert details["servings"] == {"type": "integer"} and details["recipe_name"]["type"] == "string"


@pytest.mark.parametrize(
    ("prompt", "check"),
    [
        pytest.param(
            SKELETON + "\nIngredients: leek, beans",
            lambda v: (
                v["details"]["ingredients"][:2] == ["leek", "beans"]
                and isinstance(v["details"]["servings"], int)
            ),
            id="skeleton",
        ),
        pytest.param(
            EXAMPLE + "\nIngredients: leek",
            lambda v: (
                isinstance(v["details"]["cook_time_minutes"], int)
                and isinstance(v["details"]["rating"], float)
                and isinstance(v["details"]["vegan"], bool)
            ),
            id="example",
        ),
        pytest.param(SCHEMA_PROMPT, lambda v: set(v) == {"dish", "portions"}, id="json-schema"),
    ],
)
def test_prompt_asking_for_json_gets_that_shape(prompt: str, check: Any) -> None:
    value = json.loads(compose_answer(prompt, 0).text)
    assert check(value), value


def test_prompt_without_json_is_still_prose() -> None:
    text = compose_answer("Ingredients: leek", 0).text
    assert text.startswith("**")


async def test_mime_type_without_schema_follows_the_prompt_skeleton(
    http: aiohttp.ClientSession, mock_url: str
) -> None:
    body = {
        "contents": [{"parts": [{"text": "Give me {answer, details{recipe_name}}. tofu"}]}],
        "generationConfig": {"responseMimeType": "application/json"},
    }
    async with http.post(mock_url + PATH, json=body, headers=KEY) as response:
        answer = await response.json()
    value = json.loads(answer["candidates"][0]["content"]["parts"][0]["text"])
    assert set(value) == {"answer", "details"} and "tofu" in value["details"]["recipe_name"].lower()


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        pytest.param(
            "- ingredients: List of ingredients (array of strings)\nIngredients: beef, leek",
            ["beef", "leek"],
            id="template-line-first",
        ),
        pytest.param(
            "Ingredients: salmon, lemon\n- ingredients: array of strings",
            ["salmon", "lemon"],
            id="template-line-last",
        ),
        pytest.param(
            '{"ingredients": ["..."]}\nI have tofu and broccoli', ["tofu", "broccoli"], id="json"
        ),
        pytest.param(
            "ingredients: a thing\ningredients: eggs, rice", ["eggs", "rice"], id="most-foods"
        ),
    ],
)
def test_ingredients_come_from_the_user_not_the_template(prompt: str, expected: list[str]) -> None:
    assert find_ingredients(prompt)[: len(expected)] == expected


@pytest.mark.parametrize(
    "prompt",
    [
        pytest.param("JSON please: " + "{a: " * 5000 + "}" * 5000, id="deep-relaxed"),
        pytest.param("JSON please: " + '{"a": ' * 5000 + "1" + "}" * 5000, id="deep-json"),
        pytest.param("JSON: {" * 3000, id="unbalanced"),
        pytest.param("JSON: {a: [b: {c}], ,, : }", id="garbage"),
        pytest.param(
            'JSON: {"type": "object", "properties": {"a": {"type": "array", "minItems": '
            '100000000, "minLength": 100000000}}}',
            id="huge-min-items",
        ),
    ],
)
def test_hostile_prompts_still_get_an_answer(prompt: str) -> None:
    assert json.loads(compose_answer(prompt, 0).text) is not None
