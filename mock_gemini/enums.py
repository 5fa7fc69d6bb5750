"""Proto enums the API accepts as names or as integers (``enum-encoding=int``).

google-generativeai over REST sends every enum as its number (gemini-api.md §10):
``"type": 6`` is OBJECT, ``"mode": 2`` is ANY. The numbers are those of the public
``google.ai.generativelanguage.v1beta`` protos (``Type``, ``FunctionCallingConfig.Mode``,
``HarmCategory``, ``SafetySetting.HarmBlockThreshold``, ``TaskType``,
``GenerationConfig.Modality``, ``MediaResolution``)::

    enum_name("Type", 6)          # "OBJECT"
    enum_name("Type", "object")   # "object" (names pass unchanged)
    enum_name("Type", 99)         # 99 (unknown numbers pass unchanged)
"""

from __future__ import annotations

from typing import Any

ENUMS: dict[str, tuple[str, ...]] = {
    "Type": (
        "TYPE_UNSPECIFIED", "STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL",
    ),
    "Mode": ("MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED"),
    "HarmCategory": (
        "HARM_CATEGORY_UNSPECIFIED", "HARM_CATEGORY_DEROGATORY", "HARM_CATEGORY_TOXICITY",
        "HARM_CATEGORY_VIOLENCE", "HARM_CATEGORY_SEXUAL", "HARM_CATEGORY_MEDICAL",
        "HARM_CATEGORY_DANGEROUS", "HARM_CATEGORY_HARASSMENT", "HARM_CATEGORY_HATE_SPEECH",
        "HARM_CATEGORY_SEXUALLY_EXPLICIT", "HARM_CATEGORY_DANGEROUS_CONTENT",
        "HARM_CATEGORY_CIVIC_INTEGRITY",
    ),
    "HarmBlockThreshold": (
        "HARM_BLOCK_THRESHOLD_UNSPECIFIED", "BLOCK_LOW_AND_ABOVE", "BLOCK_MEDIUM_AND_ABOVE",
        "BLOCK_ONLY_HIGH", "BLOCK_NONE", "OFF",
    ),
    "TaskType": (
        "TASK_TYPE_UNSPECIFIED", "RETRIEVAL_QUERY", "RETRIEVAL_DOCUMENT", "SEMANTIC_SIMILARITY",
        "CLASSIFICATION", "CLUSTERING", "QUESTION_ANSWERING", "FACT_VERIFICATION",
        "CODE_RETRIEVAL_QUERY",
    ),
    "Modality": ("MODALITY_UNSPECIFIED", "TEXT", "IMAGE", "AUDIO"),
    "MediaResolution": (
        "MEDIA_RESOLUTION_UNSPECIFIED", "MEDIA_RESOLUTION_LOW", "MEDIA_RESOLUTION_MEDIUM",
        "MEDIA_RESOLUTION_HIGH",
    ),
}  # fmt: skip


def enum_name(enum: str, value: Any) -> Any:
    """The name for an integer ``value`` of ``enum``; anything else is returned as given."""
    if isinstance(value, bool) or not isinstance(value, int):
        return value
    names = ENUMS[enum]
    return names[value] if 0 <= value < len(names) else value


def enum_names(enum: str, value: Any) -> Any:
    """``enum_name`` over a list (``responseModalities: [1]``), or one value."""
    if isinstance(value, list):
        return [enum_name(enum, item) for item in value]
    return enum_name(enum, value)
