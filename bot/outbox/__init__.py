"""Every ticket event to the operator's backend ticketing system, without loss (transactional outbox).

* **Capture** (bot/storage/capture.py): each new ticket history row becomes an outbox row in the same
  transaction, whichever code path made the change.
* **Dispatch** (`dispatcher`): events are posted in order per ticket, retried with back-off, parked
  as dead after `max_attempts` until a supervisor retries them; `transport` is the HTTP push itself.
* **Wire format** (`wire`): schema ``intake.ticket-event/1``, signed with HMAC-SHA256; see `verify`.
* **Admin** (`admin`): dead events, retry, backlog, pruning.
"""

from bot.outbox.admin import OUTBOX_KEEP, PRUNE_CHUNK, OutboxAdmin, OutboxEvent
from bot.outbox.dispatcher import MIN_SECRET_CHARS, PUBLISHED_SECRETS, OutboxDispatcher, RoundResult, Settings
from bot.outbox.transport import TRANSIENT_STATUSES, Sender, http_post
from bot.outbox.wire import (
    EVENT_ID_HEADER,
    AttachmentDocument,
    REPLAY_WINDOW,
    SCHEMA,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    TicketDocument,
    TicketEventDocument,
    TicketHistoryEntry,
    TicketSnapshot,
    sign,
    verify,
)
from bot.storage.capture import capture, event_kind, ticket_snapshot

__all__ = [
    "EVENT_ID_HEADER", "AttachmentDocument", "MIN_SECRET_CHARS", "OUTBOX_KEEP", "PRUNE_CHUNK", "PUBLISHED_SECRETS", "REPLAY_WINDOW",
    "SCHEMA", "SIGNATURE_HEADER", "TIMESTAMP_HEADER", "TRANSIENT_STATUSES", "OutboxAdmin", "OutboxDispatcher",
    "OutboxEvent", "RoundResult", "Sender", "Settings", "TicketDocument", "TicketEventDocument", "TicketHistoryEntry",
    "TicketSnapshot", "capture", "event_kind", "http_post", "sign", "ticket_snapshot", "verify",
]
