"""Read API for backends that pull instead of receiving the push: ``/api/tickets`` (OpenAPI document
at ``/api/openapi.json``, file ``channels/static/backend-openapi.json``).

Authenticated with ``X-API-Key: <BACKEND_API_KEY>``; without a configured key the API answers 503.
Tickets come with their whole history and the contact phone: this is the operator's own system.
"""

from __future__ import annotations

import functools
import hmac
import logging
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import logs
from bot.chat_sessions import backend_customer_id
from bot.errors import Forbidden, IntakeError, InvalidInput, NotFound, StoreUnavailable, Unauthenticated
from bot.attachments import EXTENSIONS
from bot.outbox.wire import AttachmentDocument, TicketDocument
from bot.text import iso
from bot.tickets import Ticket
from channels.http import Message, message_of, status_of
from channels.hub import attach

logger = logging.getLogger(__name__)

DOC = Path(__file__).with_name("static") / "backend-openapi.json"
MAX_LIMIT = 500




def ticket_document(t: Ticket, attachments: Optional[List[AttachmentDocument]] = None) -> TicketDocument:
    return {
        "number": t.number,
        "status": t.status.value,
        "category": t.category.value,
        "severity": t.severity.value,
        "severity_reason": t.severity_reason,
        "department": t.department.value,
        "responsible": t.responsible,
        "channel": t.customer.channel,
        "customer_id": backend_customer_id(t.customer.channel, t.customer.user_id),
        "contact_phone": t.contact_phone,
        "description": t.description,
        "created_at": iso(t.created_at),
        "updated_at": iso(t.updated_at),
        "response_due": iso(t.response_due),
        "resolve_due": iso(t.resolve_due),
        "progress_due": iso(t.progress_due),
        "repeat_of": t.repeat_of,
        "repeat_count": t.repeat_count,
        "escalation_level": t.escalation_level,
        "handler": t.handler,
        "rating": t.rating,
        "attachments": attachments or [],
        "change_seq": t.change_seq,
        "events": [{"at": iso(e.at), "actor": e.actor, "kind": e.kind, "detail": e.detail} for e in t.events],
    }


ERROR_MESSAGES: Dict[type, Message] = {
    IntakeError: "request refused",
    InvalidInput: str,
    Unauthenticated: "missing or wrong X-API-Key",
    NotFound: "no such ticket",
    Forbidden: str,
    StoreUnavailable: "ticket store unavailable",
}
"""The API's English text for a domain error; the status codes come from `channels.http`."""


def _error(status: int, code: str, message: str) -> HTTPResponse:
    return response.json({"error": code, "message": message}, status=status)


def _mapped(handler: Callable[..., Awaitable[HTTPResponse]]) -> Callable[..., Awaitable[HTTPResponse]]:
    """Domain errors -> status codes (`channels.http`) and this API's messages."""

    @functools.wraps(handler)
    async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        try:
            return await handler(request, *args, **kwargs)
        except IntakeError as error:
            status, code = status_of(error)
            return _error(status, code, message_of(error, ERROR_MESSAGES) or "")

    return wrapped


class BackendApiInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "backend_api"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls(str((credentials or {}).get("api_key") or os.environ.get("BACKEND_API_KEY", "")))

    def __init__(self, api_key: str = "") -> None:
        self.api_key = api_key.strip()
        if self.api_key and len(self.api_key) < 16:
            raise ValueError("BACKEND_API_KEY must have 16 characters or more")
        logs.redact(self.api_key)

    def url_prefix(self) -> Text:
        return "/api"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("backend_api", __name__)
        hub = attach(blueprint)  # the app's hub, built when the server starts (channels/hub/setup.py)

        def authorised(request: Request) -> Optional[HTTPResponse]:
            if not self.api_key:
                return _error(503, "not_configured", "set BACKEND_API_KEY to enable the read API")
            given = request.headers.get("X-API-Key", "")
            if not hmac.compare_digest(given.encode(), self.api_key.encode()):
                raise Unauthenticated("X-API-Key")
            return None

        @blueprint.route("/openapi.json", methods=["GET"])
        async def openapi(_: Request) -> HTTPResponse:
            return await response.file(DOC, mime_type="application/json")

        @blueprint.route("/tickets", methods=["GET"])
        @_mapped
        async def tickets(request: Request) -> HTTPResponse:
            refused = authorised(request)
            if refused:
                return refused
            raw = request.args.get("updated_since", "")
            try:
                since = datetime.fromisoformat(raw.replace("Z", "+00:00")) if raw else datetime(1970, 1, 1, tzinfo=timezone.utc)
                limit = int(request.args.get("limit", "100"))
            except ValueError:
                raise InvalidInput("updated_since must be an ISO 8601 time and limit an integer") from None
            if since.tzinfo is None:
                raise InvalidInput("updated_since needs a time zone (e.g. 2026-11-22T08:00:00Z)")
            try:
                # A time at the edge of the calendar (9999-12-31T23:59-23:59) has no UTC equivalent:
                # refused here instead of failing in the database layer with a 500.
                since = since.astimezone(timezone.utc)
            except OverflowError:
                raise InvalidInput("updated_since is out of range") from None
            if not 1 <= limit <= MAX_LIMIT:
                raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}")
            raw_cursor = request.args.get("cursor")
            after = request.args.get("after") or None
            try:
                cursor = int(raw_cursor) if raw_cursor is not None else 0
            except ValueError:
                cursor = -1
            if cursor < 0 or cursor >= 2**63:
                raise InvalidInput("cursor must be a non-negative integer from a previous page")
            if after is not None and len(after) > 32:
                raise InvalidInput("after must be a ticket number")
            if after is not None and raw_cursor is None:
                # The first version's keyset on (updated_at, number): kept for old clients, but it
                # can miss a change committed late; `cursor` cannot.
                found = await hub.run(hub.tickets.changed_since, since, after, limit)
            else:
                found = await hub.run(hub.tickets.changed_after, cursor, since if raw else None, limit)
            links = await hub.run(hub.attachments.documents, [t.number for t in found])
            more = len(found) == limit
            last = found[-1].change_seq if found and found[-1].change_seq is not None else cursor
            return response.json(
                {
                    "tickets": [ticket_document(t, links[t.number]) for t in found],
                    # Where to go on from: poll with `cursor` to get every later change, in commit order.
                    "cursor": str(last),
                    # the next page, if there is one now (null: poll again later with `cursor`)
                    "next": {"cursor": str(last)} if more else None,
                }
            )

        @blueprint.route("/tickets/<number>", methods=["GET"])
        @_mapped
        async def ticket(request: Request, number: str) -> HTTPResponse:
            refused = authorised(request)
            if refused:
                return refused
            found = await hub.run(hub.tickets.by_number, number)
            links = await hub.run(hub.attachments.documents, [found.number])
            return response.json(ticket_document(found, links[found.number]))

        @blueprint.route("/attachments/<attachment_id>", methods=["GET"])
        @_mapped
        async def attachment(request: Request, attachment_id: str) -> HTTPResponse:
            """A signed link from a ticket's `attachments` (no API key: the signature is the credential).
            Always a download, never rendered: a PDF or an image cannot run anything in our origin."""
            try:
                found = await hub.run(
                    hub.attachments.check_link, attachment_id, request.args.get("expires", ""), request.args.get("n", ""),
                    request.args.get("sig", ""),
                )
                data = await hub.run(hub.attachments.content, found.id)
            except NotFound:
                return _error(404, "not_found", "no such attachment (it may have been deleted)")
            logger.info("attachment %s downloaded through a signed link", found.id)
            return response.raw(data, content_type=found.mime, headers={
                "Content-Disposition": f'attachment; filename="{found.id}.{EXTENSIONS[found.mime]}"',
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "sandbox",
                "Cache-Control": "private, no-store",
            })

        return blueprint
