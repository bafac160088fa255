"""Every ticket event to the operator's backend ticketing system, without loss (transactional outbox).

* **Capture.** A `before_flush` hook on every database session turns each new ticket history row into
  an outbox row in the same transaction: a change and its outbox event commit together or not at all,
  whichever code path made the change.
* **Dispatch.** `OutboxDispatcher.run_once` claims the oldest pending event of each ticket (a lease
  written with a conditional update; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), posts it outside any
  transaction, and records the outcome. An event is only offered once every earlier event of its
  ticket is delivered, so each ticket's events arrive in order. Failures back off exponentially with
  jitter; after `max_attempts` an event is parked as dead (and its ticket's later events wait) until a
  supervisor retries it. Several dispatchers (processes) may run at once; a crash after sending and
  before recording means a resend, which the receiver drops by the event id.
* **Wire format** (schema ``intake.ticket-event/1``): a JSON object with the event and a snapshot of
  the ticket, headers ``X-Intake-Event-Id`` (idempotency key), ``X-Intake-Timestamp`` (Unix seconds)
  and ``X-Intake-Signature: sha256=<hex>``, the HMAC-SHA256 of ``"<timestamp>.<body>"`` under the
  shared secret. Receivers reject stale timestamps (replays) and bad signatures; see `verify`.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import random
import re
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from bot.chat_sessions import backend_customer_id
from bot.storage.database import Database
from bot.storage.models import ChangeCounterRow, OutboxEventRow, TicketEventRow, TicketRow
from bot.text import iso
from bot.urls import outbound_url

logger = logging.getLogger(__name__)

SCHEMA = "intake.ticket-event/1"
SIGNATURE_HEADER = "X-Intake-Signature"
TIMESTAMP_HEADER = "X-Intake-Timestamp"
EVENT_ID_HEADER = "X-Intake-Event-Id"
REPLAY_WINDOW = 300  # seconds a signed request stays acceptable

# Ticket history kinds as the backend sees them; a status change is named after where it went.
_STATUS_KINDS = {"resolved": "resolved", "reopened": "reopened", "closed": "closed"}


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)




# -- capture -----------------------------------------------------------------------------------


def capture(sessions: sessionmaker) -> None:
    """Write an outbox row for every new ticket event flushed by sessions of this factory, and give
    the changed tickets their position in commit order when the transaction commits."""
    sa.event.listen(sessions, "before_flush", _before_flush)
    sa.event.listen(sessions, "before_commit", _number_changes)
    sa.event.listen(sessions, "after_rollback", lambda session: session.info.pop(_CHANGED, None))


_CHANGED = "intake.changed_tickets"


def _number_changes(session: Session) -> None:
    """Positions in commit order for the tickets this transaction changed (the pull API's cursor).

    The counter row is the transaction's last lock, taken just before commit: a transaction that
    holds it waits for nothing else, so no deadlock, and the next one gets a higher value only after
    this one committed. A backend paging on it never misses a change committed late, as it could
    when paging on an application clock read before the transaction began (issue 14, M7).
    """
    session.flush()
    changed = session.info.pop(_CHANGED, None)
    if not changed:
        return
    connection = session.connection()
    counter = ChangeCounterRow.__table__
    if not connection.execute(sa.update(counter).where(counter.c.id == 1).values(value=counter.c.value + 1)).rowcount:
        connection.execute(sa.insert(counter).values(id=1, value=1))  # a store made without the migration's row
    position = connection.execute(sa.select(counter.c.value).where(counter.c.id == 1)).scalar_one()
    for ticket in changed:
        ticket.change_seq = position
    session.flush()
    session.info.pop(_CHANGED, None)


def event_kind(event: TicketEventRow) -> str:
    if event.kind == "status_changed":
        target = (event.detail or "").split("->", 1)[-1].strip().split(":", 1)[0].strip()
        return _STATUS_KINDS.get(target, "status_changed")
    return event.kind


def ticket_snapshot(ticket: TicketRow) -> Dict[str, Any]:
    return {
        "number": ticket.number,
        "status": ticket.status,
        "category": ticket.category,
        "severity": ticket.severity,
        "severity_reason": ticket.severity_reason,
        "department": ticket.department,
        "responsible": ticket.responsible,
        "channel": ticket.channel,
        "customer_id": backend_customer_id(ticket.channel, ticket.channel_user_id),
        "contact_phone": ticket.contact_phone,
        "description": ticket.description,
        "created_at": iso(ticket.created_at),
        "response_due": iso(ticket.response_due),
        "resolve_due": iso(ticket.resolve_due),
        "progress_due": iso(ticket.progress_due),
        "repeat_of": ticket.repeat_of,
        "repeat_count": ticket.repeat_count or 0,
        "escalation_level": ticket.escalation_level or 0,
        "handler": ticket.handler,
        "rating": ticket.rating,
    }


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    now = _utcnow()
    for obj in list(session.new):
        if not isinstance(obj, TicketEventRow):
            continue
        ticket = obj.ticket if obj.ticket is not None else session.get(TicketRow, obj.ticket_id)
        if ticket is None:
            raise ValueError("a ticket event without its ticket cannot be sent to the backend")
        # Every event is a change: pulling backends page on its position in commit order.
        if ticket.updated_at is None or (obj.at is not None and obj.at > ticket.updated_at):
            ticket.updated_at = obj.at
        session.info.setdefault(_CHANGED, set()).add(ticket)
        kind = event_kind(obj)
        payload = {
            "kind": kind,
            "occurred_at": iso(obj.at),
            "actor": obj.actor,
            "detail": obj.detail or "",
            "ticket": ticket_snapshot(ticket),
        }
        session.add(
            OutboxEventRow(
                ticket_event=obj,
                ticket_number=ticket.number,
                kind=kind,
                idempotency_key=uuid.uuid4().hex,
                payload=json.dumps(payload, ensure_ascii=False),
                created_at=now,
                attempts=0,
                next_attempt_at=now,
            )
        )


# -- signing -----------------------------------------------------------------------------------


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


# -- dispatch ----------------------------------------------------------------------------------


def _permanent(why: str) -> bool:
    match = re.match(r"HTTP (\d{3})$", why or "")
    return bool(match) and 400 <= int(match.group(1)) < 500 and int(match.group(1)) not in TRANSIENT_STATUSES


@dataclass(frozen=True)
class OutboxEvent:
    id: int
    ticket_number: str
    kind: str
    idempotency_key: str
    attempts: int
    created_at: datetime
    delivered_at: Optional[datetime]
    dead_at: Optional[datetime]
    last_error: Optional[str]

    @classmethod
    def from_row(cls, row: OutboxEventRow) -> "OutboxEvent":
        return cls(
            row.id, row.ticket_number, row.kind, row.idempotency_key, row.attempts, row.created_at,
            row.delivered_at, row.dead_at, row.last_error,
        )


# Secrets that have been printed in documentation: whoever read it knows them.
PUBLISHED_SECRETS = frozenset({"dev-secret-change-me-please"})
MIN_SECRET_CHARS = 16


@dataclass(frozen=True)
class Settings:
    url: str
    secret: str
    timeout: float = 5.0  # seconds one push may take in all (connect, send, answer), not per socket read
    max_attempts: int = 12
    backoff_base: float = 1.0
    backoff_cap: float = 300.0
    batch: int = 50

    def __post_init__(self) -> None:
        """Checked once, at start: the push carries phones and descriptions, and its signature is only
        as good as the secret (bot/urls.py says which addresses are refused)."""
        outbound_url(self.url, "BACKEND_URL")
        if len(self.secret) < MIN_SECRET_CHARS:
            raise ValueError(f"BACKEND_SECRET must be set ({MIN_SECRET_CHARS} characters or more) when BACKEND_URL is")
        if self.secret in PUBLISHED_SECRETS:
            raise ValueError("BACKEND_SECRET is the example printed in the README: choose your own, e.g. openssl rand -hex 32")


@dataclass
class RoundResult:
    delivered: int = 0
    failed: int = 0
    dead: int = 0


Sender = Callable[[str, bytes, Dict[str, str], float], Tuple[bool, str]]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect would turn the POST into a body-less GET whose 200 looks like a delivery: refuse."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102
        return None


class _Deadline:
    """Shuts the sockets of one push down when its time is up.

    urllib's timeout applies to each socket operation: a backend that answers one byte every few
    seconds never trips it, and would hold a dispatcher (and its leased events) for as long as it
    likes. Shutting the socket down wakes the blocked read at once, whatever it was waiting for."""

    def __init__(self, seconds: float) -> None:
        self._sockets: List[socket.socket] = []
        self._lock = threading.Lock()
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> "_Deadline":
        self._timer.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self._timer.cancel()

    def track(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)
        return sock

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _tracked(base: type, deadline: _Deadline) -> Callable[..., Any]:
    """An http.client connection class whose sockets `deadline` can shut down."""

    def connection(*args: Any, **kwargs: Any) -> Any:
        made = base(*args, **kwargs)
        made._create_connection = lambda *a, **k: deadline.track(socket.create_connection(*a, **k))
        return made

    return connection


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def http_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(_tracked(http.client.HTTPConnection, self._deadline), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def https_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(_tracked(http.client.HTTPSConnection, self._deadline), req,
                            context=self._context, check_hostname=self._check_hostname)


# Answers that say "not now" rather than "never": they never make an event dead.
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def http_post(url: str, body: bytes, headers: Dict[str, str], timeout: float) -> Tuple[bool, str]:
    """POST; (True, "") on a 2xx answer, else (False, why). Redirects are failures. The whole push,
    connecting and reading the answer included, takes at most `timeout` seconds (and a little)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with _Deadline(timeout) as deadline:
        opener = urllib.request.build_opener(_NoRedirects, _HTTPHandler(deadline), _HTTPSHandler(deadline))
        try:
            with opener.open(request, timeout=timeout) as answer:
                answer.read()
                status = answer.status
        except urllib.error.HTTPError as error:
            return False, f"HTTP {error.code}"
        except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, OSError,
                http.client.HTTPException) as error:
            if deadline.expired:
                return False, f"deadline: no complete answer within {timeout:g} s"
            reason = getattr(error, "reason", error)
            return False, f"{error.__class__.__name__}: {reason}"[:255]
        if deadline.expired:
            return False, f"deadline: no complete answer within {timeout:g} s"
        return 200 <= status < 300, f"HTTP {status}"


class OutboxDispatcher:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        sender: Sender = http_post,
        clock: Callable[[], datetime] = _utcnow,
        worker: Optional[str] = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.sender = sender
        self.clock = clock
        self.worker = worker or f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"

    def run_once(self) -> RoundResult:
        """Deliver what is due now: at most one event per ticket (the oldest pending one)."""
        result = RoundResult()
        for row_id, ticket_event_id, key, payload in self._claim():
            body = self._body(payload, key, ticket_event_id)
            timestamp = int(time.time())
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "intake-outbox/1",
                EVENT_ID_HEADER: key,
                "Idempotency-Key": key,
                TIMESTAMP_HEADER: str(timestamp),
                SIGNATURE_HEADER: sign(body, self.settings.secret, timestamp),
            }
            ok, why = self.sender(self.settings.url, body, headers, self.settings.timeout)
            outcome = self._record(row_id, ok, why)
            if outcome == "delivered":
                result.delivered += 1
            elif outcome == "dead":
                result.dead += 1
            else:
                result.failed += 1
        return result

    def drain(self, rounds: int = 1000) -> RoundResult:
        """Run rounds until nothing is due (for tests and tools)."""
        total = RoundResult()
        for _ in range(rounds):
            step = self.run_once()
            total.delivered += step.delivered
            total.failed += step.failed
            total.dead += step.dead
            if not (step.delivered or step.failed or step.dead):
                break
        return total

    @staticmethod
    def _body(payload: str, key: str, ticket_event_id: int) -> bytes:
        event = json.loads(payload)
        document = {"schema": SCHEMA, "event_id": key, "sequence": ticket_event_id, **event}
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()

    def _claim(self) -> List[Tuple[int, int, str, str]]:
        now = self.clock()
        earlier = sa.orm.aliased(OutboxEventRow)
        lease = timedelta(seconds=self.settings.batch * self.settings.timeout + 30)
        with self.db.transaction() as session:
            query = (
                sa.select(OutboxEventRow)
                .where(
                    OutboxEventRow.delivered_at.is_(None),
                    OutboxEventRow.dead_at.is_(None),
                    OutboxEventRow.next_attempt_at <= now,
                    sa.or_(OutboxEventRow.locked_until.is_(None), OutboxEventRow.locked_until < now),
                    ~sa.exists().where(
                        earlier.ticket_number == OutboxEventRow.ticket_number,
                        earlier.id < OutboxEventRow.id,
                        earlier.delivered_at.is_(None),
                    ),
                )
                .order_by(OutboxEventRow.id)
                .limit(self.settings.batch)
            )
            if session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=OutboxEventRow)
            rows = session.execute(query).scalars().all()
            for row in rows:
                row.locked_until = now + lease
                row.locked_by = self.worker
            return [(row.id, row.ticket_event_id, row.idempotency_key, row.payload) for row in rows]

    def _record(self, row_id: int, ok: bool, why: str) -> str:
        now = self.clock()
        with self.db.transaction() as session:
            row = session.execute(
                sa.select(OutboxEventRow).where(OutboxEventRow.id == row_id).with_for_update()
            ).scalar_one_or_none()
            if row is None or row.locked_by != self.worker or row.delivered_at is not None:
                # Our lease ran out and another dispatcher took the event: its outcome counts.
                logger.warning("outbox event %s: lease lost before recording (%s)", row_id, "ok" if ok else why)
                return "delivered" if ok else "failed"
            row.locked_until = None
            row.locked_by = None
            row.attempts += 1
            if ok:
                row.delivered_at = now
                row.last_error = None
                return "delivered"
            row.last_error = why[:255]
            # Only answers that will not change by waiting (4xx: the backend rejects the event) park
            # it as dead; an outage (refused, timeout, 5xx, 429) is retried for as long as it lasts.
            if _permanent(why) and row.attempts >= self.settings.max_attempts:
                row.dead_at = now
                logger.error("outbox event %s of ticket %s parked as dead: %s", row.id, row.ticket_number, why)
                return "dead"
            delay = min(self.settings.backoff_cap, self.settings.backoff_base * 2 ** (row.attempts - 1))
            row.next_attempt_at = now + timedelta(seconds=delay * random.uniform(0.5, 1.0))
            logger.warning("outbox event %s attempt %d failed (%s)", row.id, row.attempts, why)
            return "failed"


# How long outbox rows stay once nobody needs them (they hold the phone and the description).
OUTBOX_KEEP = timedelta(days=7)
PRUNE_CHUNK = 500


class OutboxAdmin:
    """What supervisors see and do: parked (dead) events, retrying them, the backlog; and pruning."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = _utcnow) -> None:
        self.db = db
        self.clock = clock

    def prune(self, keep: timedelta = OUTBOX_KEEP) -> Dict[str, int]:
        """Delete outbox rows that no dispatcher will ever need, older than `keep`.

        Capture stays on whether or not push is configured: the change is recorded in the same
        transaction in every process (action server and CLI too), and a process that wrongly
        believed push was off would otherwise lose events for good. What is removed here instead:

        * delivered events: the backend acknowledged them, and nothing reads them again (the pull
          API reads tickets and their history, not the outbox);
        * events never offered to any backend, while no dispatcher has touched any event for
          `keep`: push is off, so turning it on later sends the last `keep` of changes, not years of
          them (a backend catches up on older tickets through the pull API).

        Dead events and every event behind one stay for the supervisor's retry."""
        cutoff = self.clock() - keep
        events = OutboxEventRow
        delivered = self._delete(events.delivered_at.isnot(None), events.delivered_at < cutoff)
        never_pushed = 0
        if not self._push_active_since(cutoff):
            dead = sa.orm.aliased(OutboxEventRow)
            never_pushed = self._delete(
                events.delivered_at.is_(None), events.dead_at.is_(None), events.attempts == 0,
                events.locked_by.is_(None), events.created_at < cutoff,
                ~sa.exists().where(dead.ticket_number == events.ticket_number, dead.dead_at.isnot(None)),
            )
        return {"delivered": delivered, "never_pushed": never_pushed}

    def _push_active_since(self, cutoff: datetime) -> bool:
        events = OutboxEventRow
        with self.db.transaction() as session:
            return session.execute(
                sa.select(events.id).where(
                    sa.or_(
                        events.delivered_at >= cutoff,
                        events.dead_at >= cutoff,
                        events.locked_until >= cutoff,
                        sa.and_(events.attempts > 0, events.next_attempt_at >= cutoff),
                    )
                ).limit(1)
            ).first() is not None

    def _delete(self, *conditions: Any) -> int:
        """In chunks: short transactions, so pruning a long backlog never holds up the writers."""
        total = 0
        while True:
            with self.db.transaction() as session:
                ids = session.execute(
                    sa.select(OutboxEventRow.id).where(*conditions).order_by(OutboxEventRow.id).limit(PRUNE_CHUNK)
                ).scalars().all()
                if not ids:
                    return total
                session.execute(
                    sa.delete(OutboxEventRow).where(OutboxEventRow.id.in_(ids)).execution_options(synchronize_session=False)
                )
            total += len(ids)

    def dead(self, limit: int = 100) -> List[OutboxEvent]:
        with self.db.transaction() as session:
            rows = session.execute(
                sa.select(OutboxEventRow).where(OutboxEventRow.dead_at.isnot(None)).order_by(OutboxEventRow.id).limit(limit)
            ).scalars()
            return [OutboxEvent.from_row(row) for row in rows]

    def retry(self, event_id: int) -> bool:
        """Give a dead event a fresh set of attempts; False when there is no such dead event."""
        with self.db.transaction() as session:
            done = session.execute(
                sa.update(OutboxEventRow)
                .where(OutboxEventRow.id == event_id, OutboxEventRow.dead_at.isnot(None))
                .values(dead_at=None, attempts=0, next_attempt_at=self.clock(), last_error=None)
            ).rowcount
            return done == 1

    def backlog(self) -> Dict[str, int]:
        with self.db.transaction() as session:
            pending = session.execute(
                sa.select(sa.func.count(OutboxEventRow.id)).where(
                    OutboxEventRow.delivered_at.is_(None), OutboxEventRow.dead_at.is_(None)
                )
            ).scalar_one()
            dead = session.execute(
                sa.select(sa.func.count(OutboxEventRow.id)).where(OutboxEventRow.dead_at.isnot(None))
            ).scalar_one()
            return {"pending": pending, "dead": dead}
