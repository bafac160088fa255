"""A corpus of hostile inputs for every entry point of the assistant (issue 14, item 10).

Why: every door of the system is reachable by someone who does not play by the protocol: a customer
typing zero-width characters, a buggy integration posting a list, a stranger forging Telegram's secret
or replaying an update, a script guessing console tokens, something on the network posting to the
action server. Each such input must get a clear answer (a 4xx with a JSON error, or a real reply),
never a 5xx, never a crashed process, and a refused request must not change a stored row.

The corpus is fixed and deterministic: the same arguments give the same cases in the same order (no
randomness; the ids that must not collide with other tests are derived from `run`). Cases are grouped
by kind (`KINDS`) and by entry point (`ENTRY_POINTS`); `build` returns them all.

Each `Case` says what is expected:

* ``reject``: a 4xx with a JSON error (on socket.io: one rejection event, ``bot_uttered`` with a
  rejection text or ``error_message``); nothing stored changes.
* ``answer``: accepted and answered clearly: a non-empty bot reply, a Telegram status (and a message
  to the chat when the update was a private message), a JSON document. A 429 with a Chinese text is
  also a clear answer (the per-customer rate limits).
* ``either``: both are defensible (a Telegram update type aiogram may or may not parse); it must be
  one of the two, clearly.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent

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


# -- the entry points -----------------------------------------------------------------------------

def rest(run: str) -> List[Case]:
    """POST /webhooks/rest/webhook: malformed requests are refused; every hostile text is a turn."""
    cases: List[Case] = []
    add = cases.append
    sender = f"hostile-{run}"

    def turn(suffix: str, message: Any, **extra: Any) -> bytes:
        return dumps({"sender": f"{sender}-{suffix}", "message": message, **extra})

    for name, body in [
        ("empty_body", b""), ("brace", b"{"), ("not_json", b"{not json"),
        ("single_quotes", b"{'sender': 'a', 'message': 'b'}"),
        ("trailing_garbage", b'{"sender":"a","message":"b"} x'), ("null", b"null"), ("list", b"[]"),
        ("string", b'"hi"'),
        ("number", b"42"), ("true", b"true"), ("form", b"sender=a&message=b"), ("bom_garbage", b"\xef\xbb\xbf{"),
    ]:
        add(Case("rest", "invalid_json", name, REJECT, body=body))
        add(Case("rest", "invalid_json", name + "_no_content_type", REJECT, body=body, headers=()))
    for name, body, expect in [
        ("ff_fe", b'{"sender":"\xff\xfe","message":"x"}', REJECT),
        ("overlong_slash", b'{"sender":"a","message":"\xc0\xaf"}', REJECT),
        ("truncated", b'{"sender":"a","message":"\xe7\xbd"}', REJECT),
        ("latin1", "{\"sender\":\"a\",\"message\":\"caf\xe9\"}".encode("latin-1"), REJECT),
        ("utf16", '{"sender":"a","message":"b"}'.encode("utf-16"), REJECT),
        # sanic's JSON decoder lets these through (as U+0080 and a lone surrogate): refused or answered.
        ("lone_continuation", f'{{"sender":"hostile-{run}-u1","message":"\x80"}}'.encode("latin-1"), EITHER),
        ("cesu_surrogate", f'{{"sender":"hostile-{run}-u2","message":"'.encode() + b'\xed\xa0\x80"}', EITHER),
    ]:
        add(Case("rest", "invalid_utf8", name, expect, body=body))
    for type_name, value in WRONG_TYPES.items():
        add(Case("rest", "wrong_type", f"sender_{type_name}", REJECT, body=dumps({"sender": value, "message": "你好"})))
        add(Case("rest", "wrong_type", f"message_{type_name}", REJECT, body=turn("m", value)))
        if type_name not in ("null", "dict"):
            add(Case("rest", "wrong_type", f"metadata_{type_name}", REJECT, body=turn("d", "你好", metadata=value)))
        if type_name != "null":
            add(Case("rest", "wrong_type", f"message_id_{type_name}", REJECT, body=turn("i", "你好", message_id=value)))
    for name, body in [
        ("no_sender", {"message": "你好"}), ("no_message", {"sender": f"{sender}-x"}), ("empty_object", {}),
        ("sender_empty", {"sender": "", "message": "你好"}), ("sender_blank", {"sender": "   ", "message": "你好"}),
        ("message_id_empty", {"sender": f"{sender}-i", "message": "你好", "message_id": ""}),
    ]:
        add(Case("rest", "empty", name, REJECT, body=dumps(body)))
    for name, body in [
        ("message_5001", {"sender": f"{sender}-h", "message": "网" * 5001}),
        ("message_100k", {"sender": f"{sender}-h", "message": "x" * 100_000}),
        ("message_6mb", {"sender": f"{sender}-h", "message": "宽" * 2_000_000}),
        ("sender_256", {"sender": "s" * 256, "message": "你好"}),
        ("sender_100k", {"sender": "s" * 100_000, "message": "你好"}),
        ("message_id_65", {"sender": f"{sender}-i", "message": "你好", "message_id": "m" * 65}),
    ]:
        add(Case("rest", "huge", name, REJECT, body=dumps(body)))
    for name, body in [
        ("list_100k", nested_list(100_000)), ("object_20k", nested_object(20_000)),
        ("message_nested", b'{"sender":"n","message":' + nested_list(5_000) + b"}"),
        ("metadata_nested", b'{"sender":"n","message":"hi","metadata":' + nested_object(5_000) + b"}"),
        ("sender_nested", b'{"sender":' + nested_object(50) + b',"message":"hi"}'),
    ]:
        add(Case("rest", "nested_json", name, REJECT, body=body))
    for method in ("GET", "PUT", "DELETE", "PATCH"):
        add(Case("rest", "http", method.lower(), REJECT, method=method, body=dumps({"sender": "a", "message": "b"})))
    add(Case("rest", "http", "stream_wrong_type", REJECT, path="?stream=true", body=turn("s", 5)))
    # Accepted turns: a clear reply to every hostile text (each sender is a new customer).
    for kind, index, text in texts():
        add(Case("rest", kind, f"text_{index}", ANSWER, body=turn(f"{kind}-{index}", text)))
    add(Case("rest", "sql", "sender_sql", ANSWER, body=dumps({"sender": "x' OR '1'='1", "message": "你好"})))
    script = dumps({"sender": "<script>alert(1)</script>", "message": "你好"})
    add(Case("rest", "html_script", "sender_html", ANSWER, body=script))
    add(Case("rest", "control", "sender_nul", REJECT, body=dumps({"sender": f"{sender}\x00nul", "message": "你好"})))
    add(Case("rest", "zero_width_bidi", "sender_bidi", ANSWER, body=turn("\u202e\u200b", "你好")))
    odd = {"x": [[1]], "input_channel": "telegram"}
    add(Case("rest", "wrong_type", "metadata_odd", ANSWER, body=turn("meta", "你好", metadata=odd)))
    add(Case("rest", "forged", "input_channel", ANSWER, body=turn("chan", "你好", input_channel="telegram")))
    plain = (("Content-Type", "text/plain"),)
    add(Case("rest", "http", "text_plain_json", ANSWER, body=turn("plain", "你好"), headers=plain))
    return cases


# Answers of the web chat to a message it refuses (channels/webchat.py), and the channel's own errors.
SOCKET_REJECTIONS = ("暂时只能处理文字消息", "空消息", "太长", "会话未建立", "太快")


def socketio(run: str) -> List[Case]:
    """socket.io `session_request` and `user_uttered`, and the engine.io transport under them."""
    cases: List[Case] = []
    add = cases.append
    for name, args in [
        ("null", (None,)), ("string", ("abc",)), ("int", (5,)), ("list", ([1, 2],)),
        ("session_int", ({"session_id": 5},)),
        ("session_traversal", ({"session_id": "../../etc/passwd"},)),
        ("session_upper_hex", ({"session_id": "A" * 32},)),
        ("session_not_hex", ({"session_id": "g" * 32},)), ("session_never_issued", ({"session_id": "0" * 32},)),
        ("session_huge", ({"session_id": "x" * 200_000},)), ("session_bidi", ({"session_id": "\u202e" + "a" * 31},)),
        ("last_seen_str", ({"session_id": None, "last_message_id": "x"},)),
        ("last_seen_negative", ({"last_message_id": -1},)),
        ("last_seen_2_63", ({"last_message_id": 2**63},)), ("last_seen_float", ({"last_message_id": 1e308},)),
        ("last_seen_bool", ({"last_message_id": True},)), ("end_garbage", ({"session_id": None, "end": ["x"]},)),
        ("end_sql", ({"session_id": None, "end": "' OR 1=1 --"},)),
        ("nested", ({"session_id": json.loads(nested_list(200))},)),
    ]:
        add(Case("socketio", "wrong_type", f"session_request_{name}", ANSWER, event="session_request", args=args))
    add(Case("socketio", "empty", "message_before_session", REJECT, event="user_uttered", args=({"message": "你好"},),
             before_session=True))
    for name, args in [
        ("message_int", ({"message": 5},)), ("message_float", ({"message": 1.5},)),
        ("message_bool", ({"message": True},)),
        ("message_list", ({"message": ["a"]},)), ("message_dict", ({"message": {"text": "hi"}},)),
        ("data_list", (["a"],)),
        ("data_string", ("你好",)), ("data_int", (5,)), ("data_null", (None,)),
        ("message_bytes", ({"message": b"\xff\xfe"},)),
        ("data_bytes", (b"\x00\x01",)), ("message_nested", ({"message": json.loads(nested_list(200))},)),
        ("message_huge_int", ({"message": 10**90},)),  # engine.io drops a packet with an integer past 100 digits
    ]:
        add(Case("socketio", "wrong_type", f"user_uttered_{name}", REJECT, event="user_uttered", args=args))
    for name, text in [("empty", ""), ("spaces", "   "), ("ideographic_space", "\u3000\n\t"),
                       ("newlines", "\n" * 5000)]:
        add(Case("socketio", "empty", f"user_uttered_{name}", REJECT, event="user_uttered", args=({"message": text},)))
    for name, text in [("5001", "网" * 5001), ("200k", "x" * 200_000)]:
        add(Case("socketio", "huge", f"user_uttered_{name}", REJECT, event="user_uttered", args=({"message": text},)))
    # Accepted turns: a representative text of every kind (the REST channel takes the whole list).
    for kind, index, text in texts():
        if index % 3 == 0 and text.strip():
            add(Case("socketio", kind, f"user_uttered_text_{index}", ANSWER, event="user_uttered",
                     args=({"message": text},)))
    add(Case("socketio", "forged", "other_session_id", ANSWER, event="user_uttered",
             args=({"message": "你好", "session_id": "f" * 32},)))
    add(Case("socketio", "wrong_type", "init_payload_null", ANSWER, event="user_uttered", args=({"message": None},)))
    # The transport: refused handshakes and packets, plain HTTP.
    base = "/socket.io/"
    for name, method, path, headers, body in [
        ("no_params", "GET", base, (), None), ("eio_3", "GET", base + "?EIO=3&transport=polling", (), None),
        ("eio_99", "GET", base + "?EIO=99&transport=polling", (), None),
        ("bad_transport", "GET", base + "?EIO=4&transport=pigeon", (), None),
        ("unknown_sid_get", "GET", base + "?EIO=4&transport=polling&sid=nope", (), None),
        ("unknown_sid_post", "POST", base + "?EIO=4&transport=polling&sid=nope", (), b"40"),
        ("sid_sql", "GET", base + "?EIO=4&transport=polling&sid=%27%20OR%201%3D1--", (), None),
        ("forged_origin", "GET", base + "?EIO=4&transport=polling", (("Origin", "https://example.org"),), None),
        ("null_origin", "GET", base + "?EIO=4&transport=polling", (("Origin", "null"),), None),
        ("oversized_packet", "POST", base + "?EIO=4&transport=polling&sid={sid}", (),
         b'42["user_uttered",{"message":"' + b"x" * 2_000_000 + b'"}]'),
    ]:
        kind = "forged" if "origin" in name else "http"
        add(Case("socketio", kind, f"transport_{name}", REJECT, method=method, path=path, headers=headers, body=body))
    return cases


def _user(base: int, index: int) -> Dict[str, Any]:
    return {"id": base + index, "is_bot": False, "first_name": "测试", "language_code": "zh-hans"}


def telegram(run: str, secrets: Secrets) -> List[Case]:
    """POST /webhooks/telegram/webhook with the secret header; forged secrets, malformed and unknown
    updates, hostile texts in private chats, and (see `telegram_replays`) redelivered updates."""
    number = int(run, 16) % 1_000_000
    user_base = 3_000_000_000 + number * 1_000  # disjoint from the other tests' 10^7..2*10^9
    update_base = 5_000_000_000 + number * 10_000
    counter = iter(range(10_000))
    good = (("Content-Type", "application/json"), ("X-Telegram-Bot-Api-Secret-Token", secrets.telegram))
    cases: List[Case] = []

    def update(**content: Any) -> Dict[str, Any]:
        return {"update_id": update_base + next(counter), **content}

    def message(index: int, chat_type: str = "private", **content: Any) -> Dict[str, Any]:
        user = _user(user_base, index)
        chat = {"id": user["id"] if chat_type == "private" else -(10**12) - index, "type": chat_type}
        return {"message_id": 1 + index, "date": 1_760_000_000, "chat": chat, "from": user, **content}

    def add(kind: str, name: str, expect: str, data: Any = None, body: Optional[bytes] = None, headers=good, chat=None):
        raw = body if body is not None else dumps(data)
        sent = data if isinstance(data, dict) else None
        cases.append(Case("telegram", kind, name, expect, body=raw, headers=headers, chat=chat, update=sent))

    valid = update(message=message(900, text="你好"))
    secret = secrets.telegram
    for name, headers in [
        ("missing", (("Content-Type", "application/json"),)), ("empty", (("X-Telegram-Bot-Api-Secret-Token", ""),)),
        ("truncated", (("X-Telegram-Bot-Api-Secret-Token", secret[:-1]),)),
        ("extended", (("X-Telegram-Bot-Api-Secret-Token", secret + "x"),)),
        ("upper_case", (("X-Telegram-Bot-Api-Secret-Token", secret.upper()),)),
        ("trailing_space", (("X-Telegram-Bot-Api-Secret-Token", secret + " "),)),
        ("same_length", (("X-Telegram-Bot-Api-Secret-Token", "x" * len(secret)),)),
        ("utf8_bytes", (("X-Telegram-Bot-Api-Secret-Token", "秘密".encode()),)),
        ("nul", (("X-Telegram-Bot-Api-Secret-Token", secret + "\x00"),)),
        ("bot_token_instead", (("X-Telegram-Bot-Api-Secret-Token", "123456:ABC-DEF"),)),
        ("wrong_header_name", (("X-Telegram-Secret", secret),)),
        ("huge", (("X-Telegram-Bot-Api-Secret-Token", "x" * 10_000),)),
    ]:
        add("forged", f"secret_{name}", REJECT, valid, headers=headers)
    for name, body in [("empty", b""), ("brace", b"{"), ("not_json", b"update"), ("null", b"null"), ("list", b"[1]"),
                       ("string", b'"x"')]:
        add("invalid_json", name, REJECT, body=body)
    for name, body in [("ff", b'{"update_id":1,"message":"\xff"}'),
                       ("overlong", b'{"update_id":1,"message":{"text":"\xc0\xaf"}}')]:
        add("invalid_utf8", name, REJECT, body=body)
    # Python's JSON decoder reads CESU-8 surrogates: a text with a lone surrogate, refused or answered.
    cesu = dumps(update(message=message(240, text="x"))).replace(b'"text": "x"', b'"text": "\xed\xa0\x80"')
    add("invalid_utf8", "cesu", EITHER, body=cesu, chat=user_base + 240)
    add("nested_json", "message_50k", REJECT, body=b'{"update_id":1,"message":' + nested_object(50_000) + b"}")
    add("nested_json", "list_100k", REJECT, body=nested_list(100_000))
    for type_name, value in WRONG_TYPES.items():
        if type_name in ("int",):
            continue
        add("wrong_type", f"update_id_{type_name}", REJECT, {"update_id": value, "message": message(1, text="你好")})
        if type_name not in ("null", "dict"):  # a dict is a message: without `from` and `chat` it is ignored
            add("wrong_type", f"message_{type_name}", REJECT, update(message=value))
            add("wrong_type", f"callback_query_{type_name}", REJECT, update(callback_query=value))
    add("wrong_type", "update_id_missing", REJECT, {"message": message(1, text="你好")})
    add("wrong_type", "update_id_2_63", REJECT, {"update_id": 2**63, "message": message(1, text="你好")})
    for index, (name, content) in enumerate([
        ("from_string", {"from": "me"}),
        ("from_id_string", {"from": {"id": "abc", "is_bot": False, "first_name": "x"}}),
        ("from_id_float", {"from": {"id": 1.5, "is_bot": False, "first_name": "x"}}),
        ("from_id_bool", {"from": {"id": True, "first_name": "x"}}),
        ("from_id_huge", {"from": {"id": 10**40, "first_name": "x"}}),
        ("chat_id_string", {"chat": {"id": "abc", "type": "private"}}),
        ("chat_list", {"chat": [1]}), ("chat_type_int", {"chat": {"id": 5, "type": 1}}), ("text_int", {"text": 12345}),
        ("text_list", {"text": ["a"]}), ("text_dict", {"text": {"a": 1}}), ("caption_int", {"caption": 5, "photo": []}),
        ("photo_string", {"photo": "abc"}), ("photo_no_file_id", {"photo": [{}]}),
        ("photo_file_id_int", {"photo": [{"file_id": 5}]}),
        ("document_int", {"document": 5}), ("document_no_file_id", {"document": {"file_name": "a.pdf"}}),
        ("first_name_int", {"from": {"id": 1, "is_bot": False, "first_name": 5}}),
        ("username_list", {"from": {"id": 1, "first_name": "x", "username": ["a"]}}),
        ("reply_to_string", {"text": "hi", "reply_to_message": "x"}),
        ("reply_from_string", {"text": "hi", "reply_to_message": {"message_id": 1, "from": "x"}}),
    ]):
        add("wrong_type", name, REJECT, update(message={**message(100 + index), **content}))
    for index, (name, query) in enumerate([
        ("id_int", {"id": 5}), ("from_null", {"from": None}),
        ("from_id_string", {"id": "1", "from": {"id": "x", "first_name": "x"}}),
        ("data_int", {"data": 5}), ("data_list", {"data": ["a"]}), ("message_string", {"message": "x"}),
        ("message_chat_string", {"message": {"message_id": 1, "date": 1, "chat": "x"}}),
    ]):
        base_query = {"id": str(index), "from": _user(user_base, 200 + index), "chat_instance": "1", "data": "/affirm"}
        add("wrong_type", f"callback_{name}", REJECT, update(callback_query={**base_query, **query}))
    huge_photo = [{"file_id": "F" * 100_000, "file_unique_id": "u", "width": 1, "height": 1}]
    add("huge", "file_id_100k", REJECT, update(message=message(230, photo=huge_photo)))
    # Update types the bot does not take: ignored (200) or refused as malformed (400), never a 500.
    channel, private = {"id": -100123, "type": "channel"}, {"id": 1, "type": "private"}
    member = {"user": _user(user_base, 0), "status": "member"}
    kicked = {"user": _user(user_base, 0), "status": "kicked", "until_date": 0}
    group = {"id": -5, "type": "supergroup"}
    other_bot_message = {"message_id": 5, "date": 1, "chat": group, "from": _user(user_base, 999)}
    for index, (name, content) in enumerate([
        ("edited_message", {"edited_message": message(300, text="改过的", edit_date=1_760_000_001)}),
        ("channel_post", {"channel_post": {"message_id": 1, "date": 1, "chat": channel, "text": "公告"}}),
        ("edited_channel_post", {"edited_channel_post": {"message_id": 1, "date": 1, "chat": channel, "text": "x"}}),
        ("inline_query", {"inline_query": {"id": "1", "from": _user(user_base, 301), "query": "话费", "offset": ""}}),
        ("chosen_inline_result", {"chosen_inline_result": {"result_id": "1", "from": _user(user_base, 302),
                                                           "query": "x"}}),
        ("shipping_query", {"shipping_query": {"id": "1", "from": _user(user_base, 303), "invoice_payload": "x",
                                               "shipping_address": {}}}),
        ("pre_checkout_query", {"pre_checkout_query": {"id": "1", "from": _user(user_base, 304), "currency": "CNY",
                                                       "total_amount": 1, "invoice_payload": "x"}}),
        ("poll", {"poll": {"id": "1", "question": "?", "options": [], "total_voter_count": 0, "is_closed": False}}),
        ("poll_answer", {"poll_answer": {"poll_id": "1", "user": _user(user_base, 305), "option_ids": [0]}}),
        ("my_chat_member_blocked", {"my_chat_member": {"chat": {"id": user_base + 306, "type": "private"},
                                                        "from": _user(user_base, 306), "date": 1,
                                                        "old_chat_member": member, "new_chat_member": kicked}}),
        ("my_chat_member_empty", {"my_chat_member": {"chat": private, "from": _user(user_base, 307), "date": 1,
                                                      "old_chat_member": {}, "new_chat_member": {}}}),
        ("chat_join_request", {"chat_join_request": {"chat": {"id": -100, "type": "supergroup"},
                                                     "from": _user(user_base, 308), "date": 1}}),
        ("message_reaction", {"message_reaction": {"chat": private, "message_id": 1, "date": 1, "old_reaction": [],
                                                   "new_reaction": []}}),
        ("business_message", {"business_message": message(309, text="你好")}),
        ("future_type", {"x_future_update": {"anything": [1, {"b": None}]}}),
        ("only_update_id", {}), ("message_null", {"message": None}),
        ("message_without_from", {"message": {"message_id": 1, "date": 1, "chat": private, "text": "hi"}}),
        ("group_not_addressed", {"message": message(310, chat_type="group", text="大家好")}),
        ("supergroup_reply_to_other", {"message": message(311, chat_type="supergroup", text="hi",
                                                          reply_to_message=other_bot_message)}),
        ("callback_without_message", {"callback_query": {"id": "9", "from": _user(user_base, 312), "chat_instance": "1",
                                                         "data": "/affirm"}}),
        ("callback_without_data", {"callback_query": {"id": "10", "from": _user(user_base, 313), "chat_instance": "1",
                                                      "message": message(313, text="请确认")}}),
        ("callback_game", {"callback_query": {"id": "11", "from": _user(user_base, 314), "chat_instance": "1",
                                              "game_short_name": "x"}}),
    ]):
        add("telegram_update_type", name, EITHER, update(**content))
    # Private messages: the hostile texts, commands, content the bot cannot read, a hostile caption.
    index = 400
    for kind, _, text in texts():
        index += 1
        add(kind, f"text_{index}", ANSWER, update(message=message(index, text=text)), chat=user_base + index)
    for name, content in [
        ("sticker", {"sticker": {"file_id": "s", "file_unique_id": "u", "width": 1, "height": 1}}),
        ("voice", {"voice": {"file_id": "v", "file_unique_id": "u", "duration": 1}}),
        ("location", {"location": {"latitude": 0.0, "longitude": 0.0}}),
        ("contact", {"contact": {"phone_number": "13800000000", "first_name": "x"}}),
        ("dice", {"dice": {"emoji": "🎲", "value": 1}}),
        ("photo_empty_list", {"photo": []}), ("nothing", {}), ("start", {"text": "/start"}),
        ("start_other_bot", {"text": "/start@SomeOtherBot"}),
        ("help_with_args", {"text": "/help <script>"}), ("unknown_command", {"text": "/drop_table"}),
        ("slash_only", {"text": "/"}),
        ("status_sql", {"text": "/status ' OR 1=1"}), ("text_100k", {"text": "宽" * 100_000}),
        ("photo_hostile_caption", {"photo": [{"file_id": "AgAD-x", "file_unique_id": "u", "width": 1, "height": 1}],
                                   "caption": "<script>alert(1)</script>\u202e" + "x" * 5000}),
        ("document_sql_name", {"document": {"file_id": "BQAD-hostile", "file_unique_id": "u",
                                            "file_name": "'; DROP TABLE tickets;--.pdf"}}),
        ("negative_ids", {"text": "你好"}),
    ]:
        index += 1
        data = update(message=message(index, **content))
        if name == "negative_ids":
            data["message"]["chat"]["id"] = data["message"]["from"]["id"] = -(user_base + index)
        kind = {"text_100k": "huge", "photo_hostile_caption": "html_script", "status_sql": "sql",
                "document_sql_name": "sql"}.get(name, "telegram_update_type")
        add(kind, name, ANSWER, data, chat=data["message"]["chat"]["id"])
    for name, payload in [("restart", "/restart"), ("inform", '/inform{"contact_phone":"13800000000"}'),
                          ("unknown", "/nonexistent"),
                          ("html", "<b>x</b>"), ("max_64_bytes", "/" + "a" * 63), ("zero_width", "\u200b")]:
        index += 1
        user = _user(user_base, index)
        data = update(callback_query={"id": str(index), "from": user, "chat_instance": "1", "data": payload,
                                      "message": {"message_id": 7, "date": 1, "text": "请确认",
                                                  "chat": {"id": user["id"], "type": "private"}}})
        add("intent_payload", f"button_{name}", ANSWER, data, chat=user["id"])
    return cases


def telegram_replays(cases: List[Case]) -> List[Case]:
    """The accepted private-message updates sent again: Telegram's redelivery, or a replay by someone
    who captured them. Each is answered as a duplicate and changes nothing."""
    return [
        Case("telegram", "replay", f"replay_of_{c.name}", ANSWER, body=c.body, headers=c.headers, update=c.update)
        for c in cases if c.expect == ANSWER and c.chat is not None and c.name.startswith(("text_", "button_"))
    ][::4]


def agent(run: str, secrets: Secrets) -> List[Case]:
    """/agent/api: every route without a valid token, forged tokens, hostile login bodies, and hostile
    bodies, ids and query parameters from a signed-in agent and supervisor."""
    cases: List[Case] = []
    doc = json.loads((ROOT / "channels" / "static" / "agent" / "openapi.json").read_text(encoding="utf-8"))
    routes = [(m.upper(), path) for path, item in doc["paths"].items() for m in item if m in ("get", "post")]
    fill = {"{id}": "1", "{number}": "TS000000-AAAAAAAA"}

    def path_of(template: str) -> str:
        for key, value in fill.items():
            template = template.replace(key, value)
        return template

    def add(kind: str, name: str, method: str, path: str, body: Optional[bytes] = None, token: Optional[str] = None,
            headers: Tuple[Tuple[Any, Any], ...] = JSON, expect: str = REJECT) -> None:
        if token:
            headers = headers + (("Authorization", f"Bearer {token}"),)
        cases.append(Case("agent", kind, name, expect, method=method, path=path, body=body, headers=headers))

    for method, template in routes:
        if template in ("/login", "/openapi.json"):
            continue
        body = b"{}" if method == "POST" else None
        add("forged", f"no_token_{method}_{template}", method, path_of(template), body=body)
    forged_tokens = [
        ("empty", ""), ("random", "A" * 43), ("sql", "' OR '1'='1"), ("nul", "abc\x00def"), ("too_long", "t" * 300),
        ("header_bomb", "t" * 10_000), ("utf8_bytes", "令牌"), ("other_scheme", None),
    ]
    for name, token in forged_tokens:
        for path in ("/me", "/queue", "/sessions/1/transcript"):
            if token is None:
                headers = JSON + (("Authorization", "Basic YWRtaW46YWRtaW4="),)
            elif name == "utf8_bytes":
                headers = JSON + (("Authorization", ("Bearer " + token).encode()),)
            else:
                headers = JSON + (("Authorization", f"Bearer {token}"),)
            add("forged", f"token_{name}_{path}", "GET", path, headers=headers)
    add("forged", "supervisor_token_as_query", "GET", f"/me?token={secrets.supervisor_token}")
    # Login: refused before any password is checked (no failure is recorded) ...
    form = (("Content-Type", "application/x-www-form-urlencoded"),)
    for kind, name, body, headers in [
        ("invalid_json", "invalid_json", b"{", JSON), ("wrong_type", "list", b"[1]", JSON),
        ("nested_json", "nested", b'{"username":' + nested_list(50_000) + b"}", JSON),
        ("invalid_utf8", "invalid_utf8", b'{"username":"\xff","password":"x"}', JSON),
        ("wrong_type", "username_int", dumps({"username": 5, "password": "x"}), JSON),
        ("wrong_type", "password_list", dumps({"username": "a", "password": ["x"]}), JSON),
        ("empty", "password_empty", dumps({"username": "a", "password": ""}), JSON), ("empty", "empty_body", b"", JSON),
        ("huge", "username_100k", dumps({"username": "a" * 100_000, "password": "x"}), JSON),
        ("huge", "username_65", dumps({"username": "a" * 65, "password": "x"}), JSON),
        ("huge", "password_257", dumps({"username": "a", "password": "p" * 257}), JSON),
        ("http", "form_post", b"username=admin&password=admin", form),
        ("http", "text_plain", dumps({"username": "admin", "password": "x"}), (("Content-Type", "text/plain"),)),
        ("http", "no_content_type", dumps({"username": "admin", "password": "x"}), ()),
        ("unicode", "surrogate", b'{"username":"\\ud800","password":"\\udfff"}', JSON),
    ]:
        add(kind, f"login_{name}", "POST", "/login", body=body, headers=headers)
    # ... and four wrong passwords (each a failure the login throttle records; at most four, so the
    # shared stack's address stays far below its limit of 20 failures in 15 minutes).
    for name, username, password in [("sql", "admin' OR '1'='1", "' OR 1=1 --"), ("nul", "ad\x00min", "x\x00"),
                                     ("html", "<script>", "<img src=x>"), ("unknown", f"nobody-{run}", "Password-123")]:
        add("forged", f"login_wrong_{name}", "POST", "/login", body=dumps({"username": username, "password": password}))
    for method in ("PUT", "DELETE", "PATCH"):
        add("http", f"login_{method}", method, "/login", body=b"{}")
        add("http", f"me_{method}", method, "/me", token=secrets.agent_token)
    agent_token, supervisor = secrets.agent_token, secrets.supervisor_token
    # Bodies: every route that reads one, signed in as a supervisor (who may reach every check).
    post_routes = ["/sessions/999999999/messages", "/sessions/999999999/transfer", "/sessions/999999999/escalate",
                   "/sessions/999999999/reassign", "/tickets/TS000000-AAAAAAAA/resolve",
                   "/escalations/999999999/accept",
                   "/escalations/999999999/decline", "/incidents", "/incidents/INC-NOPE/update",
                   "/incidents/INC-NOPE/close",
                   "/incidents/INC-NOPE/link", "/incidents/INC-NOPE/unlink", "/privacy-requests/999999999/reject",
                   "/privacy-requests/999999999/execute"]
    bodies = [
        ("invalid_json", "invalid_json", b"{"), ("nested", "nested_json", b'{"text":' + nested_list(20_000) + b"}"),
        ("invalid_utf8", "invalid_utf8", b'{"text":"\xff\xfe"}'), ("list", "wrong_type", b"[1]"),
        ("wrong_types", "wrong_type", dumps({k: 1 for k in ("text", "to", "reason", "note", "handler", "resolution",
                                                             "ticket", "area", "eta", "notify")})),
        ("too_big", "huge", dumps({"text": "x" * 70_000})),
    ]
    for path in post_routes:
        for name, kind, body in bodies:
            add(kind, f"body_{name}_{path}", "POST", path, body=body, token=supervisor)
    for kind, name, text in [
        ("huge", "text_5001", "网" * 5001), ("empty", "text_empty", ""),
        ("zero_width_bidi", "text_zero_width", "\u200b"),
        ("html_script", "text_html", "<script>alert(1)</script>"),
        ("sql", "text_sql", "'; DROP TABLE handoff_messages; --"),
    ]:
        add(kind, f"message_{name}", "POST", "/sessions/999999999/messages", dumps({"text": text}), agent_token)
    for name, body in [
        ("eta_edge", {"eta": "9999-12-31T23:59:59-23:59"}), ("eta_min", {"eta": "0001-01-01T00:00:00+14:00"}),
        ("eta_naive", {"eta": "2030-01-01T00:00:00"}),
        ("eta_garbage", {"eta": "明天"}), ("eta_hours_nan", None), ("eta_hours_inf", None),
        ("eta_hours_negative", {"eta_hours": -1}),
        ("eta_hours_bool", {"eta_hours": True}), ("eta_hours_huge", {"eta_hours": 1e308}),
        ("area_huge", {"area": "区" * 65}),
        ("note_huge", {"note": "n" * 2001}), ("symptom_sql", {"symptom": "' OR 1=1"}),
    ]:
        raw = {"eta_hours_nan": b'{"eta_hours": NaN}', "eta_hours_inf": b'{"eta_hours": Infinity}'}.get(name)
        raw = raw or dumps(body)
        add("wrong_type", f"incident_{name}", "POST", "/incidents", body=raw, token=supervisor)
    add("wrong_type", "incident_update_notify_string", "POST", "/incidents/INC-NOPE/update", dumps({"notify": "yes"}),
        supervisor)
    # Ids and query parameters.
    for name, path in [
        ("session_negative", "/sessions/-1"), ("session_zero", "/sessions/0"),
        ("session_2_63", "/sessions/9223372036854775808"),
        ("session_10_30", "/sessions/" + "9" * 30), ("session_float", "/sessions/1.5"),
        ("session_sql", "/sessions/1%20OR%201=1"),
        ("session_traversal", "/sessions/..%2F..%2Fme"), ("transcript_huge", "/sessions/" + "9" * 30 + "/transcript"),
        ("incident_sql", "/incidents/%27%20OR%201%3D1--"), ("incident_huge", "/incidents/" + "X" * 3000),
        ("incident_nul", "/incidents/%00"), ("incident_bad_utf8", "/incidents/%ff%fe"),
        ("events_after_text", "/events?after=abc"), ("events_after_2_63", "/events?after=9223372036854775808"),
        ("events_after_negative", "/events?after=-2"), ("events_timeout_nan", "/events?after=1&timeout=nan"),
        ("events_timeout_inf", "/events?after=1&timeout=inf"),
        ("events_timeout_1e309", "/events?after=1&timeout=1e309"),
        ("sessions_scope", "/sessions?scope=%00"), ("sessions_scope_all", "/sessions?scope=all"),
        ("stats", "/stats"), ("delivery_failures", "/delivery-failures"), ("outbox", "/outbox"),
        ("access_log", "/access-log"),
        ("privacy_requests", "/privacy-requests"), ("incidents", "/incidents"),
    ]:
        add("path_query", f"agent_{name}", "GET", path, token=agent_token)
    for name, path in [
        ("access_log_limit_text", "/access-log?limit=abc"),
        ("privacy_status", "/privacy-requests?status=%3Cx%3E"), ("stats_dates", "/stats?from=9999-99-99&to=x"),
        ("stats_channel_nul", "/stats?channel=%00"), ("stats_reversed", "/stats?from=2026-01-02&to=2025-01-01"),
        ("stats_year_1", "/stats?from=0001-01-01&to=9999-12-31"),
        ("stats_csv_html", "/stats.csv?from=x&channel=%3Cscript%3E"),
        ("escalation_huge", "/escalations/" + "9" * 30 + "/accept"),
        ("escalation_decline_huge", "/escalations/" + "9" * 30 + "/decline"),
        ("privacy_huge", "/privacy-requests/" + "9" * 30 + "/execute"),
        ("privacy_reject_huge", "/privacy-requests/" + "9" * 30 + "/reject"),
        ("outbox_retry_huge", "/outbox/" + "9" * 30 + "/retry"), ("outbox_retry_zero", "/outbox/0/retry"),
        ("ticket_resolve_huge", "/tickets/" + "X" * 3000 + "/resolve"),
    ]:
        method = "POST" if path.endswith(("accept", "decline", "execute", "reject", "retry", "resolve")) else "GET"
        body = dumps({"handler": "x", "reason": "y", "note": "z"}) if method == "POST" else None
        add("path_query", f"supervisor_{name}", method, path, body=body, token=supervisor)
    # Clamped to 1..1000 rows: answered, not refused.
    add("path_query", "supervisor_access_log_limit_huge", "GET", "/access-log?limit=" + "9" * 30, token=supervisor,
        expect=ANSWER)
    for name, path in [("accept", "/sessions/999999999/accept"),
                       ("transfer_accept", "/sessions/999999999/transfer/accept"),
                       ("release", "/sessions/999999999/release"), ("close", "/sessions/999999999/close"),
                       ("accept_2_63", "/sessions/9223372036854775807/accept")]:
        add("path_query", f"agent_{name}", "POST", path, token=agent_token)
    return cases


def backend(run: str, secrets: Secrets) -> List[Case]:
    """/api/tickets: missing and forged keys, hostile query parameters and ticket numbers."""
    cases: List[Case] = []
    key = secrets.api_key

    def add(kind: str, name: str, path: str, headers: Tuple[Tuple[Any, Any], ...], method: str = "GET",
            expect: str = REJECT) -> None:
        cases.append(Case("backend", kind, name, expect, method=method, path=path, headers=headers))

    for name, headers in [
        ("missing", ()), ("empty", (("X-API-Key", ""),)), ("truncated", (("X-API-Key", key[:-1]),)),
        ("extended", (("X-API-Key", key + "x"),)),
        ("upper", (("X-API-Key", key.upper()),)), ("same_length", (("X-API-Key", "k" * len(key)),)),
        ("utf8_bytes", (("X-API-Key", "钥匙".encode()),)),
        ("as_bearer", (("Authorization", f"Bearer {key}"),)), ("nul", (("X-API-Key", key + "\x00"),)),
        ("huge", (("X-API-Key", "k" * 10_000),)),
        ("telegram_secret", (("X-API-Key", secrets.telegram),)),
    ]:
        for path in ("/tickets", "/tickets/TS000000-AAAAAAAA", "/tickets?limit=abc"):
            add("forged", f"key_{name}_{path}", path, headers)
    add("forged", "key_in_query", f"/tickets?api_key={key}", ())
    good = (("X-API-Key", key),)
    for name, query in [
        ("limit_text", "limit=abc"), ("limit_zero", "limit=0"), ("limit_negative", "limit=-1"),
        ("limit_501", "limit=501"),
        ("limit_huge", "limit=" + "9" * 5000), ("limit_float", "limit=1.5"), ("limit_nan", "limit=nan"),
        ("since_garbage", "updated_since=yesterday"), ("since_month_13", "updated_since=2020-13-45"),
        ("since_naive", "updated_since=2020-01-01T00:00:00"),
        ("since_year_0", "updated_since=0000-01-01T00:00:00Z"),
        ("since_edge_max", "updated_since=9999-12-31T23:59:59.999999-23:59"),
        ("since_edge_min", "updated_since=0001-01-01T00:00:00%2B14:00"),
        ("since_sql", "updated_since=%27%20OR%201%3D1--"),
        ("since_nul", "updated_since=%00"), ("cursor_negative", "cursor=-1"),
        ("cursor_2_63", "cursor=9223372036854775808"),
        ("cursor_float", "cursor=1.5"), ("cursor_nul", "cursor=%00"), ("cursor_text", "cursor=abc"),
        ("after_long", "after=" + "x" * 100),
        ("after_nested", "after=" + "%5B" * 1000),
    ]:
        add("path_query", f"tickets_{name}", f"/tickets?{query}", good)
    for name, number in [("sql", "%27%20OR%201%3D1--"), ("huge", "X" * 10_000), ("nul", "%00"), ("bad_utf8", "%ff%fe"),
                         ("traversal", "..%2F..%2Fopenapi.json"), ("html", "%3Cscript%3E"),
                         ("zero_width", "%E2%80%8B")]:
        add("path_query", f"ticket_{name}", f"/tickets/{number}", good)
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        add("http", f"tickets_{method}", "/tickets", good, method=method)
        add("http", f"ticket_{method}", "/tickets/TS000000-AAAAAAAA", good, method=method)
    for name, query in [("after_sql", "after=%27%20OR%201%3D1--"), ("limit_unicode_digits", "limit=%D9%A1%D9%A2"),
                        ("limit_spaces", "limit=%2010%20"), ("cursor_zero", "cursor=0&limit=1"),
                        ("since_far_future", "updated_since=9000-01-01T00:00:00Z")]:
        add("path_query", f"tickets_accepted_{name}", f"/tickets?{query}", good, expect=ANSWER)
    return cases


def _action_call(action: str, tracker: Dict[str, Any], **extra: Any) -> Dict[str, Any]:
    return {"next_action": action, "sender_id": tracker.get("sender_id"), "tracker": tracker, "domain": {},
            "version": "3.6.21", **extra}


def actions(run: str, action_names: List[str], slots: List[str]) -> List[Case]:
    """POST /webhook on the action server: bodies that are no action call Rasa could have sent."""
    cases: List[Case] = []
    sender = f"hostile-actions-{run}"
    tracker = {"sender_id": sender, "slots": {}, "latest_message": {"text": "你好"}, "events": [],
               "latest_input_channel": "rest"}
    status = "action_check_ticket_status"  # read-only: the accepted calls change nothing

    def add(kind: str, name: str, body: Optional[bytes], expect: str = REJECT, headers: Any = JSON,
            method: str = "POST") -> None:
        cases.append(Case("actions", kind, name, expect, method=method, path="/webhook", body=body, headers=headers))

    for name, body in [("empty", b""), ("brace", b"{"), ("null", b"null"), ("list", b"[1]"), ("string", b'"x"'),
                       ("number", b"5")]:
        add("invalid_json", name, body)
        add("invalid_json", f"{name}_no_content_type", body, headers=())
    add("invalid_utf8", "ff", b'{"next_action":"action_check_ticket_status","tracker":{"sender_id":"\xff"}}')
    add("nested_json", "object_20k", nested_object(20_000))
    deep_tracker = b'{"next_action":"' + status.encode() + b'","tracker":' + nested_object(5000) + b"}"
    add("nested_json", "tracker_5k", deep_tracker)
    padded = _action_call(status, {**tracker, "slots": {"complaint_description": 5}}, padding="x" * 6_000_000)
    add("huge", "body_6mb", dumps(padded))
    deflate = (("Content-Type", "application/json"), ("Content-Encoding", "deflate"))
    add("invalid_json", "deflate_not_zlib", b"not zlib", headers=deflate)
    add("huge", "deflate_bomb", zlib.compress(b" " * 110_000_000, 9), headers=deflate)  # past the 100 MB limit
    add("invalid_json", "deflate_truncated", zlib.compress(dumps(_action_call(status, tracker)))[:-5], headers=deflate)
    for method in ("GET", "PUT", "DELETE"):
        add("http", f"webhook_{method}", None, method=method)
    for type_name, value in WRONG_TYPES.items():
        add("wrong_type", f"next_action_{type_name}", dumps(_action_call("x", tracker) | {"next_action": value}))
        add("wrong_type", f"tracker_{type_name}", dumps(_action_call(status, tracker) | {"tracker": value}))
        if type_name != "null":
            add("wrong_type", f"version_{type_name}", dumps(_action_call(status, tracker) | {"version": value}))
        if type_name not in ("null", "dict"):
            add("wrong_type", f"domain_{type_name}", dumps(_action_call(status, tracker) | {"domain": value}))
        for part in ("sender_id", "slots", "latest_message", "events", "paused", "active_loop", "latest_action_name"):
            if value is None and part != "sender_id":
                continue
            if (part == "slots" or part == "latest_message" or part == "active_loop") and isinstance(value, dict):
                continue
            if part == "events" and isinstance(value, list) and not value:
                continue
            if part == "paused" and isinstance(value, bool):
                continue
            add("wrong_type", f"tracker_{part}_{type_name}", dumps(_action_call(status, {**tracker, part: value})))
    for name, latest in [
        ("intent_name_int", {"text": "hi", "intent": {"name": 5, "confidence": 1.0}}),
        ("intent_confidence_text", {"text": "hi", "intent": {"name": "greet", "confidence": "high"}}),
        ("entities_strings", {"text": "hi", "entities": ["x"]}),
        ("ranking_mixed", {"text": "hi", "intent_ranking": [1, "x", None]}),
        ("selector_string", {"text": "hi", "response_selector": {"consult": "x"}}),
        ("selector_response_string", {"text": "hi", "response_selector": {"consult": {"response": "x"}}}),
        ("selector_utter_int", {"text": "hi", "response_selector": {"consult": {"response": {"utter_action": 5}}}}),
        ("text_int", {"text": 5}), ("metadata_list", {"text": "hi", "metadata": [1]}),
    ]:
        for action in ("action_answer_consultation", "action_start_complaint", "action_handle_fallback"):
            forged = {**tracker, "latest_message": latest}
            add("wrong_type", f"latest_{name}_{action}", dumps(_action_call(action, forged)))
    for name, events in [("no_name", [{"a": 1}]), ("name_int", [{"event": 5}]), ("string", ["user"]),
                         ("nested", [[{"event": "user"}]])]:
        for action in ("validate_complaint_form", status):
            add("wrong_type", f"events_{name}_{action}", dumps(_action_call(action, {**tracker, "events": events})))
    # Slot values no domain slot can hold, and enum slots naming no member, for every action.
    slot_values = [("int", 5), ("list", ["x"]), ("dict", {"a": 1}), ("unknown_category", "nope")]
    for action in action_names:
        for value_name, value in slot_values:
            forged = {**tracker, "slots": {s: value for s in slots}}
            add("wrong_type", f"slots_{value_name}_{action}", dumps(_action_call(action, forged)))
    for name in ("action_nope", "../../etc/passwd", "utter_greet", "action_" + "x" * 10_000, "<script>", "' OR 1=1 --",
                 "\u202eaction"):
        add("path_query", f"unknown_action_{name[:24]}", dumps(_action_call(name, tracker)))
    # Accepted: a read-only action called with a hostile but well-formed conversation id.
    hostile_ids = ["' OR '1'='1", "<script>alert(1)</script>", "\u202e\u200b", "x" * 10_000, "\ud800", "../../x"]
    for index, hostile in enumerate(hostile_ids):
        call = _action_call(status, {**tracker, "sender_id": hostile})
        add("forged", f"accepted_sender_{index}", dumps(call), ANSWER)
    return cases


def build(run: str, secrets: Secrets, action_names: List[str], slots: List[str]) -> List[Case]:
    """Every case for every entry point (Telegram replays come separately: they need the first
    delivery done; see `telegram_replays`)."""
    return [
        *rest(run), *socketio(run), *telegram(run, secrets), *agent(run, secrets), *backend(run, secrets),
        *actions(run, action_names, slots),
    ]
