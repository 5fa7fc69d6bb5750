"""google-generativeai 0.8 over REST: integer-encoded enums in schemas and tool configs.

It asks ``$alt=json;enum-encoding=int`` and sends ``"type": 6`` for OBJECT, ``3`` for
INTEGER and so on (gemini-api.md §10). The package is deprecated and warns on import.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import typing_extensions

from mock_gemini.embedded import MockHandle

pytestmark = [
    pytest.mark.filterwarnings(
        r"ignore:\s*All support for the `google.generativeai`:FutureWarning"
    ),
    pytest.mark.filterwarnings("ignore:You are using a Python version:FutureWarning"),
]
MODEL = "gemini-2.5-flash"


class Nutrition(typing_extensions.TypedDict):
    title: str
    servings: int
    calories: float
    vegetarian: bool
    ingredients: list[str]


def configured(mock: MockHandle) -> Any:
    import google.generativeai as legacy

    legacy.configure(
        api_key="test-key", transport="rest", client_options={"api_endpoint": mock.url}
    )
    return legacy


def test_response_schema_with_int_float_bool_fields(mock: MockHandle) -> None:
    legacy = configured(mock)
    config = legacy.GenerationConfig(
        response_mime_type="application/json", response_schema=Nutrition
    )
    model = legacy.GenerativeModel(MODEL, generation_config=config)
    value = json.loads(model.generate_content("Ingredients: quinoa, spinach").text)
    assert isinstance(value["servings"], int) and not isinstance(value["servings"], bool)
    assert isinstance(value["calories"], float) and isinstance(value["vegetarian"], bool)
    assert value["ingredients"][:2] == ["quinoa", "spinach"]
    assert isinstance(value["title"], str)


def test_function_calling_mode_any_with_int_enums(mock: MockHandle) -> None:
    legacy = configured(mock)

    def log_meal(dish: str, portions: int, spicy: bool) -> str:
        """Record a meal."""
        return dish

    model = legacy.GenerativeModel(MODEL, tools=[log_meal])
    response = model.generate_content(
        "Ingredients: tofu",
        tool_config={"function_calling_config": {"mode": "ANY"}},
    )
    call = response.candidates[0].content.parts[0].function_call
    assert call.name == "log_meal"
    args = dict(call.args)
    assert isinstance(args["dish"], str) and isinstance(args["spicy"], bool)
    assert float(args["portions"]).is_integer()  # proto Struct numbers come back as floats


def test_stream_over_rest_json_array(mock: MockHandle) -> None:
    model = configured(mock).GenerativeModel(MODEL)
    chunks = list(model.generate_content("Ingredients: mushrooms", stream=True))
    assert len(chunks) > 1 and "mushrooms" in "".join(c.text for c in chunks).lower()
