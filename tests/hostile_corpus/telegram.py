"""Hostile inputs for the Telegram webhook: malformed and forged updates, every update type, and
replays of the updates that were accepted."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from tests.hostile_corpus.cases import (
    ANSWER, EITHER, REJECT, WRONG_TYPES, Case, Secrets, dumps, nested_list, nested_object, texts,
)


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
    for _index, (name, content) in enumerate([
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
