"""Response templates: fixed or templated answers for prompts and models you choose.

The escape hatch for apps whose expected answer the mock cannot guess. A TOML file
(``--response-templates FILE``, key ``response_templates``) lists templates; the first
whose ``prompt`` regex is found in the prompt text (system instruction and every turn)
and whose ``model`` glob matches the model id answers, with the usual latency, token
accounting, ``maxOutputTokens`` and ``stopSequences``::

    [[template]]
    prompt = '(?i)ingredients?:\\s*(?P<items>[^\\n]+)'   # optional; Python regex
    model = "gemini-2.5-*"                               # optional; fnmatch glob
    text = '{"answer": "Cook ${first_ingredient}", "ingredients": ${ingredients_json}}'
    # or: file = "answer.json"   (read once, relative to the templates file)

Each template needs ``prompt`` or ``model`` (or both) and exactly one of ``text``/``file``.
Placeholders (``string.Template``; unknown ones stay as written): the regex's named
groups, ``${match}`` (the whole match), ``${model}``, ``${ingredients}`` (comma-separated),
``${ingredients_json}`` (a JSON array), ``${first_ingredient}``. A request whose tools
make the mock call a function is answered with the call, not a template.
"""

from __future__ import annotations

import fnmatch
import json
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mock_gemini.config_error import MockConfigError
from mock_gemini.recipes import find_ingredients
from mock_gemini.tomlfile import read_text, read_toml

_KEYS = frozenset({"prompt", "model", "text", "file"})


@dataclass(frozen=True)
class ResponseTemplate:
    """One template: when it applies (regex, glob) and what it says."""

    prompt: re.Pattern[str] | None
    model: str | None
    text: str

    def render(self, prompt: str, model: str) -> str | None:
        """The answer text for this prompt and model, or None when the template does not apply."""
        if self.model is not None and not fnmatch.fnmatchcase(model, self.model):
            return None
        match = self.prompt.search(prompt) if self.prompt is not None else None
        if self.prompt is not None and match is None:
            return None
        ingredients = find_ingredients(prompt)
        values: dict[str, Any] = {
            "model": model,
            "match": match.group(0) if match else "",
            "ingredients": ", ".join(ingredients),
            "ingredients_json": json.dumps(ingredients),
            "first_ingredient": ingredients[0] if ingredients else "",
        }
        if match:
            values.update({k: v or "" for k, v in match.groupdict().items()})
        return string.Template(self.text).safe_substitute(values)


@dataclass(frozen=True)
class TemplateSet:
    """The templates of one file, first match wins; empty (falsy) when none are configured."""

    templates: tuple[ResponseTemplate, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.templates)

    def render(self, prompt: str, model: str) -> str | None:
        """The first matching template's text, or None."""
        for template in self.templates:
            text = template.render(prompt, model)
            if text is not None:
                return text
        return None


def load_templates(path: str | Path | None) -> TemplateSet:
    """Read a templates file; errors name the file and the template: "t.toml: template 2: …"."""
    if path is None:
        return TemplateSet()
    data = read_toml(Path(path))  # bounded, regular, UTF-8 (mock_gemini.tomlfile)
    entries = data.get("template")
    if not isinstance(entries, list) or not entries:
        raise MockConfigError(f"{path}: needs at least one [[template]] table")
    base = Path(path).parent
    try:
        return TemplateSet(tuple(_template(e, base, i) for i, e in enumerate(entries, 1)))
    except MockConfigError as exc:
        raise MockConfigError(f"{path}: {exc}") from None


def _template(entry: Any, base: Path, number: int) -> ResponseTemplate:
    where = f"template {number}"
    if not isinstance(entry, dict):
        raise MockConfigError(f"{where}: expects a table")
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise MockConfigError(f"{where}: unknown key {unknown[0]!r} (keys: {sorted(_KEYS)})")
    if "prompt" not in entry and "model" not in entry:
        raise MockConfigError(f"{where}: give 'prompt' (a regex) or 'model' (a glob) or both")
    if ("text" in entry) == ("file" in entry):
        raise MockConfigError(f"{where}: give exactly one of 'text' and 'file'")
    return ResponseTemplate(
        prompt=_regex(entry.get("prompt"), where),
        model=_string(entry.get("model"), where, "model"),
        text=_text(entry, base, where),
    )


def _string(value: Any, where: str, key: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise MockConfigError(f"{where}: key {key!r} expects a string, got {value!r}")
    return value


def _regex(value: Any, where: str) -> re.Pattern[str] | None:
    text = _string(value, where, "prompt")
    if text is None:
        return None
    try:
        return re.compile(text)
    except re.error as exc:
        raise MockConfigError(f"{where}: invalid regex {text!r}: {exc}") from None


def _text(entry: dict[str, Any], base: Path, where: str) -> str:
    if "text" in entry:
        text = _string(entry["text"], where, "text")
        assert text is not None
        return text
    name = _string(entry["file"], where, "file")
    assert name is not None
    try:
        return read_text(base / name)  # a regular UTF-8 file of at most 1 MiB
    except MockConfigError as exc:
        reason = str(exc).rsplit(": ", 1)[-1]
        raise MockConfigError(f"{where}: cannot read file {name!r}: {reason}") from None
