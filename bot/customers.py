"""Who a customer is, as the channels know them, and the names the rest of the system may use for them.

Its own module so that anything which only needs a customer (notices, the outbox's snapshot) does not
import the ticket service.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from bot.errors import InvalidInput

# A customer whose data was deleted keeps an ``anon-`` token as user id (`bot.privacy`).
ANONYMISED_PREFIX = "anon-"


@dataclass(frozen=True)
class Customer:
    """A customer as a channel knows them."""

    channel: str
    user_id: str

    def __post_init__(self) -> None:
        if not self.channel or not self.user_id:
            raise InvalidInput("customer needs a channel and a user id")


def backend_customer_id(channel: str, user_id: str) -> str:
    """What the operator's backend is told about the customer: a web chat id is a credential, so it
    gets a stable keyed pseudonym of it ("w:" and 24 hex digits); other channels' ids are account
    numbers the backend may need to reach the customer, and are passed as they are."""
    if channel != "webchat":
        return user_id
    key = os.environ.get("LOG_ID_KEY", "intake-logs").encode()[:64]
    digest = hashlib.blake2b(user_id.encode(), digest_size=12, key=key, person=b"backend-id")
    return "w:" + digest.hexdigest()
