"""Tickets from the console: resolve one with a note, and the tickets whose progress update is due.
"""

from __future__ import annotations

import time

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.staff import StaffMember
from channels.console.context import ConsoleContext
from channels.console.http import read_body, read_string
from channels.console.panel_payloads import progress_due_json
from channels.console.payloads import ticket_json


def register(bp: Blueprint, ctx: ConsoleContext) -> None:
    """Add the resolve and progress-due routes."""
    hub, api = ctx.hub, ctx.api

    @bp.route("/api/tickets/<number>/resolve", methods=["POST"])
    @api()
    async def resolve(request: Request, number: str, me: StaffMember) -> HTTPResponse:
        note = read_string(read_body(request), "note", limit=2000)
        ticket = await hub.run(hub.handoff.resolve_ticket, me, number, note)
        return response.json({"ticket": ticket_json(ticket)})

    @bp.route("/api/progress-due", methods=["GET"])
    @api()
    async def progress_due(request: Request, me: StaffMember) -> HTTPResponse:
        tickets = await hub.run(hub.handoff.progress_due, me)
        now = time.time()
        return response.json({"tickets": [progress_due_json(t, now) for t in tickets]})
