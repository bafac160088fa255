"""Messages to a customer outside a live chat: a ticket's result, the satisfaction survey, an
escalation decision. They wait in the same outbox as agents' messages (``handoff_messages`` with no
session) and reach the customer through their own channel: at once on Telegram, on the open web chat
page or when it comes back, with the next request on REST."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Dict, Sequence

from sqlalchemy.orm import Session

from bot.customers import ANONYMISED_PREFIX, Customer
from bot.storage.models import HandoffMessageRow

__all__ = ["ANONYMISED_PREFIX", "notice"]


def notice(
    session: Session, customer: Customer, text: str, buttons: Sequence[Dict[str, str]], now: datetime
) -> HandoffMessageRow:
    """Queue a message for the customer inside the caller's transaction. A customer whose data was
    deleted (an ``anon-`` token, see `bot.privacy`) cannot be reached: the row is kept as a record only."""
    reachable = not customer.user_id.startswith(ANONYMISED_PREFIX)
    row = HandoffMessageRow(
        session_id=None,
        channel=customer.channel,
        channel_user_id=customer.user_id,
        at=now,
        sender="system",
        text=text,
        to_customer=reachable,
        buttons=json.dumps(list(buttons), ensure_ascii=False) if buttons else None,
    )
    session.add(row)
    return row
