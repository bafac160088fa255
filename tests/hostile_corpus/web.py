"""Hostile inputs for the web doors customers use: the REST webhook and the socket.io web chat."""

from __future__ import annotations

import json
from typing import Any, List

from tests.hostile_corpus.cases import (
    ANSWER, EITHER, REJECT, WRONG_TYPES, Case, dumps, nested_list, nested_object, texts,
)


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
