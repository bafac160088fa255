"""The console's wire payloads for its core objects: one `TypedDict` per JSON shape and one serialiser
each, for staff members, handoff sessions, chat messages, feed events, tickets and escalations
(static/agent/openapi.json documents them; tests/test_openapi_payloads.py holds the two together).
The panels' own shapes (deadlines, delivery, outbox, personal data, incidents) are in panel_payloads.py.

Every key is always sent (None where there is no value), so the types are total. The stats figures
are built by `bot.stats.to_json` and are not repeated here.
"""

from __future__ import annotations

import time
from typing import Dict, List, Optional, TypedDict

from bot.attachments import Attachment
from bot.handoff import FeedEvent, HandoffSession, Message, masked_customer
from bot.lifecycle import Escalation
from bot.severity import Severity
from bot.staff import StaffMember
from bot.text import iso
from bot.tickets import Event, Ticket, history

# -- staff and sessions ---------------------------------------------------------------------


class AgentJson(TypedDict):
    username: str
    display_name: str
    role: str
    online: bool
    status: str
    status_label: str
    available: bool


def agent_json(member: StaffMember) -> AgentJson:
    return {
        "username": member.username,
        "display_name": member.display_name,
        "role": member.role.value,
        "online": member.online,
        "status": member.status.value,
        "status_label": member.status.label,
        "available": member.available,
    }


class LastMessageJson(TypedDict):
    sender: str
    text: str
    at: Optional[str]


class SessionJson(TypedDict):
    id: int
    status: str
    channel: str
    customer: str
    category: Optional[str]
    category_label: str
    severity: str
    severity_label: str
    reason: str
    requested_at: Optional[str]
    waiting_seconds: int
    due: Optional[str]
    owner: Optional[str]
    owner_name: Optional[str]
    agent: Optional[str]
    agent_name: Optional[str]
    ticket_numbers: List[str]
    transfer_to: Optional[str]
    transfer_reason: Optional[str]
    escalated: bool
    callback_due: Optional[str]
    last_message: Optional[LastMessageJson]
    unanswered: int
    waiting_reply_since: Optional[str]
    escalation: Optional[str]


def session_json(s: HandoffSession, now: Optional[float] = None) -> SessionJson:
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
        "transfer_reason": s.transfer_reason,
        "escalated": s.escalated_at is not None,
        "callback_due": iso(s.callback_due),
        "last_message": _last_message(s),
        "unanswered": s.attention.unanswered,
        "waiting_reply_since": iso(s.attention.waiting_since),
        "escalation": s.attention.escalation,
    }


def _last_message(s: HandoffSession) -> Optional[LastMessageJson]:
    last = s.attention.last
    return None if last is None else {"sender": last.sender, "text": last.text, "at": iso(last.at)}


class MessageJson(TypedDict):
    id: int
    at: Optional[str]
    sender: str
    agent: Optional[str]
    agent_name: Optional[str]
    text: str
    delivery_failed: bool


def message_json(m: Message) -> MessageJson:
    return {
        "id": m.id,
        "at": iso(m.at),
        "sender": m.sender,
        "agent": m.agent,
        "agent_name": m.agent_name,
        "text": m.text,
        "delivery_failed": m.failed,
    }


class FeedEventJson(TypedDict):
    id: int
    session_id: Optional[int]
    kind: str
    at: Optional[str]


def feed_event_json(e: FeedEvent) -> FeedEventJson:
    return {"id": e.id, "session_id": e.session_id, "kind": e.kind, "at": iso(e.at)}


class CannedReplyJson(TypedDict):
    title: str
    text: str


def canned_reply_json(title: str, text: str) -> CannedReplyJson:
    return {"title": title, "text": text}


# -- tickets --------------------------------------------------------------------------------


class TicketEventJson(TypedDict):
    at: Optional[str]
    actor: str
    actor_name: str
    kind: str
    label: str
    detail: str
    text: str


class AttachmentJson(TypedDict):
    id: str
    kind: str
    mime: str
    size: int
    width: Optional[int]
    height: Optional[int]
    source: str
    caption: str
    ticket: Optional[str]
    created_at: Optional[str]
    url: str
    thumbnail_url: Optional[str]


def attachment_json(a: Attachment) -> AttachmentJson:
    """The URLs are the console API's (relative to /agent/api); they need the bearer token."""
    path = f"/attachments/{a.id}"
    return {
        "id": a.id,
        "kind": a.kind,
        "mime": a.mime,
        "size": a.size,
        "width": a.width,
        "height": a.height,
        "source": a.source,
        "caption": a.caption,
        "ticket": a.ticket_number,
        "created_at": iso(a.created_at),
        "url": path,
        "thumbnail_url": f"{path}/thumbnail" if a.kind == "image" else None,
    }


class _TicketJson(TypedDict):
    number: str
    category: str
    category_label: str
    severity: str
    severity_label: str
    severity_reason: str
    status: str
    status_label: str
    department_label: str
    description: str
    contact_phone: str
    has_contact_phone: bool
    responsible: Optional[str]
    responsible_name: Optional[str]
    channel: str
    customer: str
    created_at: Optional[str]
    response_due: Optional[str]
    resolve_due: Optional[str]
    progress_due: Optional[str]
    events: List[TicketEventJson]


class TicketJson(_TicketJson, total=False):
    # Only where one ticket or a session's tickets are shown (not in lists and searches).
    attachments: List[AttachmentJson]


def ticket_event_json(e: Event, names: Dict[str, str]) -> TicketEventJson:
    """Raw `kind` and `detail` for other systems; `label`, `text` and `actor_name` in Chinese for people."""
    return {
        "at": iso(e.at),
        "actor": e.actor,
        "actor_name": history.actor_name(e.actor, names),
        "kind": e.kind,
        "label": history.label(e.kind),
        "detail": e.detail,
        "text": history.render(e.kind, e.detail, names),
    }


def ticket_json(t: Ticket, attachments: Optional[List[Attachment]] = None) -> TicketJson:
    found: TicketJson = {
        "number": t.number,
        "category": t.category.value,
        "category_label": t.category.label,
        "severity": t.severity.value,
        "severity_label": t.severity.label,
        "severity_reason": t.severity_reason,
        "status": t.status.value,
        "status_label": t.status.label,
        "department_label": t.department.label,
        "description": t.description,
        "contact_phone": t.masked_phone,
        "has_contact_phone": bool(t.contact_phone),
        "responsible": t.responsible,
        "responsible_name": t.name_of(t.responsible),
        "channel": t.customer.channel,
        "customer": masked_customer(t.customer),
        "created_at": iso(t.created_at),
        "response_due": iso(t.response_due),
        "resolve_due": iso(t.resolve_due),
        "progress_due": iso(t.progress_due),
        "events": [ticket_event_json(e, t.names) for e in t.events],
    }
    if attachments is not None:
        found["attachments"] = [attachment_json(a) for a in attachments]
    return found


class EscalationJson(TypedDict):
    id: int
    ticket_number: str
    source: str
    requested_by: str
    reason: str
    status: str
    requested_at: Optional[str]
    decided_by: Optional[str]
    decision_reason: Optional[str]
    handler: Optional[str]
    severity: str
    severity_label: str
    responsible: Optional[str]


def escalation_json(e: Escalation) -> EscalationJson:
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


SCHEMAS: Dict[str, type] = {
    "Agent": AgentJson,
    "SessionSummary": SessionJson,
    "LastMessage": LastMessageJson,
    "Message": MessageJson,
    "Event": FeedEventJson,
    "CannedReply": CannedReplyJson,
    "TicketEvent": TicketEventJson,
    "Ticket": TicketJson,
    "Attachment": AttachmentJson,
    "Escalation": EscalationJson,
}
"""OpenAPI schema name (static/agent/openapi.json) -> the TypedDict of what is sent under it."""
