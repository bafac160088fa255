"""Personal data and secrets never reach a log: a filter that masks phone and ID numbers, and
redacts registered secrets (e.g. a bot token, which appears in Bot API URLs), in every record."""

from __future__ import annotations

import logging
from typing import Set

from bot.text import mask_personal_data

_SECRETS: Set[str] = set()
_FORMATTER = logging.Formatter()


def redact(secret: str) -> None:
    """Never log this value (registered by whoever holds it, e.g. the Telegram channel)."""
    if secret and len(secret) >= 8:
        _SECRETS.add(secret)


def scrub(text: str) -> str:
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, "***")
    return mask_personal_data(text)


class MaskPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the logger's problem, not ours
            return True
        masked = scrub(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and _SECRETS:
            # Tracebacks may quote URLs with a token: format once, scrubbed (formatters reuse exc_text).
            record.exc_text = scrub(record.exc_text or _FORMATTER.formatException(record.exc_info))
        return True


def install() -> None:
    """Attach the filter to the root logger's handlers (idempotent)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, MaskPersonalData) for f in handler.filters):
            handler.addFilter(MaskPersonalData())
