"""The agent console: the page at /agent/ and its JSON API at /agent/api (see static/agent/openapi.json).

Registered in credentials.yml like any Rasa channel; it takes no customer messages itself. Every API
route except login and the OpenAPI document needs ``Authorization: Bearer <token>``. Domain errors
map to status codes in one place (`_error_response`); bodies are always ``{"error", "message"}``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import math
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.errors import (
    Conflict,
    Forbidden,
    IntakeError,
    InvalidInput,
    NotFound,
    RateLimited,
    StoreUnavailable,
    Taken,
    Unauthenticated,
    WrongState,
)
from bot.handoff import CANNED_REPLIES, HandoffSession, Message, masked_customer
from bot.lifecycle import Escalation
from bot.severity import Severity
from bot.staff import StaffMember
from bot.text import MAX_MESSAGE_CHARS, iso
from bot.tickets import Ticket
from channels import console_privacy
from channels import console_stats
from channels import metrics
from channels.hub import get_hub

logger = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static") / "agent"
ROUTES_DOC = STATIC / "openapi.json"
MAX_BODY_BYTES = 64 * 1024
LONG_POLL_MAX_SECONDS = 25.0

_CONTENT_TYPES = {".js": "application/javascript", ".css": "text/css", ".json": "application/json", ".svg": "image/svg+xml"}

_MESSAGES = {
    400: "请求有误",
    401: "登录已失效，请重新登录",
    403: "您无权处理这个会话",
    404: "没有找到",
    409: "操作冲突，请刷新后重试",
    413: "内容太长",
    429: "尝试次数过多，请稍后再试",
    503: "系统暂时不可用，请稍后重试",
}




def _error(status: int, code: str, message: Optional[str] = None, **extra: Any) -> HTTPResponse:
    return response.json({"error": code, "message": message or _MESSAGES.get(status, "出错了"), **extra}, status=status)


def _error_response(error: IntakeError) -> HTTPResponse:
    if isinstance(error, RateLimited):
        return _error(429, "too_many_attempts", f"登录失败次数过多，请{error.retry_after}秒后再试", retry_after=error.retry_after)
    if isinstance(error, Unauthenticated):
        return _error(401, "unauthenticated")
    if isinstance(error, WrongState):
        return _error(409, "wrong_state", "会话或工单的状态已经变化（可能已被接入、转交或结束），请刷新后再试")
    if isinstance(error, Forbidden):
        return _error(403, "forbidden")
    if isinstance(error, Taken):
        return _error(
            409, "taken", f"该会话已由{error.agent_name}接入", agent=error.agent, agent_name=error.agent_name, owner=error.owner
        )
    if isinstance(error, Conflict):
        return _error(409, "conflict")
    if isinstance(error, NotFound):
        return _error(404, "not_found")
    if isinstance(error, InvalidInput):
        return _error(400, "invalid", f"请求有误：{error}")
    if isinstance(error, StoreUnavailable):
        return _error(503, "unavailable")
    return _error(400, "invalid")


def agent_json(member: StaffMember) -> Dict[str, Any]:
    return {
        "username": member.username,
        "display_name": member.display_name,
        "role": member.role.value,
        "online": member.online,
    }


def session_json(s: HandoffSession, now: Optional[float] = None) -> Dict[str, Any]:
    now = time.time() if now is None else now
    return {
        "id": s.id,
        "status": s.status.value,
        "channel": s.customer.channel,
        "customer": masked_customer(s.customer),
        "category": s.category.value if s.category else None,
        "category_label": s.category.label if s.category else "未分类",
        "severity": s.severity.value,
        "severity_label": s.severity.label,
        "reason": s.reason,
        "requested_at": iso(s.requested_at),
        "waiting_seconds": max(0, int(now - s.requested_at.timestamp())) if s.status.value in ("waiting", "callback") else 0,
        "due": iso(s.due),
        "owner": s.owner,
        "owner_name": s.name_of(s.owner),
        "agent": s.agent,
        "agent_name": s.name_of(s.agent),
        "ticket_numbers": list(s.ticket_numbers),
        "transfer_to": s.transfer_to,
        "escalated": s.escalated_at is not None,
        "callback_due": iso(s.callback_due),
        "last_message": None,
    }


def ticket_json(t: Ticket) -> Dict[str, Any]:
    return {
        "number": t.number,
        "category_label": t.category.label,
        "severity": t.severity.value,
        "severity_label": t.severity.label,
        "status": t.status.value,
        "status_label": t.status.label,
        "department_label": t.department.label,
        "description": t.description,
        "contact_phone": t.masked_phone,
        "responsible": t.responsible,
        "created_at": iso(t.created_at),
        "response_due": iso(t.response_due),
        "resolve_due": iso(t.resolve_due),
        "progress_due": iso(t.progress_due),
        "events": [{"at": iso(e.at), "actor": e.actor, "kind": e.kind, "detail": e.detail} for e in t.events],
    }


def message_json(m: Message) -> Dict[str, Any]:
    return {
        "id": m.id,
        "at": iso(m.at),
        "sender": m.sender,
        "agent": m.agent,
        "agent_name": m.agent_name,
        "text": m.text,
        "delivery_failed": m.failed,
    }


def escalation_json(e: Escalation) -> Dict[str, Any]:
    return {
        "id": e.id,
        "ticket_number": e.ticket_number,
        "source": e.source,
        "requested_by": e.requested_by,
        "reason": e.reason,
        "status": e.status,
        "requested_at": iso(e.requested_at),
        "decided_by": e.decided_by,
        "decision_reason": e.decision_reason,
        "handler": e.handler,
        "severity": e.severity,
        "severity_label": Severity(e.severity).label,
        "responsible": e.responsible,
    }


def _body(request: Request) -> Dict[str, Any]:
    if len(request.body or b"") > MAX_BODY_BYTES:
        raise _TooLong("request body")
    try:
        body = json.loads(request.body or b"{}")
    # RecursionError: JSON nested thousands deep (under the 64 KiB limit) is refused, not a 500.
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidInput("body is not JSON")
    if not isinstance(body, dict):
        raise InvalidInput("body must be a JSON object")
    return body


def _string(body: Dict[str, Any], key: str, required: bool = True, limit: int = MAX_MESSAGE_CHARS) -> str:
    value = body.get(key, "")
    if not isinstance(value, str):
        raise InvalidInput(f"'{key}' must be a string")
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"'{key}' is required")
    if len(value) > limit:
        raise _TooLong(key)
    return value


class _TooLong(InvalidInput):
    pass


def _bearer(request: Request) -> Optional[str]:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _security_headers() -> Dict[str, str]:
    return {
        "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


Handler = Callable[..., Awaitable[HTTPResponse]]


class AgentConsoleInput(InputChannel):
    """Serves /agent/ (console page) and /agent/api (JSON API for consoles and other systems)."""

    @classmethod
    def name(cls) -> Text:
        return "agent"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls()

    def url_prefix(self) -> Text:
        return "/agent"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hub = get_hub()
        blueprint = Blueprint("agent_console", __name__)

        @blueprint.listener("after_server_start")
        async def start(app: Any, loop: Any) -> None:
            await hub.start()

        @blueprint.listener("before_server_stop")
        async def stop(app: Any, loop: Any) -> None:
            await hub.stop()

        def api(authenticated: bool = True) -> Callable[[Handler], Handler]:
            """Domain errors -> status codes; the staff member as `me` for authenticated routes."""

            def decorate(handler: Handler) -> Handler:
                @functools.wraps(handler)
                async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
                    try:
                        if authenticated:
                            kwargs["me"] = await hub.run(hub.staff.authenticate, _bearer(request))
                        result = await handler(request, *args, **kwargs)
                    except _TooLong as error:
                        return _error(413, "too_long", f"内容太长（{error}），请控制在{MAX_MESSAGE_CHARS}字以内")
                    except IntakeError as error:
                        return _error_response(error)
                    result.headers.update({"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
                    return result

                return wrapped

            return decorate

        async def audit(request: Request, me: StaffMember, action: str, customer: Any, target: str) -> None:
            """Every read of a customer's data is written to the access log (个人信息保护法)."""
            await hub.run(hub.access.record, me, action, customer, target, request.remote_addr or request.ip)

        # -- page -------------------------------------------------------------------------

        @blueprint.route("/", methods=["GET"])
        async def page(request: Request) -> HTTPResponse:
            if not request.path.endswith("/"):
                return response.redirect(request.path + "/")
            return await response.file(STATIC / "index.html", headers=_security_headers())

        @blueprint.route("/static/<path:path>", methods=["GET"])
        async def static(_: Request, path: str) -> HTTPResponse:
            target = (STATIC / path).resolve()
            if STATIC.resolve() not in target.parents or not target.is_file() or target.suffix not in _CONTENT_TYPES:
                return _error(404, "not_found")
            return await response.file(target, mime_type=_CONTENT_TYPES[target.suffix])

        @blueprint.route("/api/openapi.json", methods=["GET"])
        async def openapi(_: Request) -> HTTPResponse:
            return await response.file(ROUTES_DOC, mime_type="application/json")

        # -- auth -------------------------------------------------------------------------

        @blueprint.route("/api/login", methods=["POST"])
        @api(authenticated=False)
        async def login(request: Request) -> HTTPResponse:
            # JSON only: a cross-site form or text/plain POST (which browsers send without asking)
            # cannot reach the password check, so other people's browsers cannot be used to guess.
            if (request.content_type or "").split(";")[0].strip().lower() != "application/json":
                return _error(415, "unsupported_media_type", "请以 JSON 格式（Content-Type: application/json）提交登录信息")
            body = _body(request)
            username = _string(body, "username", limit=64)
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
                return _error(401, "invalid_credentials", "账号或密码错误")
            return response.json({"token": token, "expires_at": iso(expires), "agent": agent_json(member)})

        @blueprint.route("/api/logout", methods=["POST"])
        @api()
        async def logout(request: Request, me: StaffMember) -> HTTPResponse:
            await hub.run(hub.staff.logout, _bearer(request))
            hub.changed()
            return response.empty(status=204)

        @blueprint.route("/api/me", methods=["GET"])
        @api()
        async def whoami(request: Request, me: StaffMember) -> HTTPResponse:
            return response.json(agent_json(me))

        @blueprint.route("/api/agents", methods=["GET"])
        @api()
        async def agents(request: Request, me: StaffMember) -> HTTPResponse:
            members = await hub.run(hub.staff.list)
            members.sort(key=lambda m: (not m.online, m.username))
            return response.json({"agents": [agent_json(m) for m in members]})

        # -- sessions ---------------------------------------------------------------------

        @blueprint.route("/api/queue", methods=["GET"])
        @api()
        async def queue(request: Request, me: StaffMember) -> HTTPResponse:
            sessions = await hub.run(hub.handoff.queue, me)
            return response.json({"sessions": [session_json(s) for s in sessions]})

        @blueprint.route("/api/sessions", methods=["GET"])
        @api()
        async def sessions(request: Request, me: StaffMember) -> HTTPResponse:
            scope = request.args.get("scope", "mine")
            if scope not in ("mine", "all"):
                raise InvalidInput("scope must be 'mine' or 'all'")
            found = await hub.run(hub.handoff.sessions, me, scope == "all")
            return response.json({"sessions": [session_json(s) for s in found]})

        @blueprint.route("/api/sessions/<session_id:int>", methods=["GET"])
        @api()
        async def detail(request: Request, session_id: int, me: StaffMember) -> HTTPResponse:
            found, tickets = await hub.run(hub.handoff.detail, me, session_id)
            await audit(request, me, "view_session", found.customer, str(session_id))
            return response.json({"session": session_json(found), "tickets": [ticket_json(t) for t in tickets]})

        @blueprint.route("/api/sessions/<session_id:int>/accept", methods=["POST"])
        @api()
        async def accept(request: Request, session_id: int, me: StaffMember) -> HTTPResponse:
            found = await hub.run(hub.handoff.accept, me, session_id)
            metrics.HANDOFF_ACCEPTS.inc()
            return response.json({"session": session_json(found)})

        @blueprint.route("/api/sessions/<session_id:int>/transcript", methods=["GET"])
        @api()
        async def transcript(request: Request, session_id: int, me: StaffMember) -> HTTPResponse:
            messages = await hub.run(hub.handoff.transcript, me, session_id)
            await audit(request, me, "view_transcript", messages[0].customer if messages else None, str(session_id))
            return response.json({"session_id": session_id, "messages": [message_json(m) for m in messages]})

        @blueprint.route("/api/sessions/<session_id:int>/messages", methods=["POST"])
        @api()
        async def post_message(request: Request, session_id: int, me: StaffMember) -> HTTPResponse:
            text = _string(_body(request), "text")
            message = await hub.run(hub.handoff.post, me, session_id, text)
            return response.json({"message": message_json(message)}, status=201)

        @blueprint.route("/api/sessions/<session_id:int>/transfer", methods=["POST"])
        @api()
        async def transfer(request: Request, session_id: int, me: StaffMember) -> HTTPResponse:
            body = _body(request)
            found = await hub.run(
                hub.handoff.transfer, me, session_id, _string(body, "to", limit=64), _string(body, "reason", limit=255)
            )
            return response.json({"session": session_json(found)}, status=202)

        @blueprint.route("/api/sessions/<session_id:int>/transfer/accept", methods=["POST"])
        @api()
        async def transfer_accept(request: Request, session_id: int, me: StaffMember) -> HTTPResponse:
            found = await hub.run(hub.handoff.accept_transfer, me, session_id)
            return response.json({"session": session_json(found)})

        @blueprint.route("/api/sessions/<session_id:int>/transfer/decline", methods=["POST"])
        @api()
        async def transfer_decline(request: Request, session_id: int, me: StaffMember) -> HTTPResponse:
            found = await hub.run(hub.handoff.decline_transfer, me, session_id)
            return response.json({"session": session_json(found)})

        @blueprint.route("/api/sessions/<session_id:int>/release", methods=["POST"])
        @api()
        async def release(request: Request, session_id: int, me: StaffMember) -> HTTPResponse:
            found = await hub.run(hub.handoff.release, me, session_id)
            return response.json({"session": session_json(found)})

        @blueprint.route("/api/sessions/<session_id:int>/close", methods=["POST"])
        @api()
        async def close(request: Request, session_id: int, me: StaffMember) -> HTTPResponse:
            found = await hub.run(hub.handoff.close, me, session_id)
            return response.json({"session": session_json(found)})

        @blueprint.route("/api/sessions/<session_id:int>/escalate", methods=["POST"])
        @api()
        async def escalate(request: Request, session_id: int, me: StaffMember) -> HTTPResponse:
            reason = _string(_body(request), "reason", limit=255)
            found = await hub.run(hub.handoff.escalate, me, session_id, reason)
            return response.json({"session": session_json(found)})

        @blueprint.route("/api/sessions/<session_id:int>/reassign", methods=["POST"])
        @api()
        async def reassign(request: Request, session_id: int, me: StaffMember) -> HTTPResponse:
            body = _body(request)
            found = await hub.run(
                hub.handoff.reassign, me, session_id, _string(body, "to", limit=64), _string(body, "reason", limit=255)
            )
            return response.json({"session": session_json(found)})

        # -- tickets ----------------------------------------------------------------------

        @blueprint.route("/api/tickets/<number>/resolve", methods=["POST"])
        @api()
        async def resolve(request: Request, number: str, me: StaffMember) -> HTTPResponse:
            note = _string(_body(request), "note", limit=2000)
            ticket = await hub.run(hub.handoff.resolve_ticket, me, number, note)
            return response.json({"ticket": ticket_json(ticket)})

        @blueprint.route("/api/progress-due", methods=["GET"])
        @api()
        async def progress_due(request: Request, me: StaffMember) -> HTTPResponse:
            tickets = await hub.run(hub.handoff.progress_due, me)
            now = time.time()
            return response.json(
                {
                    "tickets": [
                        {
                            "number": t.number,
                            "category_label": t.category.label,
                            "severity": t.severity.value,
                            "severity_label": t.severity.label,
                            "status_label": t.status.label,
                            "progress_due": iso(t.progress_due),
                            "overdue": t.progress_due.timestamp() < now,
                        }
                        for t in tickets
                    ]
                }
            )

        @blueprint.route("/api/delivery-failures", methods=["GET"])
        @api()
        async def delivery_failures(request: Request, me: StaffMember) -> HTTPResponse:
            # Replies that never reached a customer (blocked bot, long outage): supervisors follow up.
            if not me.is_supervisor:
                raise Forbidden("supervisors only")
            failures = await hub.run(hub.failures.recent)
            await audit(request, me, "view_delivery_failures", None, "recent")
            return response.json(
                {
                    "failures": [
                        {
                            "id": f.id,
                            "channel": f.customer.channel,
                            "customer": masked_customer(f.customer),
                            "text": f.text,
                            "error": f.error,
                            "at": iso(f.at),
                        }
                        for f in failures
                    ]
                }
            )

        @blueprint.route("/api/deadlines", methods=["GET"])
        @api()
        async def deadlines(request: Request, me: StaffMember) -> HTTPResponse:
            # Tickets near (4 h) or past a deadline: my own, or every one for supervisors.
            found = await hub.run(hub.deadlines.attention, me)
            return response.json(
                {
                    "tickets": [
                        {
                            "number": a.ticket.number,
                            "category_label": a.ticket.category.label,
                            "severity": a.ticket.severity.value,
                            "severity_label": a.ticket.severity.label,
                            "status_label": a.ticket.status.label,
                            "responsible": a.ticket.responsible,
                            "deadline": a.deadline,
                            "due": iso(a.due),
                            "overdue": a.overdue,
                        }
                        for a in found
                    ]
                }
            )

        @blueprint.route("/api/escalations", methods=["GET"])
        @api()
        async def escalations(request: Request, me: StaffMember) -> HTTPResponse:
            found = await hub.run(hub.escalations.pending, me)
            return response.json({"escalations": [escalation_json(e) for e in found]})

        @blueprint.route("/api/escalations/<escalation_id:int>/accept", methods=["POST"])
        @api()
        async def escalation_accept(request: Request, escalation_id: int, me: StaffMember) -> HTTPResponse:
            body = _body(request)
            decided = await hub.run(
                hub.escalations.accept, me, escalation_id, _string(body, "handler", limit=64), _string(body, "reason", limit=500)
            )
            hub.changed()
            return response.json({"escalation": escalation_json(decided)})

        @blueprint.route("/api/escalations/<escalation_id:int>/decline", methods=["POST"])
        @api()
        async def escalation_decline(request: Request, escalation_id: int, me: StaffMember) -> HTTPResponse:
            reason = _string(_body(request), "reason", limit=500)
            decided = await hub.run(hub.escalations.decline, me, escalation_id, reason)
            hub.changed()
            return response.json({"escalation": escalation_json(decided)})

        @blueprint.route("/api/outbox", methods=["GET"])
        @api()
        async def outbox(request: Request, me: StaffMember) -> HTTPResponse:
            # The push to the backend ticketing system: backlog, and events parked after their last attempt.
            if not me.is_supervisor:
                raise Forbidden("supervisors only")
            backlog = await hub.run(hub.outbox.backlog)
            dead = await hub.run(hub.outbox.dead)
            return response.json(
                {
                    **backlog,
                    "dead_events": [
                        {
                            "id": e.id,
                            "ticket_number": e.ticket_number,
                            "kind": e.kind,
                            "attempts": e.attempts,
                            "last_error": e.last_error,
                            "created_at": iso(e.created_at),
                            "dead_at": iso(e.dead_at),
                        }
                        for e in dead
                    ],
                }
            )

        @blueprint.route("/api/outbox/<event_id:int>/retry", methods=["POST"])
        @api()
        async def outbox_retry(request: Request, event_id: int, me: StaffMember) -> HTTPResponse:
            if not me.is_supervisor:
                raise Forbidden("supervisors only")
            if not 0 < event_id < 2**63 or not await hub.run(hub.outbox.retry, event_id):
                raise NotFound(f"dead event {event_id}")
            logger.info("outbox event %s retried by %s", event_id, me.username)
            return response.json({"retried": event_id})

        @blueprint.route("/api/canned-replies", methods=["GET"])
        @api()
        async def canned(request: Request, me: StaffMember) -> HTTPResponse:
            return response.json({"replies": [{"title": title, "text": text} for title, text in CANNED_REPLIES]})

        # -- live updates -----------------------------------------------------------------

        @blueprint.route("/api/events", methods=["GET"])
        @api()
        async def events(request: Request, me: StaffMember) -> HTTPResponse:
            try:
                after = int(request.args.get("after", "0"))
                timeout = float(request.args.get("timeout", "20"))
            except ValueError:
                raise InvalidInput("'after' must be an integer and 'timeout' a number")
            if not math.isfinite(timeout) or not -1 <= after < 2**63:
                raise InvalidInput("'after' must be a feed cursor and 'timeout' a finite number")
            timeout = min(max(timeout, 0.0), LONG_POLL_MAX_SECONDS)
            if after <= 0:
                # A console starting up learns where the feed stands (it has just loaded everything).
                # On an empty feed it waits like any other poll, so the very first change is not missed.
                after = 0
                cursor = await hub.run(hub.handoff.latest_event_id)
                if cursor > 0:
                    return response.json({"cursor": cursor, "events": []})
            deadline = asyncio.get_running_loop().time() + timeout
            while True:
                cursor, found = await hub.run(hub.handoff.events_after, after)
                remaining = deadline - asyncio.get_running_loop().time()
                if found or remaining <= 0:
                    break
                # Woken at once by changes in this process; other processes' changes within a second.
                await hub.pulse.wait(min(remaining, 1.0))
            return response.json(
                {
                    "cursor": cursor,
                    "events": [
                        {"id": e.id, "session_id": e.session_id, "kind": e.kind, "at": iso(e.at)} for e in found
                    ],
                }
            )

        console_privacy.register(blueprint, api, hub)
        # The supervisors' service-figures dashboard (/agent/dashboard, /api/stats, /api/stats.csv).
        console_stats.register(blueprint, api, hub, _security_headers(), STATIC)
        from channels import console_incidents  # registers on this blueprint; imports this module's helpers

        console_incidents.register(blueprint, api, hub, _body, _string)

        return blueprint


def routes(blueprint: Blueprint) -> List[str]:
    """(method path) pairs of the API, for checking the OpenAPI document against the code."""
    return [
        f"{method} {route.uri}"
        for route in blueprint._future_routes
        for method in route.methods
        if route.uri.startswith("/api/")
    ]
