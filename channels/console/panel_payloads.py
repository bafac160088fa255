"""The console panels' wire payloads: one `TypedDict` per JSON shape and one serialiser each, for the
deadline and progress lists, undelivered replies, parked outbox events, personal-data requests, the
access log and outage incidents (static/agent/openapi.json documents them; tests/test_openapi_payloads.py
holds the two together). The core objects (sessions, tickets, messages, ...) are in payloads.py.

Every key is always sent (None where there is no value), so the types are total.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, TypedDict

from bot.delivery import DeliveryFailure
from bot.handoff import masked_customer
from bot.incidents import Incident
from bot.lifecycle import Attention
from bot.outbox import OutboxEvent
from bot.privacy import ACCESS_ACTIONS, Access, PrivacyRequest
from bot.text import beijing_time, iso, mask_personal_data
from bot.tickets import Customer, Ticket

# -- deadlines ------------------------------------------------------------------------------


class ProgressDueJson(TypedDict):
    number: str
    category_label: str
    severity: str
    severity_label: str
    status_label: str
    progress_due: Optional[str]
    overdue: bool


def progress_due_json(t: Ticket, now: float) -> ProgressDueJson:
    return {
        "number": t.number,
        "category_label": t.category.label,
        "severity": t.severity.value,
        "severity_label": t.severity.label,
        "status_label": t.status.label,
        "progress_due": iso(t.progress_due),
        "overdue": t.progress_due.timestamp() < now,
    }


class DeadlineJson(TypedDict):
    number: str
    category_label: str
    severity: str
    severity_label: str
    status_label: str
    responsible: Optional[str]
    deadline: str
    due: Optional[str]
    overdue: bool


def deadline_json(a: Attention) -> DeadlineJson:
    return {
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


# -- delivery and the backend push ----------------------------------------------------------


class DeliveryFailureJson(TypedDict):
    id: int
    channel: str
    customer: str
    text: str
    error: str
    at: Optional[str]


def delivery_failure_json(f: DeliveryFailure) -> DeliveryFailureJson:
    return {
        "id": f.id,
        "channel": f.customer.channel,
        "customer": masked_customer(f.customer),
        "text": f.text,
        "error": f.error,
        "at": iso(f.at),
    }


class DeadOutboxEventJson(TypedDict):
    id: int
    ticket_number: str
    kind: str
    attempts: int
    last_error: Optional[str]
    created_at: Optional[str]
    dead_at: Optional[str]


def dead_outbox_event_json(e: OutboxEvent) -> DeadOutboxEventJson:
    return {
        "id": e.id,
        "ticket_number": e.ticket_number,
        "kind": e.kind,
        "attempts": e.attempts,
        "last_error": e.last_error,
        "created_at": iso(e.created_at),
        "dead_at": iso(e.dead_at),
    }


# -- personal data --------------------------------------------------------------------------


class PrivacyRequestJson(TypedDict):
    id: int
    kind: str
    kind_label: str
    status: str
    status_label: str
    channel: str
    customer: str
    requested_at: Optional[str]
    verified_by: str
    decided_by: Optional[str]
    decided_at: Optional[str]
    note: Optional[str]
    result: Any


def request_json(r: PrivacyRequest) -> PrivacyRequestJson:
    anonymised = r.channel_user_id.startswith("anon-")
    return {
        "id": r.id,
        "kind": r.kind.value,
        "kind_label": r.kind.label,
        "status": r.status.value,
        "status_label": r.status.label,
        "channel": r.channel,
        "customer": "（已匿名）" if anonymised else masked_customer(Customer(r.channel, r.channel_user_id)),
        "requested_at": iso(r.requested_at),
        "verified_by": r.verified_by,
        "decided_by": r.decided_by,
        "decided_at": iso(r.decided_at),
        "note": r.note,
        "result": r.result.get("removed") or r.result.get("summary"),
    }


class AccessEntryJson(TypedDict):
    id: int
    at: Optional[str]
    actor: str
    role: str
    action: str
    action_label: str
    customer: Optional[str]
    target: str
    client: str


def access_json(a: Access) -> AccessEntryJson:
    customer = None
    if a.channel and a.customer:
        customer = "（已匿名）" if a.customer.startswith("anon-") else masked_customer(Customer(a.channel, a.customer))
    return {
        "id": a.id,
        "at": iso(a.at),
        "actor": a.actor,
        "role": a.role,
        "action": a.action,
        "action_label": ACCESS_ACTIONS.get(a.action, a.action),
        "customer": customer,
        "target": mask_personal_data(a.target),
        "client": a.client,
    }


# -- outage incidents -----------------------------------------------------------------------


class IncidentTicketJson(TypedDict):
    number: str
    status: str
    status_label: str
    created_at: Optional[str]


class IncidentJson(TypedDict):
    number: str
    status: str
    title: str
    area: Optional[str]
    symptom: Optional[str]
    symptom_label: str
    match_key: str
    opened_at: Optional[str]
    opened_by: str
    eta: Optional[str]
    eta_label: Optional[str]
    note: Optional[str]
    closed_at: Optional[str]
    closed_by: Optional[str]
    resolution: Optional[str]
    linked: int
    linked_open: int
    customers: int
    tickets: List[IncidentTicketJson]


def incident_json(i: Incident) -> IncidentJson:
    return {
        "number": i.number,
        "status": i.status,
        "title": i.title,
        "area": i.area,
        "symptom": i.symptom,
        "symptom_label": i.symptom_label,
        "match_key": i.match_key,
        "opened_at": iso(i.opened_at),
        "opened_by": i.opened_by,
        "eta": iso(i.eta),
        "eta_label": beijing_time(i.eta) if i.eta else None,
        "note": i.note,
        "closed_at": iso(i.closed_at),
        "closed_by": i.closed_by,
        "resolution": i.resolution,
        "linked": i.linked,
        "linked_open": i.linked_open,
        "customers": i.customers,
        "tickets": [{"number": t.number, "status": t.status.value, "status_label": t.status.label, "created_at": iso(t.created_at)} for t in i.tickets],
    }


SCHEMAS: Dict[str, type] = {
    "ProgressDue": ProgressDueJson,
    "DeadlineAttention": DeadlineJson,
    "DeliveryFailure": DeliveryFailureJson,
    "DeadOutboxEvent": DeadOutboxEventJson,
    "PrivacyRequest": PrivacyRequestJson,
    "AccessEntry": AccessEntryJson,
    "Incident": IncidentJson,
}
"""OpenAPI schema name (static/agent/openapi.json) -> the TypedDict of what is sent under it."""
