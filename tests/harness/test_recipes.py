"""The recipe domain: validation names the bad field, prompts carry the request."""

from __future__ import annotations

import re
from typing import Any

import pytest

from harness.errors import MalformedAnswerError
from harness.recipes import (
    RECIPE_SCHEMA,
    Recipe,
    RecipeRequest,
    build_prompt,
    fallback_recipes,
)


def _valid() -> dict[str, Any]:
    return {
        "title": "Garlic Rice",
        "cuisine": "Asian",
        "ingredients": ["rice", "garlic"],
        "steps": ["Cook the rice.", "Fry with garlic."],
        "prep_time_minutes": 5,
        "cook_time_minutes": 20,
        "servings": 2,
    }


def test_from_json_reads_every_field() -> None:
    recipe = Recipe.from_json(_valid())

    assert recipe == Recipe(
        title="Garlic Rice",
        ingredients=("rice", "garlic"),
        steps=("Cook the rice.", "Fry with garlic."),
        prep_time_minutes=5,
        cook_time_minutes=20,
        servings=2,
        cuisine="Asian",
    )


def test_from_json_round_trips_through_to_json() -> None:
    recipe = Recipe.from_json(_valid())

    assert Recipe.from_json(recipe.to_json()) == recipe


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param({"cuisine": None}, None, id="null"),
        pytest.param({"cuisine": "  "}, None, id="blank"),
        pytest.param({"cuisine": " Thai "}, "Thai", id="trimmed"),
    ],
)
def test_cuisine_is_optional(change: dict[str, Any], expected: str | None) -> None:
    assert Recipe.from_json({**_valid(), **change}).cuisine == expected


def test_whole_float_counts_are_accepted() -> None:
    assert Recipe.from_json({**_valid(), "servings": 4.0}).servings == 4


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"title": ""}, "recipe.title", id="empty-title"),
        pytest.param({"title": 3}, "recipe.title", id="title-not-string"),
        pytest.param({"ingredients": []}, "recipe.ingredients", id="no-ingredients"),
        pytest.param({"ingredients": "rice"}, "recipe.ingredients", id="ingredients-string"),
        pytest.param({"steps": ["ok", 7]}, "recipe.steps[1]", id="step-not-string"),
        pytest.param({"servings": 0}, "recipe.servings", id="zero-servings"),
        pytest.param({"servings": True}, "recipe.servings", id="bool-servings"),
        pytest.param({"prep_time_minutes": -1}, "recipe.prep_time_minutes", id="negative-prep"),
        pytest.param({"cook_time_minutes": 2.5}, "recipe.cook_time_minutes", id="fraction"),
        pytest.param({"cook_time_minutes": "20"}, "recipe.cook_time_minutes", id="string-time"),
        pytest.param({"cuisine": ["Thai"]}, "recipe.cuisine", id="cuisine-list"),
    ],
)
def test_bad_field_is_named(change: dict[str, Any], field: str) -> None:
    with pytest.raises(MalformedAnswerError, match="^" + re.escape(field) + ":"):
        Recipe.from_json({**_valid(), **change})


def test_missing_field_is_named_with_its_location() -> None:
    obj = _valid()
    del obj["servings"]

    with pytest.raises(MalformedAnswerError, match=r"recipes\[2\]\.servings: missing"):
        Recipe.from_json(obj, where="recipes[2]")


def test_not_an_object_is_refused() -> None:
    with pytest.raises(MalformedAnswerError, match="expected an object"):
        Recipe.from_json(["title"])


def test_prompt_names_ingredients_cuisine_and_preferences() -> None:
    req = RecipeRequest(("chicken", "rice", "garlic"), "Asian", ("gluten-free", "low-salt"))

    prompt = build_prompt(req)

    assert "Ingredients: chicken, rice, garlic" in prompt
    assert "Cuisine: Asian" in prompt
    assert "Dietary preferences: gluten-free, low-salt" in prompt
    assert "JSON" in prompt


def test_prompt_without_cuisine_or_preferences_says_so() -> None:
    prompt = build_prompt(RecipeRequest(("eggs",)))

    assert "Cuisine: any" in prompt
    assert "Dietary preferences: none" in prompt


def test_schema_requires_what_from_json_requires() -> None:
    required = set(RECIPE_SCHEMA["items"]["required"])
    obj = _valid()

    for key in required:
        partial = {k: v for k, v in obj.items() if k != key}
        with pytest.raises(MalformedAnswerError, match=key):
            Recipe.from_json(partial)
    # Optional in the schema means optional in the parser too.
    optional = set(RECIPE_SCHEMA["items"]["properties"]) - required
    assert Recipe.from_json({k: v for k, v in obj.items() if k not in optional})


def test_schema_uses_gemini_upper_case_types() -> None:
    assert RECIPE_SCHEMA["type"] == "ARRAY"
    assert RECIPE_SCHEMA["items"]["type"] == "OBJECT"
    types = {spec["type"] for spec in RECIPE_SCHEMA["items"]["properties"].values()}
    assert types <= {"STRING", "INTEGER", "ARRAY"}


def test_fallback_uses_the_requested_ingredients_and_cuisine() -> None:
    req = RecipeRequest(("salmon", "ginger"), "Japanese")

    recipes = fallback_recipes(req)

    assert len(recipes) == 3
    for recipe in recipes:
        assert {"salmon", "ginger"} <= set(recipe.ingredients)
        assert recipe.cuisine == "Japanese"
    assert "Salmon" in recipes[0].title


def test_fallback_is_deterministic_and_valid() -> None:
    req = RecipeRequest.example(4)

    first, second = fallback_recipes(req), fallback_recipes(req)

    assert first == second
    assert [Recipe.from_json(r.to_json()) for r in first] == first


def test_fallback_without_ingredients_still_answers() -> None:
    recipes = fallback_recipes(RecipeRequest(()))

    assert recipes and all(recipe.ingredients for recipe in recipes)


def test_fallback_lists_each_ingredient_once() -> None:
    recipes = fallback_recipes(RecipeRequest(("onion", "salt")))

    for recipe in recipes:
        assert len(recipe.ingredients) == len(set(recipe.ingredients))
