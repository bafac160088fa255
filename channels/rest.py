"""Rasa's REST channel with input checks: malformed requests get a 4xx instead of being ignored.

Registered under the name ``rest``, so the URL stays ``/webhooks/rest/webhook``.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from sanic import Blueprint

from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic.exceptions import InvalidUsage, PayloadTooLarge
from sanic.request import Request

from bot.text import MAX_MESSAGE_CHARS
from channels.hub import get_hub

MAX_SENDER_CHARS = 255


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
        hub = get_hub()
        blueprint = super().blueprint(hub.gated(on_new_message))

        @blueprint.listener("after_server_start")
        async def start_hub(app: Any, loop: Any) -> None:
            await hub.start()

        return blueprint

    async def _extract_sender(self, req: Request) -> Optional[Text]:
        sender = _body(req).get("sender")
        if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
            raise InvalidUsage(f"'sender' must be a non-empty string of at most {MAX_SENDER_CHARS} characters")
        return sender

    def _extract_input_channel(self, req: Request) -> Text:
        # Never the client's word: customers are identified by (channel, sender).
        return self.name()

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        metadata = _body(request).get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise InvalidUsage("'metadata' must be a JSON object")
        return metadata

    def _extract_message(self, req: Request) -> Optional[Text]:
        message = _body(req).get("message")
        if not isinstance(message, str):
            raise InvalidUsage("'message' must be a string")
        if len(message) > MAX_MESSAGE_CHARS:
            raise PayloadTooLarge(f"'message' is longer than {MAX_MESSAGE_CHARS} characters; please split it")
        return message
