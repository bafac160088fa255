"""Around a session rather than in its chat: internal notes (staff only, never delivered), the
customer panel, and call-backs by phone (reveal the full number, record the call's outcome).

Revealing a phone number and opening the customer panel are written to the access log.
"""

from __future__ import annotations

from datetime import datetime

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.errors import InvalidInput
from bot.staff import StaffMember
from channels.console.context import ConsoleContext
from channels.console.customer_payloads import customer_profile_json
from channels.console.http import read_body, read_string
from channels.console.payloads import message_json, ticket_json


def _time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("retry_at must be a time within the next 14 days") from None
    if moment.tzinfo is None:
        raise InvalidInput("retry_at must be a time within the next 14 days")
    return moment


def register(bp: Blueprint, ctx: ConsoleContext) -> None:
    """Add the note, customer-panel and call-back routes."""
    hub, api = ctx.hub, ctx.api

    @bp.route("/api/sessions/<session_id:int>/notes", methods=["POST"])
    @api()
    async def note(request: Request, session_id: int, me: StaffMember) -> HTTPResponse:
        text = read_string(read_body(request), "text")
        message = await hub.run(hub.handoff.session_note, me, session_id, text)
        return response.json({"message": message_json(message)}, status=201)

    @bp.route("/api/sessions/<session_id:int>/customer", methods=["GET"])
    @api()
    async def customer(request: Request, session_id: int, me: StaffMember) -> HTTPResponse:
        profile = await hub.run(hub.handoff.customer_profile, me, session_id)
        await ctx.audit(request, me, "view_customer", profile.customer, str(session_id))
        return response.json({"customer": customer_profile_json(profile)})

    @bp.route("/api/sessions/<session_id:int>/callback/phone", methods=["POST"])
    @api()
    async def reveal(request: Request, session_id: int, me: StaffMember) -> HTTPResponse:
        customer, phone = await hub.run(hub.handoff.reveal_phone, me, session_id)
        # Every reveal is written to the access log (bot.privacy.access_log.ALWAYS_WRITTEN).
        await ctx.audit(request, me, "reveal_phone", customer, str(session_id))
        return response.json({"phone": phone})

    @bp.route("/api/sessions/<session_id:int>/callback/outcome", methods=["POST"])
    @api()
    async def outcome(request: Request, session_id: int, me: StaffMember) -> HTTPResponse:
        body = read_body(request)
        kind = read_string(body, "outcome", limit=16)
        note = read_string(body, "note", required=False, limit=500)
        retry = read_string(body, "retry_at", required=kind == "retry", limit=40)
        ticket = await hub.run(hub.handoff.callback_outcome, me, session_id, kind, note, _time(retry) if retry else None)
        return response.json({"ticket": ticket_json(ticket) if ticket else None})
