"""Customers' attachments (screenshots, photos, PDFs) in the console: the file and its thumbnail,
and the lists the ticket view, a session's tickets and the transcript carry.

Who may fetch one is decided exactly like the ticket it is attached to (`HandoffService.ticket`:
NotFound for a ticket the viewer may not see, so ids cannot be probed). An attachment still held
for the customer's next complaint (no ticket yet) is for supervisors and for the agent of the
customer's open handoff session (agent, owner or the colleague it is offered to); anyone else gets
404 as well.

Every fetch is written to the access log as ``view_attachment`` (target: the id and ``full`` or
``thumbnail``), per image: the log's own five-minute deduplication keeps a console that refreshes a
transcript from writing the same thumbnail again and again, and a full-size view is always a row
of its own. Files are sent with the stored type, never sniffed, never cached, PDFs only as a
download (never rendered inline in the console's origin).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, List, Optional, Sequence

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.attachments import Attachment
from bot.errors import NotFound
from bot.handoff import Message
from bot.staff import StaffMember
from bot.tickets import Customer, Ticket
from channels.console.context import ConsoleContext
from channels.console.payloads import TicketJson, ticket_json

_HEADERS = {
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
    # Opened on its own (a link copied out of the console), the file can run nothing.
    "Content-Security-Policy": "default-src 'none'; sandbox",
}
AUDIT_ACTION = "view_attachment"  # 查看附件 (bot/privacy/access_log.py)
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "application/pdf": "pdf"}


def readable(hub: Any, viewer: StaffMember, attachment_id: str) -> Attachment:
    """The attachment, if `viewer` may see it (NotFound otherwise). Runs in a worker thread."""
    attachment = hub.attachments.get(attachment_id)
    if attachment.ticket_number is not None:
        hub.handoff.ticket(viewer, attachment.ticket_number)  # NotFound unless the ticket is visible
        return attachment
    if viewer.is_supervisor:
        return attachment
    session = hub.handoff.session_for(Customer(attachment.channel, attachment.channel_user_id))
    if session is not None and viewer.username in (session.agent, session.owner, session.transfer_to):
        return attachment
    raise NotFound(attachment_id)


def tickets_with_attachments(hub: Any, tickets: Sequence[Ticket]) -> List[TicketJson]:
    """Tickets as the console shows them one by one: with their attachments. Runs in a worker thread."""
    return [ticket_json(t, hub.attachments.for_ticket(t.number)) for t in tickets]


def transcript_attachments(hub: Any, messages: Sequence[Message]) -> List[Attachment]:
    """The customer's attachments since the transcript begins, to be shown at their time in it."""
    if not messages or messages[0].customer is None:
        return []
    since: Optional[datetime] = min(m.at for m in messages)
    return list(hub.attachments.for_customer(messages[0].customer, since=since))


def register(bp: Blueprint, ctx: ConsoleContext) -> None:
    """Add the attachment routes."""
    hub, api, audit = ctx.hub, ctx.api, ctx.audit

    async def serve(request: Request, attachment_id: str, me: StaffMember, thumbnail: bool) -> HTTPResponse:
        if len(attachment_id) > 64:
            raise NotFound(attachment_id)
        attachment = await hub.run(readable, hub, me, attachment_id)
        if thumbnail and attachment.kind != "image":
            raise NotFound(attachment_id)
        data = await hub.run(lambda: hub.attachments.content(attachment.id, thumbnail=thumbnail))
        customer = Customer(attachment.channel, attachment.channel_user_id)
        await audit(request, me, AUDIT_ACTION, customer, f"{attachment.id}/{'thumbnail' if thumbnail else 'full'}")
        headers = dict(_HEADERS)
        if attachment.kind == "pdf":
            headers["Content-Disposition"] = f'attachment; filename="{attachment.id}.pdf"'
        else:
            headers["Content-Disposition"] = f'inline; filename="{attachment.id}.{_EXTENSIONS.get(attachment.mime, "bin")}"'
        mime = "image/jpeg" if thumbnail else attachment.mime
        return response.raw(data, content_type=mime, headers=headers)

    @bp.route("/api/attachments/<attachment_id>", methods=["GET"])
    @api()
    async def full(request: Request, attachment_id: str, me: StaffMember) -> HTTPResponse:
        return await serve(request, attachment_id, me, thumbnail=False)

    @bp.route("/api/attachments/<attachment_id>/thumbnail", methods=["GET"])
    @api()
    async def thumbnail(request: Request, attachment_id: str, me: StaffMember) -> HTTPResponse:
        return await serve(request, attachment_id, me, thumbnail=True)

