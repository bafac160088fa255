"""A WeChat message's shape, checked after parsing and before it is claimed, and the key that
makes a repeat recognisable: MsgId for messages, FromUserName + CreateTime for events (which have
no MsgId), as WeChat's documentation says, plus the event and its key."""

from __future__ import annotations

import hashlib
import re
from typing import Any, Optional

_OPENID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_DIGITS = re.compile(r"^[0-9]{1,20}$")


def _raw(message: Any, name: str) -> str:
    return str((getattr(message, "_data", None) or {}).get(name) or "")


def shape_problem(message: Any) -> Optional[str]:
    """What makes a parsed message unusable (wechatpy converts fields lazily and raises on access)."""
    if message is None or not isinstance(getattr(message, "_data", None), dict):
        return "not a message"
    if not _OPENID.match(_raw(message, "FromUserName")):
        return "FromUserName is not an OpenID"
    if not _DIGITS.match(_raw(message, "CreateTime")):
        return "CreateTime is not a number"
    msg_id = _raw(message, "MsgId")
    if msg_id and not _DIGITS.match(msg_id):
        return "MsgId is not a number"
    for name in ("Content", "Recognition", "EventKey", "MediaId", "PicUrl"):
        if not isinstance((message._data or {}).get(name) or "", str):
            return f"{name} is not text"
    return None


def message_key(message: Any) -> str:
    msg_id = _raw(message, "MsgId")
    if msg_id and msg_id != "0":
        return f"msg-{msg_id}"
    # Two different clicks within one second share FromUserName and CreateTime: the event and its
    # key tell them apart (a retry repeats all four). Hashed: the key is logged, the OpenID must not be.
    fields = "|".join(_raw(message, name) for name in ("FromUserName", "CreateTime", "Event", "EventKey"))
    return "evt-" + hashlib.sha256(fields.encode()).hexdigest()[:40]
