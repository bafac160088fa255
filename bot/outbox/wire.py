"""The wire format of a pushed ticket event (schema ``intake.ticket-event/1``): a JSON object with the
event and a snapshot of the ticket, headers ``X-Intake-Event-Id`` (idempotency key),
``X-Intake-Timestamp`` (Unix seconds) and ``X-Intake-Signature: sha256=<hex>``, the HMAC-SHA256 of
``"<timestamp>.<body>"`` under the shared secret. Receivers reject stale timestamps (replays) and bad
signatures; `verify` is what they check.

The snapshot itself is written when the event is captured (bot/storage/capture.py).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Optional

SCHEMA = "intake.ticket-event/1"
SIGNATURE_HEADER = "X-Intake-Signature"
TIMESTAMP_HEADER = "X-Intake-Timestamp"
EVENT_ID_HEADER = "X-Intake-Event-Id"
REPLAY_WINDOW = 300  # seconds a signed request stays acceptable


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
