"""What every action needs: the domain services (actions/services.py), the customer behind a tracker, presentation helpers."""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import logging
from typing import Any, Callable, Dict, List, Optional, TypeVar

from rasa_sdk import Tracker

from actions import services
from bot.limits import Limits
from bot.storage.database import Database
from bot.text import beijing_time
from bot.tickets import Customer, Ticket

logger = logging.getLogger(__name__)

T = TypeVar("T")


async def call(method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking domain service method off the event loop.

    `method` is looked up on the live service (actions/services.py):
    ``await call(TicketService.get, customer, number)``.
    """
    owner = method.__qualname__.partition(".")[0]

    def run() -> T:
        return method(services.current().ready().of_class(owner), *args, **kwargs)

    context = contextvars.copy_context()  # the call's log lines keep the request's ids
    return await asyncio.get_running_loop().run_in_executor(None, context.run, run)


def limits() -> Limits:
    """This process's traffic limits (the human-request buckets)."""
    return services.current().limits


def database() -> Database:
    """The process's ticket store."""
    return services.current().db


def customer_of(tracker: Tracker) -> Customer:
    return Customer(channel=tracker.get_latest_input_channel() or "unknown", user_id=tracker.sender_id)


def address_of(tracker: Tracker) -> Optional[str]:
    """The pseudonym of the client address the latest message came from (set by the channel, see
    bot/limits.address_ref); None when the channel has none (Telegram)."""
    value = ((tracker.latest_message or {}).get("metadata") or {}).get("address_ref")
    return value if isinstance(value, str) and value else None


def origin_of(tracker: Tracker) -> Optional[str]:
    """Where a complaint came from, for outage detection: the web chat's client address. A REST
    client is an integration serving many customers from one address, and Telegram has none: there
    the channel account is the source (bot/incidents.distinct_customers)."""
    return address_of(tracker) if tracker.get_latest_input_channel() == "webchat" else None


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def idempotency_key(tracker: Tracker, purpose: str) -> str:
    """Same tracker state -> same key, so a retried action call finds what the first one made.

    The message id is the channel's where it has a stable one (the Telegram update, a REST client's
    own id): a message redelivered after its turn died mid-way is then the same message, and a ticket
    that turn filed is found instead of filed again (channels/telegram/, channels/rest.py)."""
    message_id = (tracker.latest_message or {}).get("message_id")
    if not message_id:
        user_events = [e for e in tracker.events if e.get("event") == "user"]
        message_id = str(user_events[-1].get("timestamp")) if user_events else "none"
    raw = f"{purpose}\x1f{tracker.get_latest_input_channel()}\x1f{tracker.sender_id}\x1f{message_id}"
    return f"{purpose}:{hashlib.sha256(raw.encode()).hexdigest()}"


def ticket_vars(ticket: Ticket) -> Dict[str, str]:
    """Template variables for the ticket responses in the domain."""
    return {
        "ticket_number": ticket.number,
        "category": ticket.category.label,
        "department": ticket.department.label,
        "severity": ticket.severity.label,
        "status": ticket.status.label,
        "responsible": ticket.responsible or f"{ticket.department.label}值班人员（待指派）",
        "response_due": beijing_time(ticket.response_due),
        "resolve_due": beijing_time(ticket.resolve_due),
        "phone": ticket.masked_phone,
        "contact_line": (
            f"处理人员会通过 {ticket.masked_phone} 与您联系。" if ticket.contact_phone else "您没有留联系电话，处理进展会在这里通知您。"
        ),
    }


def previous_bot_actions(tracker: Tracker) -> List[str]:
    """The responses the assistant gave in its previous turn (before the latest message)."""
    seen_latest_user = False
    actions: List[str] = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_latest_user:
                break
            seen_latest_user = True
            continue
        if seen_latest_user and event.get("event") == "bot":
            actions.append(((event.get("metadata") or {}).get("utter_action")) or "")
    return actions


def said_this_turn(tracker: Tracker, response: str) -> bool:
    """Whether `response` was already sent since the customer's latest message (by a rule's action
    before a form reads the same message), so that it is not sent twice in one reply."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot" and (event.get("metadata") or {}).get("utter_action") == response:
            return True
    return False
