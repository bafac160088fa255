"""Tickets from the console: open one, search, resolve (an internal note apart from the message to
the customer), add an internal note, send a progress update after the chat, correct its facts, and
the tickets whose progress update is due.

Reads of a ticket and searches are written to the access log; who sees which ticket is decided in
bot/handoff/customer_view.py.
"""

from __future__ import annotations

import time

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.staff import StaffMember
from bot.text import mask_personal_data
from channels.console.attachments import tickets_with_attachments
from channels.console.context import ConsoleContext
from channels.console.http import read_body, read_string
from channels.console.panel_payloads import progress_due_json
from channels.console.payloads import ticket_json


def register(bp: Blueprint, ctx: ConsoleContext) -> None:
    """Add the ticket routes."""
    hub, api = ctx.hub, ctx.api

    @bp.route("/api/tickets", methods=["GET"])
    @api()
    async def search(request: Request, me: StaffMember) -> HTTPResponse:
        kind = (request.args.get("kind") or "text").strip()
        query = (request.args.get("q") or "").strip()[:100]
        found = await hub.run(hub.handoff.search_tickets, me, kind, query)
        # The access log keeps what was searched for, phone numbers masked.
        await ctx.audit(request, me, "search_tickets", None, f"{kind}:{mask_personal_data(query)}")
        return response.json({"tickets": [ticket_json(t) for t in found]})

    @bp.route("/api/tickets/<number>", methods=["GET"])
    @api()
    async def one(request: Request, number: str, me: StaffMember) -> HTTPResponse:
        ticket = await hub.run(hub.handoff.ticket, me, number)
        await ctx.audit(request, me, "view_ticket", ticket.customer, ticket.number)
        shown = await hub.run(tickets_with_attachments, hub, [ticket])
        return response.json({"ticket": shown[0]})

    @bp.route("/api/tickets/<number>/resolve", methods=["POST"])
    @api()
    async def resolve(request: Request, number: str, me: StaffMember) -> HTTPResponse:
        body = read_body(request)
        note = read_string(body, "note", required=False, limit=2000)
        message = read_string(body, "message", required=False, limit=2000)
        ticket = await hub.run(hub.handoff.resolve_ticket, me, number, note, message or None)
        return response.json({"ticket": ticket_json(ticket)})

    @bp.route("/api/tickets/<number>/notes", methods=["POST"])
    @api()
    async def note(request: Request, number: str, me: StaffMember) -> HTTPResponse:
        text = read_string(read_body(request), "text", limit=2000)
        ticket = await hub.run(hub.handoff.ticket_note, me, number, text)
        return response.json({"ticket": ticket_json(ticket)}, status=201)

    @bp.route("/api/tickets/<number>/progress", methods=["POST"])
    @api()
    async def progress(request: Request, number: str, me: StaffMember) -> HTTPResponse:
        text = read_string(read_body(request), "text", limit=1000)
        ticket = await hub.run(hub.handoff.send_progress, me, number, text)
        return response.json({"ticket": ticket_json(ticket)})

    @bp.route("/api/tickets/<number>/corrections", methods=["POST"])
    @api()
    async def correct(request: Request, number: str, me: StaffMember) -> HTTPResponse:
        body = read_body(request)
        field = read_string(body, "field", limit=32)
        value = read_string(body, "value", limit=32)
        reason = read_string(body, "reason", required=field == "severity", limit=255)
        ticket = await hub.run(hub.handoff.correct_ticket, me, number, field, value, reason)
        return response.json({"ticket": ticket_json(ticket)})

    @bp.route("/api/progress-due", methods=["GET"])
    @api()
    async def progress_due(request: Request, me: StaffMember) -> HTTPResponse:
        tickets = await hub.run(hub.handoff.progress_due, me)
        now = time.time()
        return response.json({"tickets": [progress_due_json(t, now) for t in tickets]})
