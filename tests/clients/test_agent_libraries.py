"""Structured-output libraries against the mock: pydantic-ai, instructor, langchain, litellm.

Each one's default path is asserted on the typed result it returns; the function-calling
paths (pydantic-ai's output tool, instructor ``Mode.TOOLS``, langchain
``method="function_calling"``) need the mock's ``ANY`` / ``tool_choice`` answers.
"""

from __future__ import annotations

import json
from typing import Any

import openai
import pydantic
import pytest

from mock_gemini.embedded import MockHandle

MODEL = "gemini-2.5-flash"
PROMPT = "Ingredients: chicken, rice"


class Recipe(pydantic.BaseModel):
    title: str
    servings: int
    calories: float
    vegetarian: bool
    ingredients: list[str]


def check(recipe: Any) -> None:
    assert isinstance(recipe, Recipe), recipe
    assert recipe.ingredients[:2] == ["chicken", "rice"] and recipe.servings > 0


# ---- pydantic-ai (GoogleModel on google-genai) -------------------------------------------


def pydantic_ai_agent(mock: MockHandle, output: Any) -> Any:
    from pydantic_ai import Agent
    from pydantic_ai.models.google import GoogleModel
    from pydantic_ai.providers.google import GoogleProvider

    provider = GoogleProvider(api_key="test-key", base_url=mock.url)
    return Agent(GoogleModel(MODEL, provider=provider), output_type=output)


def test_pydantic_ai_default_output_tool(mock: MockHandle) -> None:
    result = pydantic_ai_agent(mock, Recipe).run_sync(PROMPT)
    check(result.output)
    tool_calls = [p for m in result.all_messages() for p in m.parts if p.part_kind == "tool-call"]
    assert tool_calls  # the answer came as a function call, not text


def test_pydantic_ai_native_output(mock: MockHandle) -> None:
    from pydantic_ai import NativeOutput

    check(pydantic_ai_agent(mock, NativeOutput(Recipe)).run_sync(PROMPT).output)


def test_pydantic_ai_prompted_output(mock: MockHandle) -> None:
    from pydantic_ai import PromptedOutput

    check(pydantic_ai_agent(mock, PromptedOutput(Recipe)).run_sync(PROMPT).output)


def test_pydantic_ai_agent_tool_then_output_tool(mock: MockHandle) -> None:
    agent = pydantic_ai_agent(mock, Recipe)
    asked: list[str] = []

    @agent.tool_plain
    def pantry(shelf: str) -> str:
        """What is on a pantry shelf."""
        asked.append(shelf)
        return "rice"

    check(agent.run_sync(PROMPT).output)
    assert len(asked) == 1  # mode ANY: the agent's own tool first, then final_result


# ---- instructor (OpenAI SDK on /v1beta/openai/) ------------------------------------------


def instructor_client(mock: MockHandle, mode_name: str) -> Any:
    import instructor

    raw = openai.OpenAI(api_key="test-key", base_url=f"{mock.url}/v1beta/openai/")
    return instructor.from_openai(raw, mode=getattr(instructor.Mode, mode_name))


# instructor imports the deprecated google.generativeai, which warns on import.
@pytest.mark.filterwarnings(r"ignore:\s*All support for the `google.generativeai`:FutureWarning")
@pytest.mark.filterwarnings("ignore:You are using a Python version:FutureWarning")
@pytest.mark.parametrize(
    "mode",
    [
        pytest.param("TOOLS", id="tools"),
        pytest.param("JSON", id="json"),
        pytest.param("MD_JSON", id="md-json"),
    ],
)
def test_instructor(mock: MockHandle, mode: str) -> None:
    client = instructor_client(mock, mode)
    recipe = client.chat.completions.create(
        model=MODEL, response_model=Recipe, messages=[{"role": "user", "content": PROMPT}]
    )
    check(recipe)


# ---- langchain-google-genai ---------------------------------------------------------------


@pytest.mark.parametrize(
    "method",
    [
        pytest.param("function_calling", id="function-calling"),
        pytest.param("json_schema", id="json-schema"),
    ],
)
def test_langchain_with_structured_output(mock: MockHandle, method: str) -> None:
    from langchain_google_genai import ChatGoogleGenerativeAI

    llm = ChatGoogleGenerativeAI(model=MODEL, google_api_key="test-key", base_url=mock.url)
    check(llm.with_structured_output(Recipe, method=method).invoke(PROMPT))


# ---- litellm (its own Gemini client; api_base must end in /v1beta) -----------------------
# litellm's own logging dumps its response models with pydantic serializer warnings; made
# errors by this suite's filterwarnings, they would only be logged by litellm as noise.
LITELLM_NOISE = "ignore:Pydantic serializer warnings:UserWarning"


@pytest.mark.filterwarnings(LITELLM_NOISE)
def test_litellm_text_and_response_format(mock: MockHandle) -> None:
    import litellm

    options: dict[str, Any] = {"api_base": f"{mock.url}/v1beta", "api_key": "test-key"}
    messages = [{"role": "user", "content": PROMPT}]
    text = litellm.completion(model=f"gemini/{MODEL}", messages=messages, **options)
    assert "chicken" in text.choices[0].message.content.lower()
    structured = litellm.completion(
        model=f"gemini/{MODEL}", messages=messages, response_format=Recipe, **options
    )
    check(Recipe.model_validate(json.loads(structured.choices[0].message.content)))


@pytest.mark.filterwarnings(LITELLM_NOISE)
def test_litellm_forced_tool_call(mock: MockHandle) -> None:
    import litellm

    tool = {"type": "function", "function": {"name": "save_recipe", "parameters": _schema()}}
    response = litellm.completion(
        model=f"gemini/{MODEL}",
        messages=[{"role": "user", "content": PROMPT}],
        tools=[tool],
        tool_choice="required",
        api_base=f"{mock.url}/v1beta",
        api_key="test-key",
    )
    call = response.choices[0].message.tool_calls[0]
    assert call.function.name == "save_recipe"
    check(Recipe.model_validate(json.loads(call.function.arguments)))


def _schema() -> dict[str, Any]:
    return Recipe.model_json_schema()
