"""Removing a customer's identity from the ticket store inside the caller's transaction: the
tickets keep their facts for the operator's figures and lose everything that names the customer
or quotes their words, down to events still waiting in the outbox.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, Dict, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.errors import CustomerInChat
from bot.notices import ANONYMISED_PREFIX
from bot.storage.models import (
    AccessLogRow,
    AttachmentBlobRow,
    AttachmentRow,
    DeliveryFailureRow,
    EscalationRow,
    HandoffEventRow,
    HandoffMessageRow,
    HandoffSessionRow,
    OutboxEventRow,
    PrivacyNoticeRow,
    PrivacyRequestRow,
    TicketEventRow,
    TicketRow,
    WeChatContactRow,
    WeChatInboxRow,
)
from bot.text import mask_personal_data
from bot.tickets import CUSTOMER, Customer

REMOVED = "[已按客户要求删除]"
# History entries written from the customer's own words.
_CUSTOMER_TEXT_KINDS = frozenset({"created", "customer_addition", "evidence", "rating_comment"})


def _refuse_during_chat(session: Session, customer: Customer) -> None:
    active = session.execute(
        sa.select(HandoffSessionRow.id).where(
            HandoffSessionRow.channel == customer.channel,
            HandoffSessionRow.channel_user_id == customer.user_id,
            HandoffSessionRow.status == "active",
        )
    ).first()
    if active is not None:
        raise CustomerInChat("the customer is talking to an agent; end that session first")



def _without_words(text: Optional[str]) -> str:
    """A reason or detail without the customer's words: "客户要求转人工：我住阳光花园3栋" -> "客户要求转人工：[已按…删除]"."""
    head, colon, _ = (text or "").partition("：")
    return f"{head}：{REMOVED}" if colon else REMOVED


def anonymise(session: Session, customer: Customer, now: datetime, actor: str) -> Dict[str, Any]:
    """Remove the customer's identity from the ticket store inside the caller's transaction.
    Returns the counts of what changed and the token that now stands for the customer."""
    token = f"{ANONYMISED_PREFIX}{uuid.uuid4().hex[:16]}"
    where_ticket = (TicketRow.channel == customer.channel, TicketRow.channel_user_id == customer.user_id)
    tickets = session.execute(sa.select(TicketRow).where(*where_ticket)).scalars().all()
    numbers = [t.number for t in tickets]
    for ticket in tickets:
        ticket.channel_user_id = token
        ticket.contact_phone = None
        ticket.origin = None
        ticket.description = REMOVED
        ticket.rating_comment = None
        ticket.anonymised_at = now
        for event in ticket.events:
            if event.actor == CUSTOMER or event.kind in _CUSTOMER_TEXT_KINDS:
                event.detail = REMOVED
            else:
                event.detail = mask_personal_data(event.detail or "")
        ticket.events.append(TicketEventRow(at=now, actor=actor[:128], kind="anonymised", detail="客户申请删除个人信息，身份信息已移除"))
    for escalation in session.execute(
        sa.select(EscalationRow).join(TicketRow).where(TicketRow.number.in_(numbers))
    ).scalars() if numbers else ():
        escalation.reason = _without_words(escalation.reason)
    # The handoff's reason and its events quote what the customer said ("客户要求转人工：…").
    own_sessions = session.execute(
        sa.select(HandoffSessionRow).where(
            HandoffSessionRow.channel == customer.channel, HandoffSessionRow.channel_user_id == customer.user_id
        )
    ).scalars().all()
    for handoff in own_sessions:
        handoff.reason = _without_words(handoff.reason)
    if own_sessions:
        for event in session.execute(
            sa.select(HandoffEventRow).where(
                HandoffEventRow.session_id.in_([h.id for h in own_sessions]), HandoffEventRow.kind == "requested"
            )
        ).scalars():
            event.detail = _without_words(event.detail)
    # Nothing deleted may leave later through the outbox, and what already left is scrubbed here too:
    # the backend is told by the `anonymised` event to drop its copy (backend-openapi.json).
    if numbers:
        for event in session.execute(
            sa.select(OutboxEventRow).where(OutboxEventRow.ticket_number.in_(numbers))
        ).scalars():
            payload = json.loads(event.payload)
            snapshot = payload.get("ticket") or {}
            snapshot.update(customer_id=token, contact_phone=None, description=REMOVED)
            if payload.get("actor") == CUSTOMER or payload.get("kind") in _CUSTOMER_TEXT_KINDS:
                payload["detail"] = REMOVED
            event.payload = json.dumps(payload, ensure_ascii=False)
    messages = session.execute(
        sa.update(HandoffMessageRow)
        .where(HandoffMessageRow.channel == customer.channel, HandoffMessageRow.channel_user_id == customer.user_id)
        .values(channel_user_id=token, text=REMOVED, buttons=None, to_customer=False)
        .execution_options(synchronize_session=False)
    ).rowcount
    sessions = session.execute(
        sa.update(HandoffSessionRow)
        .where(HandoffSessionRow.channel == customer.channel, HandoffSessionRow.channel_user_id == customer.user_id)
        .values(channel_user_id=token)
        .execution_options(synchronize_session=False)
    ).rowcount
    # Evidence files: the rows (and the database store's bytes) go now; a directory store's files are
    # removed by the caller once this transaction committed (`attachment_ids`).
    attachment_ids = list(session.execute(
        sa.select(AttachmentRow.id).where(
            AttachmentRow.channel == customer.channel, AttachmentRow.channel_user_id == customer.user_id
        )
    ).scalars())
    if attachment_ids:
        keys = attachment_ids + [f"{i}.thumb" for i in attachment_ids]
        session.execute(sa.delete(AttachmentBlobRow).where(AttachmentBlobRow.key.in_(keys)))
        session.execute(sa.delete(AttachmentRow).where(AttachmentRow.id.in_(attachment_ids)))
    failures = session.execute(
        sa.delete(DeliveryFailureRow).where(
            DeliveryFailureRow.channel == customer.channel, DeliveryFailureRow.channel_user_id == customer.user_id
        )
    ).rowcount
    # WeChat keeps the OpenID's window and choices, and the messages of the last days (bot/wechat/).
    if customer.channel == "wechat":
        session.execute(sa.delete(WeChatContactRow).where(WeChatContactRow.openid == customer.user_id))
        session.execute(sa.delete(WeChatInboxRow).where(WeChatInboxRow.openid == customer.user_id))
    for table in (AccessLogRow, PrivacyRequestRow):
        session.execute(
            sa.update(table)
            .where(table.channel == customer.channel, table.channel_user_id == customer.user_id)
            .values(channel_user_id=token)
            .execution_options(synchronize_session=False)
        )
    session.execute(
        sa.delete(PrivacyNoticeRow).where(
            PrivacyNoticeRow.channel == customer.channel, PrivacyNoticeRow.channel_user_id == customer.user_id
        )
    )
    return {
        "token": token,
        "tickets": len(tickets),
        "transcript_messages": messages,
        "handoff_sessions": sessions,
        "evidence": len(attachment_ids),
        "attachment_ids": attachment_ids,
        "delivery_failures": failures,
    }
