"""The console's JSON shapes of staff members, handoff sessions, tickets, chat messages and
escalations (static/agent/openapi.json documents them). Panel-specific shapes live beside their
routes (incidents.py, privacy.py).
"""

from __future__ import annotations

import time
from typing import Any, Dict, Optional

from bot.handoff import HandoffSession, Message, masked_customer
from bot.lifecycle import Escalation
from bot.severity import Severity
from bot.staff import StaffMember
from bot.text import iso
from bot.tickets import Ticket


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
