"""``-v`` request logs, as text or JSON lines (``--log-json``), with secrets redacted.

configure_logging(verbose=True, json_lines=False, secrets=[api_key])
url_secrets("https://me:PW@host/?key=K")    # ["PW", "K"]: scrubbed from every output
redact_url("https://me:PW@host/?key=K")     # "https://me:***@host/?key=***"
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# Attributes every LogRecord has; anything else came in through ``extra=``.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


class TextFormatter(logging.Formatter):
    """``12:00:01 harness.requests request done mode=async request_id=3 …``"""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        stamp = self.formatTime(record, "%H:%M:%S")
        return f"{stamp} {record.name} {record.getMessage()} {fields}".rstrip()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": record.created,
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_extras(record),
        }
        return json.dumps(line, default=str)


class RedactFilter(logging.Filter):
    """Replaces any secret in a formatted line by ``***`` (belt and braces: we never log keys)."""

    def __init__(self, secrets: Iterable[str]):
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(s in message for s in self._secrets):
            for secret in self._secrets:
                message = message.replace(secret, "***")
            record.msg, record.args = message, None
        return True


def configure_logging(verbose: bool, json_lines: bool, secrets: Iterable[str] = ()) -> None:
    """Send harness logs to stderr: INFO with ``verbose``, else WARNING."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    handler.addFilter(RedactFilter(secrets))
    root = logging.getLogger("harness")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    root.propagate = False


# Query parameters that carry credentials (Gemini's ``key=``, and the usual others).
SECRET_PARAMS = frozenset({"key", "api_key", "apikey", "token", "access_token", "password"})
SECRET_WORDS = ("key", "token", "secret", "password")  # setting names whose values are hidden


def url_secrets(url: str | None) -> list[str]:
    """The credentials inside a URL: the userinfo password (or lone user) and secret params."""
    if not url:
        return []
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = [parts.password] if parts.password else []
    if parts.username and not parts.password:
        found.append(parts.username)  # ``https://KEY@host/``: a token as the user name
    found += [v for k, v in parse_qsl(parts.query) if k.lower() in SECRET_PARAMS and v]
    return found


def redact_url(url: str) -> str:
    """``url`` with every secret of :func:`url_secrets` replaced by ``***``."""
    for secret in sorted(url_secrets(url), key=len, reverse=True):
        url = url.replace(secret, "***")
    return url


def is_secret_name(name: str) -> bool:
    """Whether a setting called ``name`` (``target.api_key``) holds a credential."""
    return any(word in name.lower() for word in SECRET_WORDS)
