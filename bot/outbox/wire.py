"""The wire format of a pushed ticket event (schema ``intake.ticket-event/1``): a JSON object with the
event and a snapshot of the ticket, headers ``X-Intake-Event-Id`` (idempotency key),
``X-Intake-Timestamp`` (Unix seconds) and ``X-Intake-Signature: sha256=<hex>``, the HMAC-SHA256 of
``"<timestamp>.<body>"`` under the shared secret. Receivers reject stale timestamps (replays) and bad
signatures; `verify` is what they check.

The snapshot itself is written when the event is captured (bot/storage/capture.py). The pull API
(channels/backend_api.py) sends the same snapshot with the ticket's history as `TicketDocument`.
The TypedDicts below are those documents as sent; tests/test_openapi_payloads.py holds them to
channels/static/backend-openapi.json.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import List, Optional, TypedDict

SCHEMA = "intake.ticket-event/1"
SIGNATURE_HEADER = "X-Intake-Signature"
TIMESTAMP_HEADER = "X-Intake-Timestamp"
EVENT_ID_HEADER = "X-Intake-Event-Id"
REPLAY_WINDOW = 300  # seconds a signed request stays acceptable


class AttachmentDocument(TypedDict):
    """A piece of evidence on the ticket (bot.attachments): what it is, and a signed download link
    that expires (``GET /api/attachments/{attachment_id}?expires=…&n=…&sig=…``, usable once, until then; every push and pull signs afresh)."""

    id: str
    type: str  # the MIME type of the stored bytes: image/jpeg, image/png, image/webp, application/pdf
    kind: str  # image | pdf
    size: int
    sha256: str
    url: str
    expires_at: Optional[str]
    created_at: Optional[str]


class TicketSnapshot(TypedDict):
    """A ticket as the backend sees it (written by `bot.storage.capture.ticket_snapshot`; its
    `attachments`, with freshly signed links, are filled in when it is sent or served)."""

    number: str
    status: str
    category: str
    severity: str
    severity_reason: str
    department: str
    responsible: Optional[str]
    channel: str
    customer_id: str
    contact_phone: Optional[str]
    description: str
    created_at: Optional[str]
    response_due: Optional[str]
    resolve_due: Optional[str]
    progress_due: Optional[str]
    repeat_of: Optional[str]
    repeat_count: int
    escalation_level: int
    handler: Optional[str]
    rating: Optional[int]
    attachments: List[AttachmentDocument]


class TicketHistoryEntry(TypedDict):
    at: Optional[str]
    actor: str
    kind: str
    detail: str


class TicketDocument(TicketSnapshot):
    """A ticket in the pull API (`channels.backend_api.ticket_document`): the snapshot and its history."""

    updated_at: Optional[str]
    change_seq: Optional[int]
    events: List[TicketHistoryEntry]


class TicketEventDocument(TypedDict):
    """The body of one push (`OutboxDispatcher`): the event and the ticket's snapshot at that moment."""

    schema: str
    event_id: str
    sequence: int
    kind: str
    occurred_at: Optional[str]
    actor: str
    detail: str
    ticket: TicketSnapshot


def sign(body: bytes, secret: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(body: bytes, secret: str, timestamp: str, signature: str, now: Optional[float] = None) -> bool:
    """What a receiver checks: a fresh timestamp and a matching signature."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - sent) > REPLAY_WINDOW:
        return False
    return hmac.compare_digest(sign(body, secret, sent).encode(), (signature or "").encode("utf-8", "replace"))
