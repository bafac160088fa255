"""After the storm: the ticket store must hold exactly one ticket per customer, and it must be the one
each customer was told about."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Dict, List

import sqlalchemy as sa

from bot.storage.database import Database
from bot.storage.models import TicketRow


@dataclass(frozen=True)
class Audit:
    tickets: int  # tickets of the storm's customers in the store
    customers_with_one: int
    customers_without: int
    duplicate_tickets: int  # tickets beyond the first of a customer
    confirmed_not_stored: int  # numbers told to a customer that the store does not have for them


def audit(database_url: str, prefix: str, senders: List[str], confirmed: Dict[str, str]) -> Audit:
    """Tickets of the customers whose sender ids start with `prefix` (the storm's)."""
    database = Database(database_url)
    try:
        with database.engine.connect() as connection:
            rows = connection.execute(
                sa.select(TicketRow.channel_user_id, TicketRow.number)
                .where(TicketRow.channel == "rest", TicketRow.channel_user_id.like(f"{prefix}%"))
            ).all()
    finally:
        database.dispose()
    per_customer = Counter(user for user, _ in rows)
    stored = {(user, number) for user, number in rows}
    return Audit(
        tickets=len(rows),
        customers_with_one=sum(1 for s in senders if per_customer[s] == 1),
        customers_without=sum(1 for s in senders if per_customer[s] == 0),
        duplicate_tickets=sum(n - 1 for n in per_customer.values() if n > 1),
        confirmed_not_stored=sum(1 for sender, number in confirmed.items() if (sender, number) not in stored),
    )
