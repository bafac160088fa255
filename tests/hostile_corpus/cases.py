"""What every part of the hostile-input corpus shares: a `Case` and what it expects, the secrets a
case may need, the kinds and entry points, the hostile texts a customer may type, and JSON helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[2]  # the repository (this file is tests/hostile_corpus/cases.py)

ENTRY_POINTS = ("rest", "socketio", "telegram", "agent", "backend", "actions")
KINDS = (
    "empty", "huge", "control", "zero_width_bidi", "unicode", "invalid_utf8", "invalid_json", "html_script", "sql",
    "injection", "intent_payload", "nested_json", "wrong_type", "http", "telegram_update_type", "forged", "replay",
    "path_query",
)

REJECT, ANSWER, EITHER = "reject", "answer", "either"
JSON = (("Content-Type", "application/json"),)


@dataclass(frozen=True)
class Case:
    entry: str  # one of ENTRY_POINTS
    kind: str  # one of KINDS
    name: str
    expect: str  # REJECT, ANSWER or EITHER
    method: str = "POST"
    path: str = ""  # appended to the entry point's base URL
    body: Optional[bytes] = None
    headers: Tuple[Tuple[Any, Any], ...] = JSON
    # socket.io: the event and its arguments (a tuple: several arguments; () none at all)
    event: str = ""
    args: Tuple[Any, ...] = ()
    before_session: bool = False  # socket.io: sent before session_request
    chat: Optional[int] = None  # Telegram: the chat that must get a reply
    update: Optional[Dict[str, Any]] = field(default=None, hash=False, compare=False)  # Telegram: the update sent

    @property
    def label(self) -> str:
        return f"{self.entry}/{self.kind}/{self.name}"


@dataclass(frozen=True)
class Secrets:
    telegram: str
    api_key: str
    agent_token: str
    supervisor_token: str


def dumps(value: Any) -> bytes:
    """JSON as a client would send it (lone surrogates as \\ud800 escapes, which is valid JSON)."""
    return json.dumps(value, ensure_ascii=True).encode("ascii")


def nested_list(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def nested_object(depth: int, leaf: bytes = b"1") -> bytes:
    return b'{"a":' * depth + leaf + b"}" * depth


# -- texts a customer may type ------------------------------------------------------------------

# What the assistant must answer as a turn: each is a message body that passes the channels' checks.
HOSTILE_TEXTS: Dict[str, List[str]] = {
    "empty": ["", " ", "\t\n", "\u3000\u3000", "\r\n\r\n"],
    "control": ["\x00", "\x00你好", "\x07\x08\x1b[2J", "话费\x00查询", "\x1b]0;title\x07", "\x7f\x80\x9f", "宽带\x0b\x0c断网"],
    "zero_width_bidi": [
        "\u200b", "\ufeff", "\u200b\u200c\u200d\u2060", "\u202e\u2066\u2069", "查\u200b话\u200b费", "\u202e费话查\u202c",
        "\u061c\u200e\u200f", "宽带\u2067断网\u2069了", "\ufeff查一下话费",
    ],
    "unicode": [
        "\ud800", "\udfff话费", "a\u0301\u0301\u0301", "ｆｕｌｌｗｉｄｔｈ　ｔｅｘｔ", "𝕳𝖊𝖑𝖑𝖔", "👨\u200d👩\u200d👧\u200d👦",
        "Привет", "нет", "مرحبا", "\U000e0001\U000e0074", "\ue000\uf8ff", "Z̵̢̛a̸l̶g̷o̴",
    ],
    "html_script": [
        "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "\"><svg/onload=alert(1)>", "javascript:alert(1)",
        "<iframe src=//example.invalid>", "&lt;b&gt;粗体&lt;/b&gt;", "<!--", "]]><x>", "<b>宽带</b>断网了",
    ],
    "sql": [
        "' OR '1'='1", "'; DROP TABLE tickets; --", "1; DELETE FROM handoff_sessions", "\" OR 1=1 --", "admin'--",
        "UNION SELECT password_hash FROM agents", "TS261203-' OR 1=1--", "查询工单 ' OR ''='",
    ],
    "injection": [
        "%s%s%s%n", "{0}{1}{__class__}", "{{7*7}}", "${jndi:ldap://127.0.0.1:9/a}", "\r\nX-Injected: 1", "$(rm -rf /)",
        "`id`", "../../etc/passwd", "%00%0d%0a", "{% raw %}", "\\u0000\\n",
    ],
    "intent_payload": [
        "/restart", "/session_start", '/inform{"contact_phone":"13800000000"}', "/nonexistent_intent", '/greet{"a":',
        '/affirm{"complaint_confirmed": true}', "/check_ticket_status", "/cancel_handoff", "/back", "/action_listen",
        '/deny{"x":[1,2,{"y":null}]}', "/", "//", "/" + "a" * 300, '/survey_score{"score": "<b>"}', "/EXTERNAL_dry_run",
    ],
    "huge": ["网" * 5000, "a" * 4999, "宽带断网了" * 999, "🙂" * 2500, "\n" * 4999],
}


def texts(kinds: Optional[Tuple[str, ...]] = None) -> Iterator[Tuple[str, int, str]]:
    """(kind, index, text) for the hostile texts, in a fixed order."""
    for kind, items in HOSTILE_TEXTS.items():
        if kinds is None or kind in kinds:
            for index, text in enumerate(items):
                yield kind, index, text


WRONG_TYPES: Dict[str, Any] = {
    "int": 42, "float": 1.5, "bool": True, "null": None, "list": ["x"], "dict": {"text": "x"}, "empty_list": [],
    "nested": [[[[["x"]]]]], "huge_int": 10**300,
}
