"""Wire shapes of the console's customer panel and call-back answers (static/agent/openapi.json
documents them under the same names; tests/test_console_followup_payloads.py holds the two together).
Tickets inside them are `payloads.TicketJson`.
"""

from __future__ import annotations

from typing import Dict, List, Optional, TypedDict

from bot.handoff import HandoffSession, masked_customer
from bot.handoff.customer_view import CustomerProfile
from bot.text import iso
from channels.console.payloads import TicketJson, ticket_json

CHANNEL_LABELS = {"webchat": "网页", "telegram": "Telegram", "rest": "REST 接口"}
SESSION_STATUS_LABELS = {
    "waiting": "排队中", "callback": "待回电", "active": "进行中",
    "released": "已交还机器人", "closed": "已结束", "cancelled": "客户已取消",
}


class CustomerChannelJson(TypedDict):
    channel: str
    channel_label: str
    customer: str


class CustomerSessionJson(TypedDict):
    id: int
    status: str
    status_label: str
    reason: str
    requested_at: Optional[str]
    ended_at: Optional[str]
    agent_name: Optional[str]
    ticket_number: Optional[str]


class CustomerProfileJson(TypedDict):
    customer: str
    channel: str
    channels: List[CustomerChannelJson]
    tickets: List[TicketJson]
    sessions: List[CustomerSessionJson]


def customer_session_json(s: HandoffSession) -> CustomerSessionJson:
    return {
        "id": s.id,
        "status": s.status.value,
        "status_label": SESSION_STATUS_LABELS.get(s.status.value, s.status.value),
        "reason": s.reason,
        "requested_at": iso(s.requested_at),
        "ended_at": iso(s.ended_at),
        "agent_name": s.name_of(s.agent),
        "ticket_number": s.ticket_number,
    }


def customer_profile_json(p: CustomerProfile) -> CustomerProfileJson:
    return {
        "customer": masked_customer(p.customer),
        "channel": p.customer.channel,
        "channels": [
            {"channel": c.channel, "channel_label": CHANNEL_LABELS.get(c.channel, c.channel), "customer": masked_customer(c)}
            for c in p.channels
        ],
        "tickets": [ticket_json(t) for t in p.tickets],
        "sessions": [customer_session_json(s) for s in p.sessions],
    }


SCHEMAS: Dict[str, type] = {
    "CustomerProfile": CustomerProfileJson,
    "CustomerChannel": CustomerChannelJson,
    "CustomerSession": CustomerSessionJson,
}
