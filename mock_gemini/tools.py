"""Function calling (gemini-api.md §9): which declared functions the mock calls, with what.

A request's ``tools[].functionDeclarations`` and ``toolConfig.functionCallingConfig``
become a ``ToolSpec``; ``decide_calls`` picks the calls the way the real API's modes
promise, deterministically:

- ``NONE`` (or no declarations): never a call, as if no tools were declared.
- ``ANY``: always at least one call, limited to ``allowedFunctionNames`` when given.
  The functions the latest user turn names (``\\bsave_recipe\\b``) are called, all of them
  when parallel calls are allowed; otherwise the first allowed function not yet called
  in the conversation (so an agent's tool, then its ``final_result``), else the first.
- ``AUTO`` (the default) and ``VALIDATED``: text once the latest turn answers a call
  (``functionResponse``); else a call when the latest user turn names a declared function
  or asks for structured output ("JSON", "structured", "call a/the function/tool");
  else a call with probability ``auto_call_rate`` (a seeded draw per prompt), else text.

``args`` match the declaration's ``parameters`` (OpenAPI subset) or
``parametersJsonSchema`` (JSON Schema), filled with recipe data (``schema_values``)::

    spec = ToolSpec((FunctionDecl("save_recipe", '{"type": "OBJECT", ...}'),), "ANY")
    calls = function_calls(spec, "Ingredients: chicken", seed=0, auto_call_rate=0.0)
    calls[0].name, json.loads(calls[0].args_json)   # ("save_recipe", {"title": ...})
"""

from __future__ import annotations

import functools
import json
import random
import re
from dataclasses import dataclass
from typing import Any

from mock_gemini.content import count_tokens, recipe_count, stable_seed
from mock_gemini.recipes import make_recipes
from mock_gemini.schema_values import schema_value

MODES = frozenset({"AUTO", "ANY", "NONE", "VALIDATED"})
_STRUCTURED_RE = re.compile(
    r"\bjson\b|\bstructured\b|\bcall (?:a|the) (?:function|tool)\b|\buse (?:a|the) tool\b", re.I
)


@dataclass(frozen=True)
class FunctionDecl:
    """One declared function: its name and argument schema as canonical JSON (or None)."""

    name: str
    schema_json: str | None = None


@dataclass(frozen=True)
class ToolSpec:
    """What a request allows: declarations, mode, allowed names and the conversation so far.

    ``called`` are functions the model already called in earlier turns; ``answered`` is
    True when the latest turn carries function responses; ``latest_text`` is the text of
    the latest user turn; ``parallel`` False allows one call per answer.
    """

    functions: tuple[FunctionDecl, ...]
    mode: str = "AUTO"
    allowed: tuple[str, ...] = ()
    called: tuple[str, ...] = ()
    answered: bool = False
    latest_text: str = ""
    parallel: bool = True


@dataclass(frozen=True)
class FunctionCall:
    """One call of the answer: the function name and its arguments as a JSON object text."""

    name: str
    args_json: str

    def args(self) -> dict[str, Any]:
        """The arguments as a dict."""
        value = json.loads(self.args_json)
        return value if isinstance(value, dict) else {}


def candidates(spec: ToolSpec) -> list[FunctionDecl]:
    """The declarations the mode allows (``allowedFunctionNames`` for ANY/VALIDATED)."""
    if spec.mode == "NONE":
        return []
    if spec.allowed and spec.mode in ("ANY", "VALIDATED"):
        allowed = set(spec.allowed)
        return [f for f in spec.functions if f.name in allowed]
    return list(spec.functions)


def _named(functions: list[FunctionDecl], text: str) -> list[FunctionDecl]:
    return [f for f in functions if re.search(rf"(?<![\w]){re.escape(f.name)}(?![\w])", text)]


def chosen_functions(spec: ToolSpec, seed: int, auto_call_rate: float) -> list[FunctionDecl]:
    """The functions to call (empty: answer with text), by the rules of the module doc."""
    pool = candidates(spec)
    if not pool:
        return []
    named = _named(pool, spec.latest_text)
    if spec.mode == "ANY":
        fresh = [f for f in pool if f.name not in spec.called]
        chosen = named or (fresh or pool)[:1]
    elif spec.answered:
        return []
    elif named:
        chosen = named
    elif _STRUCTURED_RE.search(spec.latest_text) or _draw(spec, seed) < auto_call_rate:
        chosen = pool[:1]
    else:
        return []
    return chosen if spec.parallel else chosen[:1]


def _draw(spec: ToolSpec, seed: int) -> float:
    return random.Random(stable_seed("auto-call", seed, spec.latest_text)).random()


@functools.lru_cache(maxsize=1024)
def function_calls(
    spec: ToolSpec, prompt: str, seed: int, auto_call_rate: float
) -> tuple[FunctionCall, ...]:
    """The calls of the answer (empty tuple: answer with text); cached per request shape."""
    chosen = chosen_functions(spec, seed, auto_call_rate)
    if not chosen:
        return ()
    rng = random.Random(stable_seed("calls", seed, prompt, spec))
    recipes = make_recipes(prompt, recipe_count(prompt), rng)
    calls = []
    for function in chosen:
        schema = json.loads(function.schema_json) if function.schema_json else None
        args = schema_value(schema, recipes, rng) if isinstance(schema, dict) else {}
        calls.append(
            FunctionCall(function.name, json.dumps(args if isinstance(args, dict) else {}))
        )
    return tuple(calls)


def calls_tokens(calls: tuple[FunctionCall, ...]) -> int:
    """Output tokens of the calls: the token rule over each ``{"name", "args"}`` JSON."""
    return sum(count_tokens(f'{{"name": "{c.name}", "args": {c.args_json}}}') for c in calls)


# ---- reading a (normalised) GenerateContentRequest ---------------------------------------


def tool_spec(data: dict[str, Any]) -> ToolSpec | None:
    """The ToolSpec of a normalised GenerateContentRequest, or None when it declares none."""
    functions = _declarations(data.get("tools"))
    if not functions:
        return None
    config = data.get("toolConfig") or {}
    calling = config.get("functionCallingConfig") or {} if isinstance(config, dict) else {}
    mode = calling.get("mode") if isinstance(calling, dict) else None
    allowed = calling.get("allowedFunctionNames") if isinstance(calling, dict) else None
    called, answered, latest = _conversation(data.get("contents") or [])
    return ToolSpec(
        functions=tuple(functions),
        mode=mode if mode in MODES else "AUTO",
        allowed=tuple(a for a in allowed or () if isinstance(a, str)),
        called=called,
        answered=answered,
        latest_text=latest,
    )


def _declarations(tools: Any) -> list[FunctionDecl]:
    if not isinstance(tools, list):
        return []
    found = []
    for tool in tools:
        declarations = tool.get("functionDeclarations") if isinstance(tool, dict) else None
        for decl in declarations or ():
            if isinstance(decl, dict) and isinstance(decl.get("name"), str):
                schema = decl.get("parameters") or decl.get("parametersJsonSchema")
                text = json.dumps(schema, sort_keys=True) if schema else None
                found.append(FunctionDecl(decl["name"], text))
    return found


def _conversation(contents: list[Any]) -> tuple[tuple[str, ...], bool, str]:
    called: list[str] = []
    for content in contents:
        for part in _parts(content):
            call = part.get("functionCall")
            if isinstance(call, dict) and isinstance(call.get("name"), str):
                called.append(call["name"])
    last = contents[-1] if contents else {}
    parts = _parts(last)
    answered = any("functionResponse" in part for part in parts)
    latest = "\n".join(p["text"] for p in parts if isinstance(p.get("text"), str))
    return tuple(called), answered, latest


def _parts(content: Any) -> list[dict[str, Any]]:
    parts = content.get("parts") if isinstance(content, dict) else None
    return [p for p in parts if isinstance(p, dict)] if isinstance(parts, list) else []
