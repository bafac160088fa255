"""Handoff sessions as agents work them: the queue, their own and all sessions, a session's detail and
transcript (both audited), and the actions on a session: accept, reply, transfer, release, close,
escalate, reassign. The canned replies are here too: they are what agents paste into a reply.
"""

from __future__ import annotations

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.errors import InvalidInput
from bot.handoff import CANNED_REPLIES, QueueQuery
from bot.staff import StaffMember
from channels import metrics
from channels.console.attachments import tickets_with_attachments, transcript_attachments
from channels.console.context import ConsoleContext
from channels.console.http import read_body, read_string
from channels.console.payloads import attachment_json, canned_reply_json, message_json, session_json


def register(bp: Blueprint, ctx: ConsoleContext) -> None:
    """Add the queue, session and canned-reply routes."""
    hub, api, audit = ctx.hub, ctx.api, ctx.audit

    @bp.route("/api/queue", methods=["GET"])
    @api()
    async def queue(request: Request, me: StaffMember) -> HTTPResponse:
        """The queue by kind (live chats / call-backs), a page at a time, with the total."""
        args = request.args
        try:
            query = QueueQuery(
                kind=args.get("kind", "all"),
                limit=int(args.get("limit", "50")),
                offset=int(args.get("offset", "0")),
                overdue=args.get("overdue", "") in ("1", "true"),
                severity=args.get("severity") or None,
            )
        except ValueError:
            raise InvalidInput("'limit' and 'offset' must be integers") from None
        sessions, total = await hub.run(hub.handoff.queue_page, me, query)
        return response.json({
            "sessions": [session_json(s) for s in sessions],
            "total": total, "kind": query.kind, "limit": query.limit, "offset": query.offset,
        })

    @bp.route("/api/sessions", methods=["GET"])
    @api()
    async def sessions(request: Request, me: StaffMember) -> HTTPResponse:
        scope = request.args.get("scope", "mine")
        if scope not in ("mine", "all"):
            raise InvalidInput("scope must be 'mine' or 'all'")
        found = await hub.run(hub.handoff.sessions, me, scope == "all")
        return response.json({"sessions": [session_json(s) for s in found]})

    @bp.route("/api/sessions/<session_id:int>", methods=["GET"])
    @api()
    async def detail(request: Request, session_id: int, me: StaffMember) -> HTTPResponse:
        found, tickets = await hub.run(hub.handoff.detail, me, session_id)
        await audit(request, me, "view_session", found.customer, str(session_id))
        shown = await hub.run(tickets_with_attachments, hub, tickets)
        return response.json({"session": session_json(found), "tickets": shown})

    @bp.route("/api/sessions/<session_id:int>/accept", methods=["POST"])
    @api()
    async def accept(request: Request, session_id: int, me: StaffMember) -> HTTPResponse:
        found = await hub.run(hub.handoff.accept, me, session_id)
        metrics.HANDOFF_ACCEPTS.inc()
        return response.json({"session": session_json(found)})

    @bp.route("/api/sessions/<session_id:int>/transcript", methods=["GET"])
    @api()
    async def transcript(request: Request, session_id: int, me: StaffMember) -> HTTPResponse:
        messages = await hub.run(hub.handoff.transcript, me, session_id)
        await audit(request, me, "view_transcript", messages[0].customer if messages else None, str(session_id))
        # The customer's screenshots and files, for the console to show at their time in the conversation.
        attachments = await hub.run(transcript_attachments, hub, messages)
        return response.json({
            "session_id": session_id,
            "messages": [message_json(m) for m in messages],
            "attachments": [attachment_json(a) for a in attachments],
        })

    @bp.route("/api/sessions/<session_id:int>/messages", methods=["POST"])
    @api()
    async def post_message(request: Request, session_id: int, me: StaffMember) -> HTTPResponse:
        text = read_string(read_body(request), "text")
        message = await hub.run(hub.handoff.post, me, session_id, text)
        return response.json({"message": message_json(message)}, status=201)

    @bp.route("/api/sessions/<session_id:int>/transfer", methods=["POST"])
    @api()
    async def transfer(request: Request, session_id: int, me: StaffMember) -> HTTPResponse:
        body = read_body(request)
        found = await hub.run(
            hub.handoff.transfer, me, session_id, read_string(body, "to", limit=64), read_string(body, "reason", limit=255)
        )
        return response.json({"session": session_json(found)}, status=202)

    @bp.route("/api/sessions/<session_id:int>/transfer/accept", methods=["POST"])
    @api()
    async def transfer_accept(request: Request, session_id: int, me: StaffMember) -> HTTPResponse:
        found = await hub.run(hub.handoff.accept_transfer, me, session_id)
        return response.json({"session": session_json(found)})

    @bp.route("/api/sessions/<session_id:int>/transfer/decline", methods=["POST"])
    @api()
    async def transfer_decline(request: Request, session_id: int, me: StaffMember) -> HTTPResponse:
        found = await hub.run(hub.handoff.decline_transfer, me, session_id)
        return response.json({"session": session_json(found)})

    @bp.route("/api/sessions/<session_id:int>/release", methods=["POST"])
    @api()
    async def release(request: Request, session_id: int, me: StaffMember) -> HTTPResponse:
        found = await hub.run(hub.handoff.release, me, session_id)
        return response.json({"session": session_json(found)})

    @bp.route("/api/sessions/<session_id:int>/close", methods=["POST"])
    @api()
    async def close(request: Request, session_id: int, me: StaffMember) -> HTTPResponse:
        found = await hub.run(hub.handoff.close, me, session_id)
        return response.json({"session": session_json(found)})

    @bp.route("/api/sessions/<session_id:int>/escalate", methods=["POST"])
    @api()
    async def escalate(request: Request, session_id: int, me: StaffMember) -> HTTPResponse:
        reason = read_string(read_body(request), "reason", limit=255)
        found = await hub.run(hub.handoff.escalate, me, session_id, reason)
        return response.json({"session": session_json(found)})

    @bp.route("/api/sessions/<session_id:int>/reassign", methods=["POST"])
    @api()
    async def reassign(request: Request, session_id: int, me: StaffMember) -> HTTPResponse:
        body = read_body(request)
        found = await hub.run(
            hub.handoff.reassign, me, session_id, read_string(body, "to", limit=64), read_string(body, "reason", limit=255)
        )
        return response.json({"session": session_json(found)})
    @bp.route("/api/canned-replies", methods=["GET"])
    @api()
    async def canned(request: Request, me: StaffMember) -> HTTPResponse:
        return response.json({"replies": [canned_reply_json(title, text) for title, text in CANNED_REPLIES]})
