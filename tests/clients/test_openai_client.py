"""The OpenAI SDK against the mock's OpenAI-compatible surface (/v1beta/openai/)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import openai
import pydantic
import pytest

from mock_gemini.embedded import MockHandle

MODEL = "gemini-2.5-flash"


class Recipe(pydantic.BaseModel):
    title: str
    servings: int
    calories: float
    vegetarian: bool
    ingredients: list[str]


@pytest.fixture
def oai(mock: MockHandle) -> Iterator[openai.OpenAI]:
    """The SDK with only ``base_url`` changed, as Google documents for this surface."""
    with openai.OpenAI(api_key="test-key", base_url=f"{mock.url}/v1beta/openai/") as client:
        yield client


def ask(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_chat_completion(oai: openai.OpenAI) -> None:
    completion = oai.chat.completions.create(model=MODEL, messages=ask("Ingredients: tofu"))
    choice = completion.choices[0]
    assert choice.finish_reason == "stop" and "tofu" in (choice.message.content or "").lower()
    assert completion.usage and completion.usage.completion_tokens > 0


def test_stream_ends_with_finish_and_usage(oai: openai.OpenAI) -> None:
    stream = oai.chat.completions.create(
        model=MODEL, messages=ask("Ingredients: kale"), stream=True
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "kale" in text.lower() and chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].usage and chunks[-1].usage.total_tokens > 0


def test_parse_with_a_pydantic_response_format(oai: openai.OpenAI) -> None:
    completion = oai.chat.completions.parse(
        model=MODEL,
        messages=ask("Ingredients: salmon, lemon"),
        response_format=Recipe,
    )
    recipe = completion.choices[0].message.parsed
    assert isinstance(recipe, Recipe) and recipe.ingredients[:2] == ["salmon", "lemon"]


@pytest.mark.parametrize(
    "choice",
    [
        pytest.param("required", id="required"),
        pytest.param({"type": "function", "function": {"name": "Recipe"}}, id="named"),
    ],
)
def test_forced_tool_choice_returns_tool_calls(oai: openai.OpenAI, choice: object) -> None:
    completion = oai.chat.completions.create(
        model=MODEL,
        messages=ask("Ingredients: beef, onion"),
        tools=[openai.pydantic_function_tool(Recipe)],
        tool_choice=choice,
    )
    choice0 = completion.choices[0]
    assert choice0.finish_reason == "tool_calls" and choice0.message.tool_calls
    call = choice0.message.tool_calls[0]
    assert call.type == "function" and call.function.name == "Recipe" and call.id
    recipe = Recipe.model_validate(json.loads(call.function.arguments))
    assert recipe.ingredients[:2] == ["beef", "onion"]


def test_tool_choice_none_answers_text(oai: openai.OpenAI) -> None:
    completion = oai.chat.completions.create(
        model=MODEL,
        messages=ask("Call Recipe for eggs."),
        tools=[openai.pydantic_function_tool(Recipe)],
        tool_choice="none",
    )
    assert completion.choices[0].finish_reason == "stop"
    assert not completion.choices[0].message.tool_calls


def test_streamed_tool_call_deltas_assemble(oai: openai.OpenAI) -> None:
    with oai.chat.completions.stream(
        model=MODEL,
        messages=ask("Ingredients: shrimp"),
        tools=[openai.pydantic_function_tool(Recipe)],
        tool_choice="required",
    ) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion()
    assert final.choices[0].finish_reason == "tool_calls"
    calls = final.choices[0].message.tool_calls or []
    recipe = calls[0].function.parsed_arguments
    assert isinstance(recipe, Recipe) and recipe.ingredients[0] == "shrimp"


def test_tool_result_turn_is_answered_with_text(oai: openai.OpenAI) -> None:
    tools = [openai.pydantic_function_tool(Recipe)]
    messages: list[dict[str, object]] = [*ask("Ingredients: pork")]
    first = oai.chat.completions.create(
        model=MODEL, messages=messages, tools=tools, tool_choice="required"
    )
    call = first.choices[0].message.tool_calls[0]
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "saved"},
    ]
    second = oai.chat.completions.create(model=MODEL, messages=messages, tools=tools)
    assert second.choices[0].finish_reason == "stop" and second.choices[0].message.content


@pytest.mark.parametrize(
    ("inputs", "dimensions", "encoding"),
    [
        pytest.param("one text", None, None, id="single-default-base64"),
        pytest.param(["a", "b", "c"], 256, "float", id="list-dimensions-float"),
    ],
)
def test_embeddings(
    oai: openai.OpenAI, inputs: str | list[str], dimensions: int | None, encoding: str | None
) -> None:
    extra: dict[str, object] = {}
    if dimensions is not None:
        extra["dimensions"] = dimensions
    if encoding is not None:
        extra["encoding_format"] = encoding
    result = oai.embeddings.create(model="gemini-embedding-001", input=inputs, **extra)
    count = 1 if isinstance(inputs, str) else len(inputs)
    assert [d.index for d in result.data] == list(range(count))
    assert {len(d.embedding) for d in result.data} == {dimensions or 3072}
    norm = sum(v * v for v in result.data[0].embedding)
    assert abs(norm - 1) < 1e-3 and result.usage.prompt_tokens > 0
