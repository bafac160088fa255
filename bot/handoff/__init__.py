"""Human handoff under first-contact responsibility (首问负责制).

A customer's conversation goes to a human as a *handoff session*:

    waiting ──accept──> active ──release──> released   (the bot answers again)
       │  ▲                │ └──close────> closed
       │  └─(callback)     └─transfer (accepted by the receiver) / reassign (supervisor)
       └──customer cancels──> cancelled

* ``callback``: nobody was online (or outside working hours); the request waits in the queue with
  a call-back deadline while the bot keeps answering the customer.
* The first agent who accepts becomes the session's **owner** and the responsible person of the
  customer's open tickets that have none. Accepting is one conditional UPDATE, so of many agents
  accepting at once exactly one wins; the others get `Taken` naming the holder.
* A customer whose open ticket already has a responsible agent is routed to that agent when online;
  otherwise the session waits marked with its owner. Another agent may chat meanwhile, but
  responsibility moves only by an accepted transfer or a supervisor's reassignment, always written
  in the ticket history with who, when and why.

Every change appends a row to ``handoff_events``: the feed consoles follow (across processes).
Messages for the customer wait in ``handoff_messages`` until a channel delivers them: a process
claims one for a while (a lease), sends it, and marks it delivered once the channel accepted it; a
claim that runs out (its process died) offers the message again. At-least-once: a customer may get a
message twice, never not at all, and the message id lets a client drop the repeat.

The package, one job per module:

    model.py           states, outcomes, working hours, the frozen snapshots (HandoffSession, Message, ...)
    texts.py           what the customer is told, canned replies, "cancel" / "back to the bot" words
    routing.py         the customer's side: request, customer_message, session_for, available_now, sweep
    mailbox.py         messages waiting for a channel: pending, claim, delivered, failed, replay
    console.py         the agent's side: the console's reads and an agent's actions on a session
    ticket_actions.py  escalating and resolving the customer's tickets from a chat
    shift.py           the agent's shift: the queue by kind, paged and filtered; hand-back at logout
    service.py         HandoffService, the facade channels and actions hold
    _rows.py           the shared desk and row helpers (private)

Callers import from `bot.handoff` as before; this module only re-exports.
"""

from bot.handoff._rows import SYSTEM
from bot.handoff.mailbox import DELIVERY_LEASE
from bot.handoff.model import (
    QUEUED,
    WITH_HUMAN,
    FeedEvent,
    GateState,
    HandoffSession,
    Message,
    Outcome,
    Placement,
    Routing,
    SessionStatus,
    WorkingHours,
)
from bot.handoff.routing import CALLBACK_WITHIN, DEFAULT_WAIT_PER_CUSTOMER, HISTORY_LIMIT
from bot.handoff.service import HandoffService
from bot.handoff.shift import QueueQuery
from bot.handoff.texts import (
    ACCEPTED_TEXT,
    CANCELLED_TEXT,
    CANNED_REPLIES,
    CLOSED_TEXT,
    IN_CHAT_TEXT,
    RELEASED_TEXT,
    REQUEUED_TEXT,
    TRANSFERRED_TEXT,
    UNAVAILABLE_TEXT,
    WAITING_TEXT,
    describe_wait,
    is_cancel,
    is_leave,
    masked_customer,
)

__all__ = [
    "ACCEPTED_TEXT",
    "CALLBACK_WITHIN",
    "CANCELLED_TEXT",
    "CANNED_REPLIES",
    "CLOSED_TEXT",
    "DEFAULT_WAIT_PER_CUSTOMER",
    "DELIVERY_LEASE",
    "FeedEvent",
    "HISTORY_LIMIT",
    "HandoffService",
    "HandoffSession",
    "IN_CHAT_TEXT",
    "Message",
    "Outcome",
    "Placement",
    "QUEUED",
    "QueueQuery",
    "RELEASED_TEXT",
    "REQUEUED_TEXT",
    "GateState",
    "Routing",
    "SYSTEM",
    "SessionStatus",
    "TRANSFERRED_TEXT",
    "UNAVAILABLE_TEXT",
    "WAITING_TEXT",
    "WITH_HUMAN",
    "WorkingHours",
    "describe_wait",
    "is_cancel",
    "is_leave",
    "masked_customer",
]
