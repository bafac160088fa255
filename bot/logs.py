"""Logs of every process: personal data and secrets never reach them, and each line can be one
JSON object carrying the ids of the request and conversation it belongs to.

* **Masking.** `MaskPersonalData` masks phone and ID numbers and introduced names (bot.text), the
  names registered for the current request (`personal`, e.g. a Telegram user's first name) and
  registered secrets (`redact`, e.g. a bot token, which appears in Bot API URLs), in the message,
  in tracebacks and in the fields of Rasa's structured (structlog) records.
* **Context.** `bind` puts the request id, the conversation reference and the channel into context
  variables; every record logged in that context (also from `run_in_executor` threads started with
  a copied context) carries them.
* **Format.** `configure` makes the root logger's one handler ours and routes every other logger
  to it, so the filter runs on every record of every library (Rasa, rasa_sdk, Sanic, jieba, ...).
  ``LOG_FORMAT=json`` writes one JSON object per line::

      {"ts": "2026-11-22T16:20:01.123Z", "level": "INFO", "logger": "channels.hub", "message": "...",
       "pid": 4711, "request_id": "3f2a...", "conversation_id": "c:8e21f0a9b4c3", "channel": "rest"}

  (plus ``fields`` for structlog records and ``exc_info`` for tracebacks); ``LOG_FORMAT=text``
  (default) writes readable lines with the same ids. ``LOG_LEVEL`` sets the level (INFO).

Conversation ids are the Rasa sender id pseudonymised (`conversation_ref`): a REST integration may
use a phone number as its sender, and a Telegram user id identifies a person. The same sender gives
the same reference in every process (keyed with ``LOG_ID_KEY``). The built-in key is public, and
Telegram ids and phone numbers are few enough to try them all against it: the production profile
(``LOG_FORMAT=json``, see `production_profile`) refuses to start without a key of its own
(`check_id_key`).
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import logging
import os
import re
import sys
import time
import uuid
from contextlib import contextmanager
from typing import Any, Dict, FrozenSet, Iterator, Optional, Sequence, Set

from bot.text import mask_personal_data

_SECRETS: Set[str] = set()
_FORMATTER = logging.Formatter()

REQUEST_ID: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar("request_id", default=None)
CONVERSATION_ID: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar("conversation_id", default=None)
CHANNEL: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar("channel", default=None)
_PERSONAL: contextvars.ContextVar[FrozenSet[str]] = contextvars.ContextVar("personal_values", default=frozenset())

# Libraries of the Rasa process that add their own console handler when imported (jieba, when the
# model loads): imported first, so that their records go through our handler instead.
OWN_HANDLER_LIBRARIES = ("jieba",)
_RECORD_FIELDS = ("request_id", "conversation_id", "channel")
# 32 lowercase hex digits standing alone: a web chat id (fixed length, no nesting: linear time).
_CHAT_ID = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")
# A WeChat OpenID: "o" and 27 characters of [A-Za-z0-9_-], standing alone; the customer's identity.
_OPENID = re.compile(r"(?<![A-Za-z0-9_-])o[A-Za-z0-9_-]{27}(?![A-Za-z0-9_-])")
_STRUCTLOG_KEYS = ("event", "level", "timestamp", "logger")


def redact(secret: str) -> None:
    """Never log this value (registered by whoever holds it, e.g. the Telegram channel)."""
    if secret and len(secret) >= 8:
        _SECRETS.add(secret)


def personal(*values: Optional[str]) -> None:
    """Never log these values in the current context (a request, an update): e.g. the customer's
    first name, last name and user name that came with a Telegram update."""
    found = {value.strip() for value in values if isinstance(value, str) and len(value.strip()) >= 2}
    if found:
        _PERSONAL.set(_PERSONAL.get() | found)


def scrub(text: str) -> str:
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, "***")
    for value in sorted(_PERSONAL.get(), key=len, reverse=True):
        if value in text:
            text = text.replace(value, "*" * min(len(value), 8))
    # A web chat conversation id is the customer's credential (bot/chat_sessions.py): whatever logs
    # one (ours, Rasa's, a library's) shows its pseudonym instead.
    text = _CHAT_ID.sub(lambda m: conversation_ref(m.group(0)) or "", text)
    text = _OPENID.sub(lambda m: conversation_ref(m.group(0)) or "", text)  # WeChat customers likewise
    return mask_personal_data(text)


def _scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        masked = scrub(str(value))
        return value if masked == str(value) else masked
    if isinstance(value, dict):
        return {scrub(str(key)): _scrub_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub_value(item) for item in value]
    return scrub(str(value))


BUILT_IN_ID_KEY = "intake-logs"
MIN_ID_KEY_CHARS = 16

# This module reads LOG_FORMAT, LOG_LEVEL and LOG_ID_KEY from the environment itself instead of
# taking them from bot/settings.py: the servers configure logging before anything else is imported
# or logs (channels/server.py, actions/server.py), i.e. before the settings are parsed, and the
# pseudonyms are computed inside log records, where no settings object is at hand. Settings.from_env()
# checks the same variables with the same rules when the servers start.


def production_profile() -> bool:
    """Whether this process runs in the production profile. ``make run-prod`` (deploy/local.py) and the
    Kubernetes ConfigMap both set ``LOG_FORMAT=json``, and the embedded profile (scripts/env.sh) keeps
    ``text``: that one setting tells them apart, so no second switch can disagree with it."""
    return (os.environ.get("LOG_FORMAT") or "").strip().lower() == "json"


def check_id_key() -> None:
    """Refuse to start the production profile with the built-in pseudonym key (or none, or a short
    one): logs are shipped elsewhere and kept, and anyone who has them could reverse the pseudonyms
    of Telegram ids and phone-number senders by trying every candidate against a known key."""
    if not production_profile():
        return
    key = os.environ.get("LOG_ID_KEY", "").strip()
    if key == BUILT_IN_ID_KEY or len(key) < MIN_ID_KEY_CHARS:
        raise ValueError(
            f"LOG_ID_KEY must be set to a secret of {MIN_ID_KEY_CHARS}+ characters (the same in every process) "
            "when LOG_FORMAT=json: with the built-in key the conversation ids in the logs can be traced back "
            "to Telegram ids and phone numbers. Generate one with: openssl rand -hex 32"
        )


def conversation_ref(sender_id: Optional[str]) -> Optional[str]:
    """A stable pseudonym of a Rasa sender id for logs: ``c:`` and 12 hex digits."""
    if not sender_id:
        return None
    key = (os.environ.get("LOG_ID_KEY") or BUILT_IN_ID_KEY).encode()
    # surrogatepass: a sender id with a lone surrogate (JSON "\udc00") must not make logging raise.
    raw = str(sender_id).encode("utf-8", "surrogatepass")
    return "c:" + hashlib.blake2b(raw, digest_size=6, key=key[:64]).hexdigest()


def new_request_id() -> str:
    return uuid.uuid4().hex


def valid_request_id(value: Optional[str]) -> Optional[str]:
    """A client's X-Request-ID when it is a short token (never free text in our logs)."""
    if value and len(value) <= 64 and all(c.isalnum() or c in "-_.:" for c in value):
        return value
    return None


def start_request(request_id: Optional[str] = None) -> str:
    """A new unit of work (an HTTP request, a socket message, a polled update): a request id, and
    nothing left over from an earlier one handled in the same context (keep-alive connections)."""
    request_id = request_id or new_request_id()
    REQUEST_ID.set(request_id)
    CONVERSATION_ID.set(None)
    CHANNEL.set(None)
    _PERSONAL.set(frozenset())
    return request_id


def bind(request_id: Optional[str] = None, sender_id: Optional[str] = None, channel: Optional[str] = None) -> None:
    """Set the ids of the current context (only those given)."""
    if request_id is not None:
        REQUEST_ID.set(request_id)
    if sender_id is not None:
        CONVERSATION_ID.set(conversation_ref(sender_id))
    if channel is not None:
        CHANNEL.set(channel)


@contextmanager
def context(request_id: Optional[str] = None, sender_id: Optional[str] = None, channel: Optional[str] = None) -> Iterator[None]:
    """Ids for the block, restored afterwards (for code outside a request, e.g. a polling loop)."""
    tokens = [
        REQUEST_ID.set(request_id or new_request_id()),
        CONVERSATION_ID.set(conversation_ref(sender_id)),
        CHANNEL.set(channel),
    ]
    personal_token = _PERSONAL.set(frozenset())
    try:
        yield
    finally:
        # Whatever the block bound (e.g. the conversation of a turn) goes with it.
        _PERSONAL.reset(personal_token)
        for token in reversed(tokens):
            token.var.reset(token)


class MaskPersonalData(logging.Filter):
    """Masks the record (message, structlog fields, traceback) and stamps the context's ids on it."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in zip(_RECORD_FIELDS, (REQUEST_ID, CONVERSATION_ID, CHANNEL)):
            if getattr(record, name, None) is None:
                setattr(record, name, var.get())
        if getattr(record, "_masked", False):  # several of our handlers may see the same record
            return True
        record._masked = True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the logger's problem, not ours
            return True
        fields = _structlog_fields(message)
        if fields is not None:
            # Rasa's structlog records: a JSON document (non-ASCII escaped) as the message.
            record.msg, record.args = scrub(str(fields.pop("event", ""))), None
            record.fields = _scrub_value({k: v for k, v in fields.items() if k not in _STRUCTLOG_KEYS})
        else:
            masked = scrub(message)
            if masked != message:
                record.msg, record.args = masked, None
        if record.exc_info or record.exc_text:
            # Tracebacks may quote SQL parameters or URLs with a token: format once, scrubbed
            # (formatters reuse exc_text).
            record.exc_text = scrub(record.exc_text or _FORMATTER.formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


def _structlog_fields(message: str) -> Optional[Dict[str, Any]]:
    if not (message.startswith('{"') and message.endswith("}")):
        return None
    try:
        document = json.loads(message)
    except ValueError:
        return None
    return document if isinstance(document, dict) and "event" in document else None


class JsonFormatter(logging.Formatter):
    """One JSON object per line (records must have passed MaskPersonalData)."""

    def format(self, record: logging.LogRecord) -> str:
        document: Dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        for name in _RECORD_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                document[name] = value
        fields = getattr(record, "fields", None)
        if fields:
            document["fields"] = fields
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub(self.formatException(record.exc_info))
        if record.exc_text:
            document["exc_info"] = record.exc_text
        if record.stack_info:
            document["stack_info"] = record.stack_info
        return json.dumps(document, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-8s %(name)s %(ids)s - %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        ids = [getattr(record, name, None) for name in _RECORD_FIELDS]
        record.ids = "[" + " ".join(value for value in ids if value) + "]" if any(ids) else ""
        text = super().format(record)
        fields = getattr(record, "fields", None)
        return f"{text} {json.dumps(fields, ensure_ascii=False, default=str)}" if fields else text


class _Handler(logging.StreamHandler):
    """Our console handler (a class of its own, so we know which handlers are ours)."""


def _level(level: Any = None) -> int:
    if level is None or level == "":
        level = os.environ.get("LOG_LEVEL") or "INFO"
    if isinstance(level, str):
        level = logging.getLevelName(level.upper())
    return level if isinstance(level, int) else logging.INFO


def configure(
    level: Any = None, fmt: Optional[str] = None, stream: Any = None, import_first: Sequence[str] = ()
) -> logging.Handler:
    """Make our handler the only console handler: on the root logger, and on every logger that does
    not pass its records on (Rasa and rasa_sdk turn propagation off for Sanic, socket.io, TensorFlow).
    Safe to call again whenever a library may have changed the configuration."""
    fmt = (fmt or os.environ.get("LOG_FORMAT") or "text").lower()
    logging.captureWarnings(True)
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, _Handler)), None)
    if handler is None:
        handler = _Handler(stream or sys.stderr)
        root.addHandler(handler)
    elif stream is not None:
        handler.setStream(stream)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    if not any(isinstance(f, MaskPersonalData) for f in handler.filters):
        handler.addFilter(MaskPersonalData())
    level = _level(level)
    handler.setLevel(logging.NOTSET)
    root.setLevel(level)
    for other in list(root.handlers):
        if other is not handler and _is_console(other):
            root.removeHandler(other)
    for name in import_first:
        try:
            __import__(name)
        except ImportError:
            continue
    for logger in [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]:
        if not isinstance(logger, logging.Logger):
            continue
        for other in list(logger.handlers):
            if other is not handler and _is_console(other):
                logger.removeHandler(other)
        if not logger.propagate and handler not in logger.handlers:
            logger.addHandler(handler)
    if logging.getLogger("jieba").level < level:
        logging.getLogger("jieba").setLevel(level)  # jieba sets DEBUG on its logger
    install()
    return handler


def _is_console(handler: logging.Handler) -> bool:
    stream = getattr(handler, "stream", None)
    return isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler) and (
        stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
    )


def install() -> None:
    """Attach the filter to the root logger's handlers (idempotent)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, MaskPersonalData) for f in handler.filters):
            handler.addFilter(MaskPersonalData())
