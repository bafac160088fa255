"""What arrives at the action server's webhook, read and checked before rasa_sdk sees it.

rasa_sdk reads an action call without looking at it: a list body, no tracker, a version that is a
number, an event that is a string or a slot value an action cannot take failed inside the SDK or an
action, as a 500 that echoed the body back. The action server trusts its network (only Rasa reaches
it) but not the shape of what arrives: a call Rasa could not have sent is refused with a 400.
"""

from __future__ import annotations

import functools
import json
import zlib
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from sanic.exceptions import InvalidUsage
from sanic.request import Request

DOMAIN = Path(__file__).resolve().parent.parent / "bot" / "dialogue" / "domain"


MAX_INFLATED = 100 * 1024 * 1024  # a deflated call may inflate to what sanic accepts uncompressed


def _inflate(body: bytes) -> bytes:
    """A deflated body, refused (ValueError) past MAX_INFLATED: a few kilobytes must not fill memory."""
    inflater = zlib.decompressobj()
    inflated = inflater.decompress(body, MAX_INFLATED)
    if inflater.unconsumed_tail:
        raise ValueError("inflates past the limit")
    if not inflater.eof:  # a truncated stream: rasa_sdk's zlib.decompress would raise on it
        raise ValueError("truncated")
    return inflated


def read_call(request: Request) -> Optional[Dict[str, Any]]:
    """The action call in the body of a webhook request, as rasa_sdk reads it (None if unreadable)."""
    try:
        if request.headers.get("Content-Encoding") == "deflate":
            body = json.loads(_inflate(request.body))
        else:
            body = request.json  # parsed once: rasa_sdk's handler gets the same cached object
    except (ValueError, zlib.error, InvalidUsage, RecursionError):
        return None
    return body if isinstance(body, dict) else None


_NONE = type(None)
_TRACKER_FIELDS = {
    "slots": (dict, _NONE), "latest_message": (dict, _NONE), "events": (list, _NONE), "paused": (bool, _NONE),
    "followup_action": (str, _NONE), "active_loop": (dict, _NONE), "active_form": (dict, _NONE),
    "latest_action_name": (str, _NONE), "latest_input_channel": (str, _NONE), "latest_action": (dict, _NONE),
}
_MESSAGE_FIELDS = {
    "text": (str, _NONE), "intent": (dict, _NONE), "entities": (list, _NONE), "metadata": (dict, _NONE),
    "intent_ranking": (list, _NONE), "response_selector": (dict, _NONE),
}


def call_problem(call: Optional[Dict[str, Any]]) -> Optional[str]:
    """Why a webhook body is not an action call Rasa could have sent; None when it is one.

    rasa_sdk reads the call without looking: a list body, no tracker, a version that is a number or
    an event that is a string failed inside the SDK or an action, a 500 that echoed the body back.
    The action server trusts its network (only Rasa reaches it) but not the shape of what arrives."""
    if call is None:
        return "the body must be a JSON object (an action call)"
    if not isinstance(call.get("next_action"), str) or not call["next_action"]:
        return "'next_action' must be the name of an action"
    if not isinstance(call.get("version"), (str, _NONE)) or not isinstance(call.get("domain"), (dict, _NONE)):
        return "'version' must be a string and 'domain' an object"
    tracker = call.get("tracker")
    if not isinstance(tracker, dict) or not isinstance(tracker.get("sender_id"), str) or not tracker["sender_id"]:
        return "'tracker' must be an object with a 'sender_id'"
    latest = tracker.get("latest_message") or {}
    for fields, part, where in ((_TRACKER_FIELDS, tracker, "tracker"), (_MESSAGE_FIELDS, latest, "tracker.latest_message")):
        for key, kinds in fields.items():
            if not isinstance(part.get(key), kinds):
                return f"'{where}.{key}' has the wrong type"
    for key in ("events", "entities", "intent_ranking"):
        items = (tracker if key == "events" else latest).get(key) or []
        if not all(isinstance(item, dict) for item in items):
            return f"'{key}' must be a list of objects"
    if not all(isinstance(event.get("event"), str) for event in tracker.get("events") or []):
        return "every event needs an 'event' name"
    intent = latest.get("intent") or {}
    if not isinstance(intent.get("name"), (str, _NONE)) \
            or not isinstance(intent.get("confidence"), (int, float, _NONE)):
        return "'latest_message.intent' must have a string name and a numeric confidence"
    for key, selected in (latest.get("response_selector") or {}).items():
        if key == "all_retrieval_intents":  # Rasa's list of the selectors' intents, beside one object per selector
            continue
        if not isinstance(selected, dict) or not isinstance(selected.get("response"), (dict, _NONE)) \
                or not isinstance((selected.get("response") or {}).get("utter_action"), (str, _NONE)):
            return "'latest_message.response_selector' has the wrong shape"
    allowed = _slot_values()
    for name, value in (tracker.get("slots") or {}).items():
        kinds, values = allowed.get(name, (object, None))
        if not isinstance(value, kinds) or (values is not None and value not in values):
            return f"slot '{name}' cannot hold {type(value).__name__} {str(value)[:40]!r}"
    return None


@functools.lru_cache(maxsize=1)
def _slot_values() -> Dict[str, Tuple[tuple, Optional[frozenset]]]:
    """Per slot of the domain (bot/dialogue/domain): the types Rasa lets it hold, and for the slots
    that name an enum member, the members (an unknown one made Category(...) or Kind(...) raise)."""
    import yaml

    from bot.categories import Category
    from bot.privacy import Kind

    types = {"text": (str,), "bool": (bool,), "float": (int, float), "categorical": (str,), "list": (list,)}
    found: Dict[str, Tuple[tuple, Optional[frozenset]]] = {}
    for path in sorted(DOMAIN.glob("*.yml")):
        for name, slot in ((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("slots") or {}).items():
            found[name] = (types.get(slot.get("type"), (object,)) + (_NONE,), None)
    for name, enum in (("complaint_category", Category), ("privacy_kind", Kind)):
        found[name] = (found.get(name, ((str, _NONE), None))[0], frozenset([None, ""] + [m.value for m in enum]))
    return found
