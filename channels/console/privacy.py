"""The console's personal-data routes: customers' requests (supervisors carry them out) and the access log.

Registered on the agent console's blueprint by `channels.console` (same authentication and error mapping).
"""

from __future__ import annotations

import json

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.errors import Forbidden, InvalidInput, NotFound
from bot.privacy import CustomerInChat, RequestStatus
from bot.staff import StaffMember
from bot.tickets import Customer
from channels.console.context import ConsoleContext
from channels.console.panel_payloads import access_json, request_json


def _reason(request: Request, key: str = "reason") -> str:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: absurdly nested JSON
        raise InvalidInput("body is not JSON") from None
    value = body.get(key, "") if isinstance(body, dict) else None
    if not isinstance(value, str):
        raise InvalidInput(f"'{key}' must be a string")
    return value.strip()[:500]


def _existing_id(request_id: int) -> None:
    # The route takes any digits; past 64 bits the database driver raised OverflowError (a 500).
    if not 0 < request_id < 2**63:
        raise NotFound(f"privacy request {request_id}")


def register(bp: Blueprint, ctx: ConsoleContext) -> None:
    """Add the privacy-request and access-log routes."""
    hub, api = ctx.hub, ctx.api

    @bp.route("/api/privacy-requests", methods=["GET"])
    @api()
    async def privacy_requests(request: Request, me: StaffMember) -> HTTPResponse:
        status = request.args.get("status") or None
        if status is not None and status not in {s.value for s in RequestStatus}:
            raise InvalidInput("'status' must be pending, done or rejected")
        found = await hub.run(hub.privacy.list, me, status)
        await hub.run(hub.access.record, me, "view_privacy_requests", None, status or "all", request.remote_addr or request.ip)
        return response.json({"requests": [request_json(r) for r in found]})

    @bp.route("/api/privacy-requests/<request_id:int>/execute", methods=["POST"])
    @api()
    async def execute(request: Request, request_id: int, me: StaffMember) -> HTTPResponse:
        if not me.is_supervisor:
            raise Forbidden("supervisors only")
        _existing_id(request_id)
        pending = await hub.run(hub.privacy.get, request_id)
        await hub.run(
            hub.access.record, me, "execute_privacy_request", Customer(pending.channel, pending.channel_user_id),
            str(request_id), request.remote_addr or request.ip,
        )
        try:
            done = await hub.run(hub.privacy.carry_out, request_id, me.username, _reason(request, "note"))
        except CustomerInChat:
            return response.json(
                {"error": "customer_in_chat", "message": "该客户正在与客服对话，请先结束人工会话再执行删除"}, status=409
            )
        hub.changed()  # the customer's notice waits for delivery
        return response.json({"request": request_json(done)})

    @bp.route("/api/privacy-requests/<request_id:int>/reject", methods=["POST"])
    @api()
    async def reject(request: Request, request_id: int, me: StaffMember) -> HTTPResponse:
        if not me.is_supervisor:
            raise Forbidden("supervisors only")
        _existing_id(request_id)
        done = await hub.run(hub.privacy.reject, request_id, me.username, _reason(request))
        hub.changed()
        return response.json({"request": request_json(done)})

    @bp.route("/api/access-log", methods=["GET"])
    @api()
    async def access_log(request: Request, me: StaffMember) -> HTTPResponse:
        try:
            limit = int(request.args.get("limit", "200"))
        except ValueError:
            raise InvalidInput("'limit' must be an integer") from None
        actor = (request.args.get("actor") or "").strip() or None
        entries = await hub.run(hub.access.entries, me, actor, None, limit)
        return response.json({"entries": [access_json(a) for a in entries]})
