"""Staff accounts on the console: log in (JSON only, rate-limited per client address), log out, who
am I, and the list of colleagues with their online state.
"""

from __future__ import annotations

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.errors import InvalidInput, RateLimited, Unauthenticated
from bot.staff import StaffMember
from bot.text import iso
from channels.console.context import ConsoleContext
from channels.console.http import bearer, json_error, read_body, read_string
from channels.console.payloads import agent_json


def register(bp: Blueprint, ctx: ConsoleContext) -> None:
    """Add the login, logout, me and agents routes."""
    hub, api = ctx.hub, ctx.api

    @bp.route("/api/login", methods=["POST"])
    @api(authenticated=False)
    async def login(request: Request) -> HTTPResponse:
        # JSON only: a cross-site form or text/plain POST (which browsers send without asking)
        # cannot reach the password check, so other people's browsers cannot be used to guess.
        if (request.content_type or "").split(";")[0].strip().lower() != "application/json":
            return json_error(415, "unsupported_media_type", "请以 JSON 格式（Content-Type: application/json）提交登录信息")
        body = read_body(request)
        username = read_string(body, "username", limit=64)
        password = body.get("password")
        if not isinstance(password, str) or not password or len(password) > 256:
            raise InvalidInput("'password' is required")
        try:
            # The client's address: behind a proxy (SANIC_PROXIES_COUNT=1, as make run-prod sets) it is
            # the one the proxy saw, so the per-address login limit never locks out everyone at once.
            client = request.remote_addr or request.ip or "-"
            token, expires, member = await hub.run(hub.staff.login, username, password, client)
        except RateLimited:
            raise
        except Unauthenticated:
            return json_error(401, "invalid_credentials", "账号或密码错误")
        return response.json({"token": token, "expires_at": iso(expires), "agent": agent_json(member)})

    @bp.route("/api/logout", methods=["POST"])
    @api()
    async def logout(request: Request, me: StaffMember) -> HTTPResponse:
        """Revoke the token. With {"hand_back": true} the agent's chats go back to the queue at
        once (customers told) and the agent is offline, even with other logins still open."""
        body = read_body(request) if request.body else {}
        hand_back = body.get("hand_back") is True
        moved = await hub.run(hub.handoff.hand_back, me) if hand_back else []
        await hub.run(hub.staff.logout, bearer(request), hand_back)
        hub.changed()
        if not hand_back:
            return response.empty(status=204)
        return response.json({"handed_back": moved})

    @bp.route("/api/me/status", methods=["POST"])
    @api()
    async def set_status(request: Request, me: StaffMember) -> HTTPResponse:
        """在线 / 示忙 / 小休: busy or on a break keeps the agent's chats, but no new ones come."""
        status = read_string(read_body(request), "status", limit=16)
        member = await hub.run(hub.staff.set_status, me.username, status)
        hub.changed()
        return response.json(agent_json(member))

    @bp.route("/api/me", methods=["GET"])
    @api()
    async def whoami(request: Request, me: StaffMember) -> HTTPResponse:
        return response.json(agent_json(me))

    @bp.route("/api/agents", methods=["GET"])
    @api()
    async def agents(request: Request, me: StaffMember) -> HTTPResponse:
        members = await hub.run(hub.staff.list)
        members.sort(key=lambda m: (not m.online, m.username))
        return response.json({"agents": [agent_json(m) for m in members]})
