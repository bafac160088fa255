"""Hostile inputs for the doors other systems call: the backend API (/api/tickets) and the action
server (what a stranger on the network may post to it)."""

from __future__ import annotations

import zlib
from typing import Any, Dict, List, Optional, Tuple

from tests.hostile_corpus.cases import ANSWER, JSON, REJECT, WRONG_TYPES, Case, Secrets, dumps, nested_object


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
