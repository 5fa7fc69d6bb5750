"""Function calling on the wire (gemini-api.md §9), with enums as names or integers."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from mock_gemini.tools import FunctionDecl, ToolSpec, chosen_functions

KEY = {"x-goog-api-key": "test-key"}
PATH = "/v1beta/models/gemini-2.5-flash:generateContent"
RECIPE_PARAMS = {
    "type": "OBJECT",
    "properties": {
        "title": {"type": "STRING"},
        "servings": {"type": "INTEGER", "minimum": 1, "maximum": 8},
        "calories": {"type": "NUMBER"},
        "vegan": {"type": "BOOLEAN"},
        "course": {"type": "STRING", "enum": ["main", "side"]},
        "ingredients": {"type": "ARRAY", "items": {"type": "STRING"}},
    },
    "required": ["title", "servings", "ingredients"],
}
INT_PARAMS = {  # google-generativeai's enum-encoding=int: 6 OBJECT, 3 INTEGER, ...
    "type": 6,
    "properties": {
        "title": {"type": 1},
        "servings": {"type": 3},
        "calories": {"type": 2},
        "vegan": {"type": 4},
        "ingredients": {"type": 5, "items": {"type": 1}},
    },
}
MINUTES = {"type": "OBJECT", "properties": {"minutes": {"type": "INTEGER"}}}
TIMER = {"name": "set_timer", "parameters": MINUTES}


def request(text: str, mode: Any = None, allowed: list[str] | None = None, **extra: Any) -> Any:
    declarations = [{"name": "save_recipe", "parameters": RECIPE_PARAMS}, TIMER]
    body: dict[str, Any] = {
        "contents": [{"role": "user", "parts": [{"text": text}]}],
        "tools": [{"functionDeclarations": declarations}],
    }
    if mode is not None:
        config: dict[str, Any] = {"mode": mode}
        if allowed:
            config["allowedFunctionNames"] = allowed
        body["toolConfig"] = {"functionCallingConfig": config}
    body.update(extra)
    return body


async def post(http: aiohttp.ClientSession, url: str, body: Any, path: str = PATH) -> Any:
    async with http.post(url + path, json=body, headers=KEY) as response:
        assert response.status == 200, await response.text()
        return await response.json()


def calls(answer: dict[str, Any]) -> list[dict[str, Any]]:
    parts = answer["candidates"][0]["content"]["parts"]
    return [part["functionCall"] for part in parts if "functionCall" in part]


def check_recipe_args(args: dict[str, Any], first: str) -> None:
    assert isinstance(args["title"], str) and args["ingredients"][0] == first
    assert isinstance(args["servings"], int) and 1 <= args["servings"] <= 8
    assert isinstance(args["calories"], float) and isinstance(args["vegan"], bool)
    assert args["course"] in ("main", "side")


@pytest.mark.parametrize("mode", [pytest.param("ANY", id="name"), pytest.param(2, id="integer")])
async def test_mode_any_always_answers_with_a_call(
    http: aiohttp.ClientSession, mock_url: str, mode: Any
) -> None:
    answer = await post(http, mock_url, request("Ingredients: kale", mode))
    (call,) = calls(answer)
    assert call["name"] == "save_recipe"
    check_recipe_args(call["args"], "kale")
    assert answer["candidates"][0]["finishReason"] == "STOP"
    usage = answer["usageMetadata"]
    assert usage["candidatesTokenCount"] > 0


async def test_allowed_function_names_limit_the_call(
    http: aiohttp.ClientSession, mock_url: str
) -> None:
    answer = await post(http, mock_url, request("save_recipe please", "ANY", ["set_timer"]))
    assert [c["name"] for c in calls(answer)] == ["set_timer"]
    assert isinstance(calls(answer)[0]["args"]["minutes"], int)


async def test_functions_the_prompt_names_are_called_in_parallel(
    http: aiohttp.ClientSession, mock_url: str
) -> None:
    text = "Ingredients: rice. Use save_recipe and set_timer."
    answer = await post(http, mock_url, request(text, "AUTO"))
    assert [c["name"] for c in calls(answer)] == ["save_recipe", "set_timer"]


@pytest.mark.parametrize(
    ("mode", "text", "called"),
    [
        pytest.param(None, "Ingredients: rice", False, id="auto-default-plain-prompt"),
        pytest.param("AUTO", "Call set_timer for the rice", True, id="auto-named"),
        pytest.param("AUTO", "Give me structured output for rice", True, id="auto-structured"),
        pytest.param("VALIDATED", "Use set_timer", True, id="validated-named"),
        pytest.param("NONE", "Call set_timer now", False, id="none"),
        pytest.param(3, "Call set_timer now", False, id="none-integer"),
    ],
)
async def test_modes(
    http: aiohttp.ClientSession, mock_url: str, mode: Any, text: str, called: bool
) -> None:
    answer = await post(http, mock_url, request(text, mode))
    assert bool(calls(answer)) is called
    if not called:
        assert answer["candidates"][0]["content"]["parts"][0]["text"]


async def test_a_function_response_turn_is_answered_with_text(
    http: aiohttp.ClientSession, mock_url: str
) -> None:
    body = request("Use set_timer", "AUTO")
    call = {"functionCall": {"name": "set_timer", "args": {"minutes": 5}}}
    result = {"functionResponse": {"name": "set_timer", "response": {"ok": True}}}
    body["contents"] += [{"role": "model", "parts": [call]}, {"role": "user", "parts": [result]}]
    answer = await post(http, mock_url, body)
    assert not calls(answer) and answer["candidates"][0]["content"]["parts"][0]["text"]


async def test_mode_any_after_a_response_calls_a_function_not_yet_called(
    http: aiohttp.ClientSession, mock_url: str
) -> None:
    body = request("Ingredients: rice", "ANY")
    body["contents"] += [
        {"role": "model", "parts": [{"functionCall": {"name": "save_recipe", "args": {}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "save_recipe", "response": {}}}]},
    ]
    assert [c["name"] for c in calls(await post(http, mock_url, body))] == ["set_timer"]


async def test_integer_schema_types_below_the_root(
    http: aiohttp.ClientSession, mock_url: str
) -> None:
    body = request("Ingredients: corn", "ANY")
    body["tools"] = [{"function_declarations": [{"name": "log", "parameters": INT_PARAMS}]}]
    args = calls(await post(http, mock_url, body))[0]["args"]
    assert isinstance(args["servings"], int) and isinstance(args["calories"], float)
    assert isinstance(args["vegan"], bool) and args["ingredients"][0] == "corn"
    config = {"responseMimeType": "application/json", "responseSchema": INT_PARAMS}
    json_body = {"contents": body["contents"], "generationConfig": config}
    answer = await post(http, mock_url, json_body)
    value = json.loads(answer["candidates"][0]["content"]["parts"][0]["text"])
    assert isinstance(value["servings"], int) and isinstance(value["vegan"], bool)


async def test_integer_enums_elsewhere_are_accepted_strictly(
    http: aiohttp.ClientSession, start_mock: Any
) -> None:
    server = await start_mock(strict=True)
    body = request("Ingredients: rice", 1)
    body["safetySettings"] = [{"category": 10, "threshold": 4}]
    body["generationConfig"] = {"responseModalities": [1], "mediaResolution": 1}
    assert not calls(await post(http, server.url, body))
    embed = {"content": {"parts": [{"text": "hi"}]}, "taskType": 1}
    path = "/v1beta/models/gemini-embedding-001:embedContent"
    assert (await post(http, server.url, embed, path))["embedding"]["values"]


async def test_stream_sends_the_call_whole_in_one_chunk(
    http: aiohttp.ClientSession, mock_url: str, gemini: Any
) -> None:
    path = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    async with http.post(
        mock_url + path, json=request("Ingredients: eggs", "ANY"), headers=KEY
    ) as r:
        events = gemini.sse_events(await r.read())
    assert len(events) == 1 and calls(events[0])[0]["name"] == "save_recipe"
    assert events[0]["usageMetadata"]["candidatesTokenCount"] > 0


async def test_declarations_are_billed_as_prompt_tokens(
    http: aiohttp.ClientSession, mock_url: str
) -> None:
    with_tools = request("Ingredients: rice")
    plain = {"contents": with_tools["contents"]}
    tokens = [
        (await post(http, mock_url, b))["usageMetadata"]["promptTokenCount"]
        for b in (plain, with_tools)
    ]
    declared = len(json.dumps(with_tools["tools"])) / 4
    assert tokens[1] - tokens[0] == pytest.approx(declared, abs=1)
    count_path = "/v1beta/models/gemini-2.5-flash:countTokens"
    counted = await post(http, mock_url, {"generateContentRequest": with_tools}, count_path)
    assert counted["totalTokens"] == tokens[1]


@pytest.mark.parametrize(
    ("rate", "expected"),
    [pytest.param(0.0, 0, id="never"), pytest.param(1.0, 20, id="always")],
)
def test_auto_call_rate_sets_how_often_auto_calls_unprompted(rate: float, expected: int) -> None:
    functions = (FunctionDecl("save_recipe"),)
    specs = [ToolSpec(functions, "AUTO", latest_text=f"Ingredients: item{i}") for i in range(20)]
    assert sum(bool(chosen_functions(s, 0, rate)) for s in specs) == expected
    half = [ToolSpec(functions, latest_text=f"Ingredients: item{i}") for i in range(400)]
    share = sum(bool(chosen_functions(s, 0, 0.5)) for s in half) / 400
    assert 0.4 < share < 0.6  # and the same prompt always gets the same decision
    assert chosen_functions(half[0], 0, 0.5) == chosen_functions(half[0], 0, 0.5)


def test_parallel_false_allows_one_call() -> None:
    functions = (FunctionDecl("a"), FunctionDecl("b"))
    spec = ToolSpec(functions, "ANY", latest_text="use a and b", parallel=False)
    assert [f.name for f in chosen_functions(spec, 0, 0.0)] == ["a"]
