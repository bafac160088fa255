"""Rasa's REST channel with input checks: malformed requests get a 4xx instead of being ignored.

Registered under the name ``rest``, so the URL stays ``/webhooks/rest/webhook``. A client may give
each message its own ``message_id`` (a string of at most 64 characters) and send it again with a
retry: the retry is then the same message to the action server, so a ticket that the first try
filed before its answer was lost (the process died) is found, not filed twice.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from sanic import Blueprint

from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import response
from sanic.exceptions import InvalidUsage, PayloadTooLarge, SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.limits import address_ref
from bot.text import MAX_MESSAGE_CHARS
from bot.tickets import Customer
from channels.hub import HubRef, attach, slow_down_text

MAX_SENDER_CHARS = 255
MAX_MESSAGE_ID_CHARS = 64
CLIENT_MESSAGE_ID = "message_id"


class RateLimited(SanicException):
    """A customer or an address over its message limit (answered 429 with the Chinese notice)."""

    status_code = 429

    def __init__(self, sender: str, text: str, retry_after: float) -> None:
        super().__init__(text)
        self.sender = sender
        self.text = text
        self.retry_after = retry_after


def client_address(req: Request) -> str:
    """The client's address: the proxy's X-Forwarded-For entry when SANIC_PROXIES_COUNT trusts one."""
    return req.remote_addr or req.ip or ""


def _storable(sender: str) -> bool:
    try:
        sender.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return not any(ord(c) < 32 or ord(c) == 127 for c in sender)


def _body(req: Request) -> dict:
    body = req.json  # sanic answers 400 itself when the body is not JSON
    if not isinstance(body, dict):
        raise InvalidUsage("expected a JSON object with 'sender' and 'message'")
    return body


class RestInput(RasaRestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # While a human has the conversation, messages go to the agent; their replies come back
        # with the customer's next request (REST cannot push).
        async def gated(message: UserMessage) -> Any:
            return await handle(message)  # set below, once the blueprint exists

        blueprint = super().blueprint(_client_message_id(gated))
        # The app's hub, built when the server starts (channels/hub/setup.py).
        self._hub: HubRef = attach(blueprint)
        handle = self._hub.gated(on_new_message)

        @blueprint.exception(RateLimited)
        async def rate_limited(_: Request, error: RateLimited) -> HTTPResponse:
            # The REST reply format (a list of bot messages), so a client that shows replies shows this.
            return response.json(
                [{"recipient_id": error.sender, "text": error.text}],
                status=429,
                headers={"Retry-After": str(max(1, int(error.retry_after + 0.999)))},
            )

        return blueprint

    async def _extract_sender(self, req: Request) -> Optional[Text]:
        sender = _body(req).get("sender")
        if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
            raise InvalidUsage(f"'sender' must be a non-empty string of at most {MAX_SENDER_CHARS} characters")
        if not _storable(sender):
            # A lone surrogate or a NUL cannot be a key in the tracker store: Rasa would answer from
            # a tracker it never saves.
            raise InvalidUsage("'sender' must be valid Unicode text without control characters")
        return sender

    def _extract_input_channel(self, req: Request) -> Text:
        # Never the client's word: customers are identified by (channel, sender).
        return self.name()

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        metadata = _body(request).get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise InvalidUsage("'metadata' must be a JSON object")
        message_id = _body(request).get(CLIENT_MESSAGE_ID)
        if message_id is not None:
            if not isinstance(message_id, str) or not message_id.strip() or len(message_id) > MAX_MESSAGE_ID_CHARS:
                raise InvalidUsage(
                    f"'message_id' must be a non-empty string of at most {MAX_MESSAGE_ID_CHARS} characters"
                )
            metadata = {**(metadata or {}), CLIENT_MESSAGE_ID: message_id}
        # The action server limits requests for a human per address: it gets a pseudonym, never the
        # address, and never the client's own word for it.
        return {**(metadata or {}), "address_ref": address_ref(client_address(request))}

    def _extract_message(self, req: Request) -> Optional[Text]:
        message = _body(req).get("message")
        if not isinstance(message, str):
            raise InvalidUsage("'message' must be a string")
        if len(message) > MAX_MESSAGE_CHARS:
            raise PayloadTooLarge(f"'message' is longer than {MAX_MESSAGE_CHARS} characters; please split it")
        # Rasa calls this after _extract_sender and before the message is handled: the place to
        # refuse a flood before it costs an inference (or a privacy notice, or a tracker).
        sender = _body(req)["sender"]
        refusal = self._hub.admit(Customer(self.name(), sender), address_ref(client_address(req)))
        if refusal is not None:
            raise RateLimited(sender, slow_down_text(refusal), refusal.retry_after)
        return message


def _client_message_id(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
) -> Callable[[UserMessage], Awaitable[Any]]:
    """The client's id of a message becomes Rasa's (whose own is random per request)."""

    async def handle(message: UserMessage) -> Any:
        client_id = (message.metadata or {}).get(CLIENT_MESSAGE_ID)
        if isinstance(client_id, str) and 0 < len(client_id) <= MAX_MESSAGE_ID_CHARS:
            message.message_id = f"rest-{client_id}"
        return await on_new_message(message)

    return handle
