"""google-genai (3.x) against the mock: text, async, stream, schemas and function calling."""

from __future__ import annotations

from collections.abc import Iterator

import pydantic
import pytest
from google import genai
from google.genai import types

from mock_gemini.embedded import MockHandle

MODEL = "gemini-2.5-flash"


class Recipe(pydantic.BaseModel):
    title: str
    servings: int
    calories: float
    vegetarian: bool
    ingredients: list[str]


@pytest.fixture
def google(mock: MockHandle) -> Iterator[genai.Client]:
    """A client whose only change is the base URL (3.x calls /v1; the mock serves both)."""
    options = types.HttpOptions(base_url=mock.url)
    client = genai.Client(api_key="test-key", http_options=options)
    yield client  # held by the test: 3.x closes its HTTP client when the object is freed
    client.close()


def recipe_tool() -> types.Tool:
    declaration = types.FunctionDeclaration(
        name="save_recipe",
        description="Store a recipe.",
        parameters_json_schema=Recipe.model_json_schema(),
    )
    return types.Tool(function_declarations=[declaration])


def calling(mode: str, allowed: list[str] | None = None) -> types.ToolConfig:
    config = types.FunctionCallingConfig(mode=mode, allowed_function_names=allowed)
    return types.ToolConfig(function_calling_config=config)


def test_sync_text_uses_the_prompts_ingredients(google: genai.Client) -> None:
    response = google.models.generate_content(model=MODEL, contents="Ingredients: leek")
    assert response.text and "leek" in response.text.lower()
    usage = response.usage_metadata
    assert usage is not None and usage.candidates_token_count and usage.prompt_token_count == 5


async def test_async_text(google: genai.Client) -> None:
    aio = google.aio
    response = await aio.models.generate_content(model=MODEL, contents="Ingredients: tofu")
    assert response.text and "tofu" in response.text.lower()


def test_stream_counts_output_once_on_the_last_chunk(google: genai.Client) -> None:
    chunks = list(google.models.generate_content_stream(model=MODEL, contents="Ingredients: corn"))
    assert len(chunks) > 2 and "corn" in "".join(c.text or "" for c in chunks).lower()
    middle = [c.usage_metadata for c in chunks[:-1]]
    assert all(u is not None and u.candidates_token_count is None for u in middle)
    last = chunks[-1].usage_metadata
    assert last is not None and last.candidates_token_count


def test_response_schema_pydantic_model_parses(google: genai.Client) -> None:
    config = types.GenerateContentConfig(
        response_mime_type="application/json", response_schema=Recipe
    )
    response = google.models.generate_content(
        model=MODEL, contents="Ingredients: chicken, rice", config=config
    )
    recipe = response.parsed
    assert isinstance(recipe, Recipe)
    assert recipe.ingredients[:2] == ["chicken", "rice"] and recipe.servings > 0


@pytest.mark.parametrize(
    "declare",
    [
        pytest.param("json_schema", id="parametersJsonSchema"),
        pytest.param("openapi", id="parameters"),
    ],
)
def test_mode_any_answers_with_a_call_whose_args_fit_the_schema(
    google: genai.Client, declare: str
) -> None:
    tool = recipe_tool()
    if declare == "openapi":
        schema = types.Schema.from_json_schema(
            json_schema=types.JSONSchema.model_validate(Recipe.model_json_schema())
        )
        tool = types.Tool(
            function_declarations=[types.FunctionDeclaration(name="save_recipe", parameters=schema)]
        )
    config = types.GenerateContentConfig(tools=[tool], tool_config=calling("ANY"))
    response = google.models.generate_content(
        model=MODEL, contents="Ingredients: lentils, spinach", config=config
    )
    calls = response.function_calls
    assert calls and calls[0].name == "save_recipe"
    recipe = Recipe.model_validate(calls[0].args)
    assert recipe.ingredients[:2] == ["lentils", "spinach"]
    assert response.candidates and response.candidates[0].finish_reason == "STOP"


def test_mode_any_is_limited_to_allowed_function_names(google: genai.Client) -> None:
    other = types.FunctionDeclaration(name="rate_recipe", description="Rate a recipe.")
    tools = [recipe_tool(), types.Tool(function_declarations=[other])]
    config = types.GenerateContentConfig(tools=tools, tool_config=calling("ANY", ["rate_recipe"]))
    response = google.models.generate_content(
        model=MODEL, contents="Please use save_recipe.", config=config
    )
    assert [c.name for c in response.function_calls or []] == ["rate_recipe"]


def test_stream_carries_the_call(google: genai.Client) -> None:
    config = types.GenerateContentConfig(tools=[recipe_tool()], tool_config=calling("ANY"))
    chunks = list(
        google.models.generate_content_stream(
            model=MODEL, contents="Ingredients: eggs", config=config
        )
    )
    calls = [call for chunk in chunks for call in chunk.function_calls or []]
    assert [c.name for c in calls] == ["save_recipe"]
    assert Recipe.model_validate(calls[0].args).ingredients[0] == "eggs"


def test_auto_runs_a_python_function_the_prompt_names_then_answers_text(
    google: genai.Client,
) -> None:
    seen: list[str] = []

    def find_pantry(shelf: str) -> str:
        """What is on a pantry shelf."""
        seen.append(shelf)
        return "rice and garlic"

    # Automatic function calling: the SDK runs the call and sends a functionResponse back.
    chat = google.chats.create(model=MODEL, config=types.GenerateContentConfig(tools=[find_pantry]))
    response = chat.send_message("Use find_pantry to check the top shelf, then cook chicken.")
    assert len(seen) == 1 and isinstance(seen[0], str)
    assert response.text and not response.function_calls
    history = chat.get_history(curated=False)
    assert any(part.function_response for item in history for part in item.parts or [])


def test_auto_answers_text_when_no_function_is_called_for(google: genai.Client) -> None:
    config = types.GenerateContentConfig(tools=[recipe_tool()])
    response = google.models.generate_content(
        model=MODEL, contents="Ingredients: beef", config=config
    )
    assert not response.function_calls and response.text and "beef" in response.text.lower()


def test_tool_declarations_count_as_prompt_tokens(google: genai.Client) -> None:
    models = google.models
    plain = models.generate_content(model=MODEL, contents="Ingredients: rice")
    with_tools = models.generate_content(
        model=MODEL,
        contents="Ingredients: rice",
        config=types.GenerateContentConfig(tools=[recipe_tool()]),
    )
    assert plain.usage_metadata and with_tools.usage_metadata
    assert (with_tools.usage_metadata.prompt_token_count or 0) > (
        plain.usage_metadata.prompt_token_count or 0
    ) + 20
