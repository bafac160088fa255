"""What needs watching beyond a single session: tickets near or past a deadline (one's own, or all for
supervisors) and, for supervisors only, escalation requests to accept or decline, replies that never
reached a customer, and the push to the backend ticketing system (its backlog, parked events to retry).
"""

from __future__ import annotations

import logging

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.errors import Forbidden, NotFound
from bot.staff import StaffMember
from channels.console.context import ConsoleContext
from channels.console.http import read_body, read_string
from channels.console.panel_payloads import dead_outbox_event_json, deadline_json, delivery_failure_json
from channels.console.payloads import escalation_json

logger = logging.getLogger(__name__)


def register(bp: Blueprint, ctx: ConsoleContext) -> None:
    """Add the delivery-failure, deadline, escalation and outbox routes."""
    hub, api, audit = ctx.hub, ctx.api, ctx.audit

    @bp.route("/api/delivery-failures", methods=["GET"])
    @api()
    async def delivery_failures(request: Request, me: StaffMember) -> HTTPResponse:
        # Replies that never reached a customer (blocked bot, long outage): supervisors follow up.
        if not me.is_supervisor:
            raise Forbidden("supervisors only")
        failures = await hub.run(hub.failures.recent)
        await audit(request, me, "view_delivery_failures", None, "recent")
        return response.json({"failures": [delivery_failure_json(f) for f in failures]})

    @bp.route("/api/deadlines", methods=["GET"])
    @api()
    async def deadlines(request: Request, me: StaffMember) -> HTTPResponse:
        # Tickets near (4 h) or past a deadline: my own, or every one for supervisors.
        found = await hub.run(hub.deadlines.attention, me)
        return response.json({"tickets": [deadline_json(a) for a in found]})

    @bp.route("/api/escalations", methods=["GET"])
    @api()
    async def escalations(request: Request, me: StaffMember) -> HTTPResponse:
        found = await hub.run(hub.escalations.pending, me)
        return response.json({"escalations": [escalation_json(e) for e in found]})

    @bp.route("/api/escalations/<escalation_id:int>/accept", methods=["POST"])
    @api()
    async def escalation_accept(request: Request, escalation_id: int, me: StaffMember) -> HTTPResponse:
        body = read_body(request)
        decided = await hub.run(
            hub.escalations.accept, me, escalation_id, read_string(body, "handler", limit=64), read_string(body, "reason", limit=500)
        )
        hub.changed()
        return response.json({"escalation": escalation_json(decided)})

    @bp.route("/api/escalations/<escalation_id:int>/decline", methods=["POST"])
    @api()
    async def escalation_decline(request: Request, escalation_id: int, me: StaffMember) -> HTTPResponse:
        reason = read_string(read_body(request), "reason", limit=500)
        decided = await hub.run(hub.escalations.decline, me, escalation_id, reason)
        hub.changed()
        return response.json({"escalation": escalation_json(decided)})

    @bp.route("/api/outbox", methods=["GET"])
    @api()
    async def outbox(request: Request, me: StaffMember) -> HTTPResponse:
        # The push to the backend ticketing system: backlog, and events parked after their last attempt.
        if not me.is_supervisor:
            raise Forbidden("supervisors only")
        backlog = await hub.run(hub.outbox.backlog)
        dead = await hub.run(hub.outbox.dead)
        return response.json({**backlog, "dead_events": [dead_outbox_event_json(e) for e in dead]})

    @bp.route("/api/outbox/<event_id:int>/retry", methods=["POST"])
    @api()
    async def outbox_retry(request: Request, event_id: int, me: StaffMember) -> HTTPResponse:
        if not me.is_supervisor:
            raise Forbidden("supervisors only")
        if not 0 < event_id < 2**63 or not await hub.run(hub.outbox.retry, event_id):
            raise NotFound(f"dead event {event_id}")
        logger.info("outbox event %s retried by %s", event_id, me.username)
        return response.json({"retried": event_id})
