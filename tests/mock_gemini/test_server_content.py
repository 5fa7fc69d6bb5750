"""What the mock says: recipes for the prompt's ingredients, JSON mode, schemas, token rule."""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from mock_gemini.app import RunningServer
from mock_gemini.content import compose_answer, count_tokens, recipe_count
from mock_gemini.recipes import find_ingredients

StartMock = Callable[..., Awaitable[RunningServer]]
KEY = {"x-goog-api-key": "test-key"}
PATH = "/v1beta/models/gemini-2.5-flash:generateContent"
RECIPE_KEYS = {"title", "cuisine", "ingredients", "steps", "prep_time_minutes"}
RECIPE_KEYS |= {"cook_time_minutes", "servings"}


def body(text: str, **config: Any) -> dict[str, Any]:
    request: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
    if config:
        request["generationConfig"] = config
    return request


async def generate(http: aiohttp.ClientSession, url: str, request: dict[str, Any]) -> Any:
    async with http.post(url + PATH, json=request, headers=KEY) as response:
        assert response.status == 200, await response.text()
        return await response.json()


@pytest.mark.parametrize(
    ("chars", "tokens"),
    [pytest.param(0, 0, id="empty"), pytest.param(1, 1, id="one"), pytest.param(8, 2, id="eight"),
     pytest.param(9, 3, id="nine")],
)  # fmt: skip
def test_token_rule_is_ceil_of_chars_over_four(chars: int, tokens: int) -> None:
    assert count_tokens("x" * chars) == tokens == math.ceil(chars / 4)


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        pytest.param("Ingredients: chicken, rice and garlic.", ["chicken", "rice", "garlic"],
                     id="listed"),
        pytest.param("ingredients = Tofu; Soy Sauce", ["tofu", "soy sauce"], id="semicolon"),
        pytest.param("Something with salmon and rice please", ["rice", "salmon"], id="mentioned"),
    ],
)  # fmt: skip
def test_ingredients_are_found_in_the_prompt(prompt: str, expected: list[str]) -> None:
    assert find_ingredients(prompt) == expected


@pytest.mark.parametrize(
    ("prompt", "count"),
    [pytest.param("Give me 5 recipes", 5, id="digits"),
     pytest.param("two quick vegan recipes", 2, id="words"),
     pytest.param("a recipe", 3, id="default")],
)  # fmt: skip
def test_recipe_count_follows_the_prompt(prompt: str, count: int) -> None:
    assert recipe_count(prompt) == count


def test_answers_are_deterministic_for_prompt_and_seed() -> None:
    first = compose_answer("Ingredients: beef, onion", 1)
    assert compose_answer.__wrapped__("Ingredients: beef, onion", 1) == first
    assert compose_answer.__wrapped__("Ingredients: beef, onion", 2) != first
    assert "beef" in first.text and "onion" in first.text


async def test_text_answer_uses_the_ingredients_and_counts_tokens(
    http: aiohttp.ClientSession, mock_url: str, gemini: Any
) -> None:
    answer = await generate(http, mock_url, body("Ingredients: quinoa, kale. 1 recipe"))
    text = gemini.answer_text(answer)
    assert "quinoa" in text and "kale" in text
    usage = answer["usageMetadata"]
    assert usage["candidatesTokenCount"] == math.ceil(len(text) / 4)
    assert usage["promptTokenCount"] == math.ceil(len("Ingredients: quinoa, kale. 1 recipe") / 4)


async def test_request_seed_changes_the_answer_deterministically(
    http: aiohttp.ClientSession, mock_url: str, gemini: Any
) -> None:
    texts = []
    for seed in (1, 1, 2):
        answer = await generate(http, mock_url, body("Ingredients: corn", seed=seed))
        texts.append(gemini.answer_text(answer))
    assert texts[0] == texts[1] != texts[2]


async def test_json_mode_without_schema_is_a_recipe_list(
    http: aiohttp.ClientSession, mock_url: str, gemini: Any
) -> None:
    request = body("Ingredients: chicken, rice. 2 recipes", responseMimeType="application/json")
    recipes = json.loads(gemini.answer_text(await generate(http, mock_url, request)))
    assert len(recipes) == 2
    for recipe in recipes:
        assert set(recipe) == RECIPE_KEYS
        assert {"chicken", "rice"} <= set(recipe["ingredients"])
        assert isinstance(recipe["servings"], int) and recipe["steps"]


OPENAPI_SCHEMA = {
    "type": "ARRAY",
    "items": {
        "type": "OBJECT",
        "properties": {
            "recipe_name": {"type": "STRING"},
            "difficulty": {"type": "STRING", "enum": ["easy", "hard"]},
            "ingredients": {"type": "ARRAY", "items": {"type": "STRING"}, "maxItems": "3"},
            "prep_time_minutes": {"type": "INTEGER"},
            "calories": {"type": "NUMBER", "minimum": 100, "maximum": 900},
            "vegetarian": {"type": "BOOLEAN"},
        },
        "required": ["recipe_name", "ingredients"],
        "propertyOrdering": ["recipe_name", "ingredients"],
    },
}
JSON_SCHEMA = {
    "$defs": {
        "Recipe": {
            "type": "object",
            "properties": {
                "title": {"type": "string"},
                "servings": {"type": "integer", "minimum": 1},
                "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
                "notes": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            },
            "required": ["title", "servings", "tags"],
        }
    },
    "type": "object",
    "properties": {"recipes": {"type": "array", "items": {"$ref": "#/$defs/Recipe"}}},
    "required": ["recipes"],
}


async def test_response_schema_upper_case_types_are_honoured(
    http: aiohttp.ClientSession, mock_url: str, gemini: Any
) -> None:
    request = body(
        "Ingredients: eggs, spinach. 2 recipes",
        response_mime_type="application/json",
        response_schema=OPENAPI_SCHEMA,
    )
    value = json.loads(gemini.answer_text(await generate(http, mock_url, request)))
    assert isinstance(value, list) and len(value) == 2
    first = value[0]
    assert list(first)[:2] == ["recipe_name", "ingredients"]  # propertyOrdering
    assert first["difficulty"] in ("easy", "hard")
    assert first["ingredients"] == ["eggs", "spinach", first["ingredients"][2]]
    assert isinstance(first["prep_time_minutes"], int)
    assert 100 <= first["calories"] <= 900 and isinstance(first["vegetarian"], bool)


async def test_response_json_schema_with_refs_is_honoured(
    http: aiohttp.ClientSession, mock_url: str, gemini: Any
) -> None:
    request = body(
        "Ingredients: pasta",
        responseMimeType="application/json",
        responseJsonSchema=JSON_SCHEMA,
    )
    value = json.loads(gemini.answer_text(await generate(http, mock_url, request)))
    recipes = value["recipes"]
    assert recipes and all(isinstance(r["title"], str) and "Pasta" in r["title"] for r in recipes)
    assert all(r["servings"] >= 1 and len(r["tags"]) >= 2 for r in recipes)
    assert all(isinstance(r["notes"], str) for r in recipes)


async def test_max_output_tokens_truncates_with_max_tokens(
    http: aiohttp.ClientSession, mock_url: str, gemini: Any
) -> None:
    answer = await generate(http, mock_url, body("Ingredients: pork", maxOutputTokens=10))
    assert answer["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert len(gemini.answer_text(answer)) == 40
    assert answer["usageMetadata"]["candidatesTokenCount"] == 10


async def test_stop_sequences_cut_the_answer(
    http: aiohttp.ClientSession, mock_url: str, gemini: Any
) -> None:
    answer = await generate(http, mock_url, body("Ingredients: pork", stopSequences=["Serves"]))
    text = gemini.answer_text(answer)
    assert "Serves" not in text and text.startswith("**")
