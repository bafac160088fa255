"""Console API for outage incidents (故障聚合), supervisors only: list, open by hand, set the expected
recovery and a note, link or unlink a ticket, close with a resolution. Registered on the console's
blueprint by `channels.console`; errors map to status codes through `ConsoleContext.api`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Optional

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.errors import InvalidInput
from bot.staff import StaffMember
from channels.console.context import ConsoleContext
from channels.console.http import read_body, read_string
from channels.console.panel_payloads import incident_json

MAX_ETA = timedelta(days=30)


def _eta(body: Dict[str, Any], now: datetime) -> Optional[datetime]:
    """`eta` as an ISO time with an offset, or `eta_hours` from now; None when neither is given."""
    if body.get("eta") not in (None, ""):
        value = body["eta"]
        try:
            eta = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput("'eta' must be an ISO 8601 time") from None
        if eta.tzinfo is None:
            raise InvalidInput("'eta' needs a UTC offset")
    elif body.get("eta_hours") not in (None, ""):
        hours = body["eta_hours"]
        if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not 0 < hours <= MAX_ETA.total_seconds() / 3600:
            raise InvalidInput("'eta_hours' must be a number of hours (at most 30 days)")
        eta = now + timedelta(hours=hours)
    else:
        return None
    if eta - now > MAX_ETA:
        raise InvalidInput("the expected recovery is more than 30 days away")
    return eta


def register(bp: Blueprint, ctx: ConsoleContext) -> None:
    """Add the incident routes."""
    hub, api = ctx.hub, ctx.api

    @bp.route("/api/incidents", methods=["GET"])
    @api()
    async def incidents(request: Request, me: StaffMember) -> HTTPResponse:
        found = await hub.run(hub.incidents.list, me)
        return response.json({"incidents": [incident_json(i) for i in found]})

    @bp.route("/api/incidents", methods=["POST"])
    @api()
    async def open_incident(request: Request, me: StaffMember) -> HTTPResponse:
        data = read_body(request)
        opened = await hub.run(
            hub.incidents.open,
            me,
            read_string(data, "area", required=False, limit=64) or None,
            read_string(data, "symptom", required=False, limit=32) or None,
            _eta(data, datetime.now(timezone.utc)),
            read_string(data, "note", required=False, limit=2000),
        )
        hub.changed()
        return response.json({"incident": incident_json(opened)}, status=201)

    @bp.route("/api/incidents/<number>", methods=["GET"])
    @api()
    async def incident(request: Request, number: str, me: StaffMember) -> HTTPResponse:
        return response.json({"incident": incident_json(await hub.run(hub.incidents.get, me, number))})

    @bp.route("/api/incidents/<number>/update", methods=["POST"])
    @api()
    async def update_incident(request: Request, number: str, me: StaffMember) -> HTTPResponse:
        data = read_body(request)
        note = read_string(data, "note", required=False, limit=2000) if "note" in data else None
        notify = data.get("notify", False)
        if not isinstance(notify, bool):
            raise InvalidInput("'notify' must be true or false")
        updated, told = await hub.run(hub.incidents.update, me, number, _eta(data, datetime.now(timezone.utc)), note, notify)
        hub.changed()
        return response.json({"incident": incident_json(updated), "notified": told})

    @bp.route("/api/incidents/<number>/close", methods=["POST"])
    @api()
    async def close_incident(request: Request, number: str, me: StaffMember) -> HTTPResponse:
        resolution = read_string(read_body(request), "resolution", limit=2000)
        closed, told = await hub.run(hub.incidents.close, me, number, resolution)
        hub.changed()  # the recovery notices, results and surveys go out now
        return response.json({"incident": incident_json(closed), "notified": told})

    @bp.route("/api/incidents/<number>/link", methods=["POST"])
    @api()
    async def link_ticket(request: Request, number: str, me: StaffMember) -> HTTPResponse:
        ticket = read_string(read_body(request), "ticket", limit=32)
        return response.json({"incident": incident_json(await hub.run(hub.incidents.link, me, number, ticket))})

    @bp.route("/api/incidents/<number>/unlink", methods=["POST"])
    @api()
    async def unlink_ticket(request: Request, number: str, me: StaffMember) -> HTTPResponse:
        ticket = read_string(read_body(request), "ticket", limit=32)
        return response.json({"incident": incident_json(await hub.run(hub.incidents.unlink, me, number, ticket))})
