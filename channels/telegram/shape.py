"""An update's shape, checked before aiogram reads it and before the update is claimed.

aiogram builds its objects from any JSON without checking types; these checks turn a malformed
update into a 400 (webhook) or a skipped update (polling) instead of a failure deep inside the turn.
"""

from __future__ import annotations

from typing import Any, Dict, Optional


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) < value < 2**63


def _is_file_id(value: Any) -> bool:
    # What getFile takes (1 to 255 characters); refused here, before the update is claimed.
    return isinstance(value, str) and 0 < len(value.strip()) and len(value) <= 255


def _is_file(value: Any) -> bool:
    """A photo size or document: a file id, and a size (if announced) that is a whole number."""
    size = value.get("file_size") if isinstance(value, dict) else None
    return isinstance(value, dict) and _is_file_id(value.get("file_id")) and (size is None or _is_id(size))


def _shape_problem(data: Dict[str, Any]) -> Optional[str]:
    """What makes an update unusable, found before aiogram reads it. aiogram builds its objects from
    any JSON without checking types, so a string where a message belongs, a number as the text or a
    non-integer id used to fail deep inside the turn (a 500) or be sent on to the Bot API."""
    if not _is_id(data.get("update_id")):
        return "update_id out of range"
    query = data.get("callback_query")
    if query is not None:
        if not isinstance(query, dict) or not isinstance(query.get("id"), str):
            return "callback_query needs a string id"
        if not isinstance(query.get("from"), dict) or not _is_id(query["from"].get("id")):
            return "callback_query.from needs an integer id"
        if not isinstance(query.get("data"), (str, type(None))):
            return "callback_query.data is not a string"
        if query.get("message") is not None:
            return _message_problem(query["message"], "callback_query.message")
    if data.get("message") is not None:
        return _message_problem(data["message"], "message")
    return None


def _message_problem(message: Any, where: str) -> Optional[str]:
    if not isinstance(message, dict):
        return f"{where} is not an object"
    for key in ("from", "chat"):
        part = message.get(key)
        if part is not None and (not isinstance(part, dict) or not _is_id(part.get("id"))):
            return f"{where}.{key} needs an integer id"
    user = message.get("from") or {}
    if not all(isinstance(user.get(key), (str, type(None))) for key in ("first_name", "last_name", "username")):
        return f"{where}.from has a name that is not a string"
    if message.get("chat") is not None and not isinstance(message["chat"].get("type"), str):
        return f"{where}.chat.type is not a string"
    for key in ("text", "caption"):
        if not isinstance(message.get(key), (str, type(None))):
            return f"{where}.{key} is not a string"
    photo, document = message.get("photo"), message.get("document")
    if photo is not None and not (
        isinstance(photo, list) and all(_is_file(p) for p in photo)
    ):
        return f"{where}.photo is not a list of photo sizes"
    if document is not None and not _is_file(document):
        return f"{where}.document has no file id"
    reply = message.get("reply_to_message")
    if reply is not None and (not isinstance(reply, dict) or not isinstance(reply.get("from"), (dict, type(None)))):
        return f"{where}.reply_to_message is not a message"
    return None
