"""The calls to the action server: validating its answers, the connection, the request body.

Rasa validates every action-server response with ``jsonschema.validate(result, schema)``, which
checks the *schema itself* against the JSON-Schema meta-schema on each call before it checks the
response. With jsonschema 4.17 that meta-schema check dominated a whole customer turn (profiled
with py-spy: about 70 % of the Rasa process's CPU under load, see bench/README.md). The schema is a
constant, so we check it once and keep the compiled validators; the response is still validated in
full and a malformed one still raises a ``ValidationError``. Each event is checked against the one
branch of the schema's 23-way ``oneOf`` whose ``event`` constant it names: every other branch fails
on that constant, so "exactly one branch matches" holds exactly when that branch does (an event
naming no branch matches none and is rejected). Trying all 23 for every event, building an error
object for each miss, was still about a twelfth of a Rasa process's CPU under load.

Rasa opens a new aiohttp ``ClientSession``, and so a new TCP connection, for every call to the action
server (``EndpointConfig.request``), and closes it after the answer: a connect, a session set-up and
a teardown per action, in both processes. Here each endpoint keeps one session per event loop, whose
connections stay open between calls for KEEPALIVE_SECONDS, less than the action server's own
keep-alive (sanic: 5 s), so a connection is not reused just as the server closes it. Should that
happen anyway the call fails before the server saw it, and `channels/action_calls.py` makes it again.

The tracker sent with each action call is written by ujson (sanic's own JSON library), not by the
standard library's encoder, which was about a twentieth of a Rasa process's CPU.
"""

from __future__ import annotations

import functools
import weakref
from typing import Any, Dict, Text


class _ResponseValidator:
    """Rasa's action-response schema, with each event checked against its own ``oneOf`` branch."""

    def __init__(self, schema: Dict[Text, Any]) -> None:
        from jsonschema.validators import validator_for

        cls = validator_for(schema)
        cls.check_schema(schema)
        events = schema["properties"]["events"]
        event = dict(events["items"])
        branches = event.pop("oneOf")
        self._outer = cls({**schema, "properties": {**schema["properties"], "events": {"type": "array"}}})
        self._event = cls(event)
        self._branches = {branch["properties"]["event"]["const"]: cls(branch) for branch in branches}
        if len(self._branches) != len(branches):  # the equivalence rests on distinct constants
            raise ValueError("action response schema: oneOf branches share an event name")

    def validate(self, result: Any) -> None:
        from jsonschema import ValidationError

        self._outer.validate(result)
        for event in result.get("events") or ():
            self._event.validate(event)
            branch = self._branches.get(event["event"])
            if branch is None:
                raise ValidationError(f"{event!r} is not valid under any of the given schemas")
            branch.validate(event)


@functools.lru_cache(maxsize=1)
def _action_response_validator() -> _ResponseValidator:
    from rasa.core.actions.action import RemoteAction

    return _ResponseValidator(RemoteAction.action_response_format_spec())


def install_response_validation() -> None:
    """Rasa's `_validate_action_result` on the compiled validator (see the module docstring)."""
    from jsonschema import ValidationError
    from rasa.core.actions import action as rasa_action

    original = rasa_action.RemoteAction._validate_action_result
    docs = getattr(rasa_action, "DOCS_BASE_URL", "https://rasa.com/docs/rasa")

    def _validate_action_result(self: Any, result: Dict[Text, Any]) -> bool:
        try:
            _action_response_validator().validate(result)
            return True
        except ValidationError as error:
            error.message += (
                ". Failed to validate Action server response from API, make sure your response from "
                f"the Action endpoint is valid. For more information about the format visit {docs}/custom-actions"
            )
            raise error

    _validate_action_result.__wrapped__ = original  # type: ignore[attr-defined]
    rasa_action.RemoteAction._validate_action_result = _validate_action_result


KEEPALIVE_SECONDS = 2.0


class _Kept:
    """What ``async with endpoint.session()`` gets: the endpoint's session for this loop, left open."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def __aenter__(self) -> Any:
        return self.session

    async def __aexit__(self, *_exc: Any) -> None:
        return None


_kept_sessions: "weakref.WeakSet[Any]" = weakref.WeakSet()


async def close_http_sessions() -> None:
    """Close the kept sessions of the running loop (the server is stopping)."""
    import asyncio

    loop = asyncio.get_running_loop()
    for session in [s for s in _kept_sessions if s._loop is loop and not s.closed]:
        await session.close()


def install_shared_http_sessions() -> None:
    import asyncio

    import aiohttp
    from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
    from rasa.utils.endpoints import EndpointConfig

    original = EndpointConfig.session

    def session(self: Any) -> Any:
        loop = asyncio.get_running_loop()
        kept = self.__dict__.setdefault("_kept_sessions", {})
        for other in [other for other in kept if other.is_closed()]:
            del kept[other]  # a finished loop (tests run several) takes its session with it
        current = kept.get(loop)
        if current is None or current.closed:
            # Rasa's settings (EndpointConfig.session), with a connector that keeps connections.
            auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
            current = aiohttp.ClientSession(
                headers=self.headers,
                auth=auth,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
                json_serialize=json_dumps,
            )
            kept[loop] = current
            _kept_sessions.add(current)
        return _Kept(current)

    session.__wrapped__ = original  # type: ignore[attr-defined]
    EndpointConfig.session = session  # type: ignore[assignment]


def json_dumps(value: Any) -> Text:
    """``json.dumps`` for the body of an action call (the whole tracker), by ujson.

    ujson (pinned: sanic's own JSON) writes the same JSON about 1.5 times as fast as the standard
    library's encoder; with ``ensure_ascii`` it escapes every non-ASCII character as ``json.dumps``
    does, a lone surrogate (which a client can send, ``"\\ud800"``) included: written raw it could
    not be encoded as UTF-8 for the request, and the action call failed. Whatever ujson refuses
    (a NaN, an integer beyond 64 bits, an unknown type) goes through ``json.dumps`` as before, so a
    body that failed before fails the same way."""
    import json

    import ujson

    try:
        return ujson.dumps(value, ensure_ascii=True, escape_forward_slashes=False, allow_nan=False)
    except (TypeError, ValueError, OverflowError):
        return json.dumps(value)
