"""Customers' rights over their personal data (个人信息保护法) and the operator's duties.

* **Notice.** At first contact on each channel the customer is told what is collected and why, with a
  link to the details page (`Notices.first_contact`). One row per customer and channel records it.
* **Requests.** A customer may ask in chat to see (``access``) or delete (``delete``) their data. The
  request is verified with the contact phone on file (or, when none is on file, by the channel
  account that wrote every message we hold), recorded as ``pending``, and carried out by a supervisor
  in the console or by an administrator with ``python -m bot.cli privacy``:
  - access: the customer receives, through their channel, a summary of everything held about them;
  - delete: the customer's tickets keep their facts (category, severity, department, times, status,
    deadlines, rating) for the operator's figures, and lose their identity: the channel account is
    replaced by a random token, the phone, the description, customer-written history and the rating
    comment are removed; transcripts are blanked, evidence and failed deliveries are deleted, the
    conversation log of the bot (Rasa's tracker) is deleted, and every ticket gets an ``anonymised``
    event, which the outbox pushes to the backend ticketing system. Events still waiting in the
    outbox are rewritten so that no deleted data leaves later.
* **Retention.** Transcripts and the bot's conversation log older than TRANSCRIPT_RETENTION_DAYS
  (default 180) are deleted by `Retention.purge` (hourly in every Rasa process, or the CLI).
* **Access log.** Every read of a customer's data by staff is written to ``access_log``
  (`AccessLog.record`); supervisors read it in the console.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Dict, List, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.errors import Conflict, Forbidden, InvalidInput, NotFound, WrongState
from bot.logs import production_profile
from bot.outbox import OUTBOX_KEEP, OutboxAdmin
from bot.notices import ANONYMISED_PREFIX, notice
from bot.staff import StaffMember
from bot.storage.conversations import ConversationLog, events as conversation_events
from bot.storage.database import Database
from bot.storage.models import (
    AccessLogRow,
    DeliveryFailureRow,
    EscalationRow,
    HandoffEventRow,
    HandoffMessageRow,
    HandoffSessionRow,
    OutboxEventRow,
    PendingEvidenceRow,
    PrivacyNoticeRow,
    PrivacyPhoneCheckRow,
    PrivacyRequestRow,
    TicketEventRow,
    TicketRow,
)
from bot.text import beijing_time, find_phone, iso, mask_personal_data, mask_phone
from bot.ticket_numbers import BEIJING
from bot.tickets import CUSTOMER, Customer, Status

logger = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 180
REMOVED = "[已按客户要求删除]"
# History entries written from the customer's own words.
_CUSTOMER_TEXT_KINDS = frozenset({"created", "customer_addition", "evidence", "rating_comment"})
_QUEUED = ("waiting", "callback")
PURGE_CHUNK = 500


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def details_url() -> str:
    """Where the notice's link points: PRIVACY_DETAILS_URL, else the page served with the web chat."""
    url = os.environ.get("PRIVACY_DETAILS_URL", "").strip()
    if url:
        return url
    return f"http://localhost:{os.environ.get('RASA_PORT') or '5005'}/chat/privacy"


def check_details_url() -> None:
    """Refuse to start the production profile without PRIVACY_DETAILS_URL. The fallback points at
    localhost, which only works on the machine the embedded profile runs on: every first-contact
    notice would carry a dead link, and the notice is what 个人信息保护法 requires us to give."""
    if production_profile() and not os.environ.get("PRIVACY_DETAILS_URL", "").strip():
        raise ValueError(
            "PRIVACY_DETAILS_URL must be set when LOG_FORMAT=json (production profile): the public address of "
            "the privacy details page, e.g. https://bot.example.com/chat/privacy"
        )


def retention_days() -> int:
    raw = os.environ.get("TRANSCRIPT_RETENTION_DAYS", "").strip()
    if not raw:
        return DEFAULT_RETENTION_DAYS
    days = int(raw)
    if days < 1:
        raise ValueError("TRANSCRIPT_RETENTION_DAYS must be 1 or more")
    return days


NOTICE_TEXT = (
    "【个人信息保护提示】为受理您的咨询和投诉，我们会记录对话内容和您提供的联系电话，"
    "仅用于处理、回访和服务质量统计，对话记录保存{days}天。详情：{url}\n"
    "您可以随时发送“查看我的个人信息”或“删除我的个人信息”。"
)


def notice_text() -> str:
    return NOTICE_TEXT.format(days=retention_days(), url=details_url())


class Kind(str, enum.Enum):
    ACCESS = "access"
    DELETE = "delete"

    @property
    def label(self) -> str:
        return {"access": "查看个人信息", "delete": "删除个人信息"}[self.value]


class RequestStatus(str, enum.Enum):
    PENDING = "pending"
    DONE = "done"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return {"pending": "待处理", "done": "已完成", "rejected": "已拒绝"}[self.value]


@dataclass(frozen=True)
class PrivacyRequest:
    id: int
    channel: str
    channel_user_id: str
    kind: Kind
    status: RequestStatus
    requested_at: datetime
    verified_by: str
    decided_by: Optional[str]
    decided_at: Optional[datetime]
    note: Optional[str]
    result: Dict[str, Any]

    @classmethod
    def from_row(cls, row: PrivacyRequestRow) -> "PrivacyRequest":
        result = json.loads(row.result) if row.result else {}
        return cls(
            id=row.id,
            channel=row.channel,
            channel_user_id=row.channel_user_id,
            kind=Kind(row.kind),
            status=RequestStatus(row.status),
            requested_at=row.requested_at,
            verified_by=result.get("verified_by", ""),
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            note=row.note,
            result=result,
        )


# -- first contact ------------------------------------------------------------------------------


class Notices:
    """Whether a customer still has to see the notice; remembered per process so that only a
    customer's first message in a process touches the database."""

    REMEMBERED = 50_000

    def __init__(self, db: Database, clock: Callable[[], datetime] = _utcnow) -> None:
        self.db = db
        self.clock = clock
        self._seen: Dict[Customer, None] = {}
        self._lock = threading.Lock()

    def first_contact(self, customer: Customer) -> bool:
        """True exactly once per customer and channel (across processes): show the notice now."""
        with self._lock:
            if customer in self._seen:
                return False
        try:
            with self.db.transaction() as session:
                exists = session.get(PrivacyNoticeRow, (customer.channel, customer.user_id))
                if exists is None:
                    session.add(PrivacyNoticeRow(channel=customer.channel, channel_user_id=customer.user_id, shown_at=self.clock()))
            first = exists is None
        except Conflict:  # another process recorded it a moment ago
            first = False
        with self._lock:
            if len(self._seen) >= self.REMEMBERED:
                self._seen.clear()
            self._seen[customer] = None
        return first

    def forget(self, customer: Customer) -> None:
        with self._lock:
            self._seen.pop(customer, None)


# -- the access log ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Access:
    id: int
    at: datetime
    actor: str
    role: str
    action: str
    channel: Optional[str]
    customer: Optional[str]
    target: str
    client: str


ACCESS_ACTIONS = {
    "view_session": "查看会话",
    "view_transcript": "查看对话记录",
    "view_low_confidence": "查看待复核消息",
    "view_delivery_failures": "查看发送失败的消息",
    "view_privacy_requests": "查看个人信息申请",
    "execute_privacy_request": "执行个人信息申请",
}


class AccessLog:
    """Who read whose data, when, from where. Repeated reads of the same thing by the same person
    within `DEDUPE_SECONDS` (a console refreshing a transcript) are written once."""

    DEDUPE_SECONDS = 300.0

    def __init__(self, db: Database, clock: Callable[[], datetime] = _utcnow) -> None:
        self.db = db
        self.clock = clock
        self._recent: Dict[tuple, float] = {}
        self._lock = threading.Lock()

    def record(
        self, viewer: StaffMember, action: str, customer: Optional[Customer], target: str = "", client: str = ""
    ) -> bool:
        if action not in ACCESS_ACTIONS:
            raise ValueError(f"unknown access action {action}")
        key = (viewer.username, action, customer, target)
        now = time.monotonic()
        with self._lock:
            if now - self._recent.get(key, -1e9) < self.DEDUPE_SECONDS:
                return False
        with self.db.transaction() as session:
            session.add(
                AccessLogRow(
                    at=self.clock(),
                    actor=viewer.username,
                    role=viewer.role.value,
                    action=action,
                    channel=customer.channel if customer else None,
                    channel_user_id=customer.user_id if customer else None,
                    target=str(target)[:64],
                    client=(client or "")[:64],
                )
            )
        # Only a read that is on record may silence the next ones: were the key set before the row
        # was written, a failed write would let a retry read the data with no row at all.
        with self._lock:
            if len(self._recent) > 10_000:
                self._recent = {k: v for k, v in self._recent.items() if now - v < self.DEDUPE_SECONDS}
            self._recent[key] = now
        return True

    def entries(
        self, viewer: StaffMember, actor: Optional[str] = None, customer: Optional[str] = None, limit: int = 200
    ) -> List[Access]:
        if not viewer.is_supervisor:
            raise Forbidden("supervisors only")
        with self.db.transaction() as session:
            query = sa.select(AccessLogRow).order_by(AccessLogRow.id.desc()).limit(max(1, min(limit, 1000)))
            if actor:
                query = query.where(AccessLogRow.actor == actor)
            if customer:
                query = query.where(AccessLogRow.channel_user_id == customer)
            rows = session.execute(query).scalars().all()
            return [
                Access(r.id, r.at, r.actor, r.role, r.action, r.channel, r.channel_user_id, r.target, r.client) for r in rows
            ]


# -- requests ------------------------------------------------------------------------------------

ACCESS_DONE_TEXT = "您申请查看的个人信息如下（申请编号 {id}）：\n{summary}\n如需更正或删除，请发送“删除我的个人信息”或联系客服。"
DELETE_DONE_TEXT = (
    "您申请删除个人信息（申请编号 {id}）已处理完成：您的联系电话、问题描述和对话记录已删除，"
    "工单仅保留不含身份信息的统计数据。感谢您的信任。"
)
REJECTED_TEXT = "您的个人信息申请（编号 {id}）未能办理：{reason}。如有疑问请联系客服。"


@dataclass(frozen=True)
class PhoneCheck:
    ok: bool
    tries_left: int  # failed checks still allowed today (0: none, the request cannot be verified today)


class PrivacyRequests:
    MAX_ATTEMPTS = 3  # failed phone checks per customer and day

    def __init__(
        self, db: Database, log: Optional[ConversationLog] = None, clock: Callable[[], datetime] = _utcnow
    ) -> None:
        self.db = db
        self.log = log
        self.clock = clock

    # -- the customer's side --------------------------------------------------------------

    def phones_on_file(self, customer: Customer) -> List[str]:
        with self.db.transaction() as session:
            return self._phones(session, customer)

    @staticmethod
    def _phones(session: Session, customer: Customer) -> List[str]:
        return sorted(
            set(
                session.execute(
                    sa.select(TicketRow.contact_phone).where(
                        TicketRow.channel == customer.channel,
                        TicketRow.channel_user_id == customer.user_id,
                        TicketRow.contact_phone.isnot(None),
                    )
                ).scalars()
            )
        )

    def verify(self, customer: Customer, text: str) -> bool:
        return self.check_phone(customer, text).ok

    def tries_left(self, customer: Customer) -> int:
        """Phone checks the customer may still fail today."""
        with self.db.transaction() as session:
            row = session.get(PrivacyPhoneCheckRow, (customer.channel, customer.user_id, self._today()))
            return max(0, self.MAX_ATTEMPTS - (row.failures if row is not None else 0))

    def check_phone(self, customer: Customer, text: str) -> PhoneCheck:
        """Compare what the customer wrote with the phones on file, counting failures per customer and
        day in the store. The conversation's own count would start again with every new request,
        and a masked phone (138****5678) leaves only 10,000 candidates to try."""
        for attempt in (1, 2):
            try:
                return self._check_phone(customer, text)
            except Conflict:  # two checks of the same customer inserted today's row at once
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _check_phone(self, customer: Customer, text: str) -> PhoneCheck:
        key = (customer.channel, customer.user_id, self._today())
        with self.db.transaction() as session:
            query = sa.select(PrivacyPhoneCheckRow).where(
                PrivacyPhoneCheckRow.channel == key[0], PrivacyPhoneCheckRow.channel_user_id == key[1],
                PrivacyPhoneCheckRow.day == key[2],
            )
            if session.bind.dialect.name == "postgresql":
                query = query.with_for_update()
            row = session.execute(query).scalars().first()
            failures = row.failures if row is not None else 0
            if failures >= self.MAX_ATTEMPTS:
                return PhoneCheck(ok=False, tries_left=0)  # not even compared: no oracle once used up
            phone = find_phone(text or "")
            if phone is not None and phone in self._phones(session, customer):
                return PhoneCheck(ok=True, tries_left=self.MAX_ATTEMPTS - failures)
            if row is None:
                row = PrivacyPhoneCheckRow(channel=key[0], channel_user_id=key[1], day=key[2], failures=0)
                session.add(row)
            row.failures = failures + 1
            return PhoneCheck(ok=False, tries_left=self.MAX_ATTEMPTS - row.failures)

    def _today(self) -> date:
        return self.clock().astimezone(BEIJING).date()

    def submit(self, customer: Customer, kind: Kind, verified_by: str) -> tuple:
        """Record a verified request; a pending one of the same kind is returned instead of a second.
        Returns (request, created)."""
        now = self.clock()
        with self.db.transaction() as session:
            existing = session.execute(
                sa.select(PrivacyRequestRow).where(
                    PrivacyRequestRow.channel == customer.channel,
                    PrivacyRequestRow.channel_user_id == customer.user_id,
                    PrivacyRequestRow.kind == kind.value,
                    PrivacyRequestRow.status == RequestStatus.PENDING.value,
                )
            ).scalars().first()
            if existing is not None:
                return PrivacyRequest.from_row(existing), False
            row = PrivacyRequestRow(
                channel=customer.channel,
                channel_user_id=customer.user_id,
                kind=kind.value,
                status=RequestStatus.PENDING.value,
                requested_at=now,
                verified_at=now,
                result=json.dumps({"verified_by": verified_by}, ensure_ascii=False),
            )
            session.add(row)
            session.flush()
            session.add(HandoffEventRow(session_id=None, at=now, kind="privacy_requested", actor="customer", detail=kind.value))
            return PrivacyRequest.from_row(row), True

    # -- the staff's side ----------------------------------------------------------------

    def list(self, viewer: StaffMember, status: Optional[str] = None, limit: int = 100) -> List[PrivacyRequest]:
        if not viewer.is_supervisor:
            raise Forbidden("supervisors only")
        with self.db.transaction() as session:
            query = sa.select(PrivacyRequestRow).order_by(PrivacyRequestRow.id.desc()).limit(max(1, min(limit, 500)))
            if status:
                query = query.where(PrivacyRequestRow.status == RequestStatus(status).value)
            return [PrivacyRequest.from_row(r) for r in session.execute(query).scalars()]

    def get(self, request_id: int) -> PrivacyRequest:
        with self.db.transaction() as session:
            row = session.get(PrivacyRequestRow, request_id)
            if row is None:
                raise NotFound(f"privacy request {request_id}")
            return PrivacyRequest.from_row(row)

    def summary(self, customer: Customer) -> Dict[str, Any]:
        """Everything held about a customer, as counts and facts (phones masked)."""
        with self.db.transaction() as session:
            return _summary(session, customer, self._conversation_events(customer))

    def carry_out(self, request_id: int, actor: str, note: str = "") -> PrivacyRequest:
        """Do what the request asks; `actor` is the supervisor's username or ``cli:<name>``."""
        pending = self._pending(request_id)
        customer = Customer(pending.channel, pending.channel_user_id)
        if pending.kind is Kind.ACCESS:
            return self._show(pending, customer, actor, note)
        return self._delete(pending, customer, actor, note)

    def reject(self, request_id: int, actor: str, reason: str) -> PrivacyRequest:
        reason = (reason or "").strip()
        if not reason:
            raise InvalidInput("a reason is required")
        now = self.clock()
        with self.db.transaction() as session:
            row = self._pending_row(session, request_id)
            row.status, row.decided_by, row.decided_at, row.note = RequestStatus.REJECTED.value, actor[:64], now, reason[:500]
            notice(session, Customer(row.channel, row.channel_user_id), REJECTED_TEXT.format(id=row.id, reason=reason), (), now)
            session.add(HandoffEventRow(session_id=None, at=now, kind="privacy_decided", actor=actor[:64], detail="rejected"))
            return PrivacyRequest.from_row(row)

    def _pending(self, request_id: int) -> PrivacyRequest:
        with self.db.transaction() as session:
            return PrivacyRequest.from_row(self._pending_row(session, request_id))

    @staticmethod
    def _pending_row(session: Session, request_id: int) -> PrivacyRequestRow:
        query = sa.select(PrivacyRequestRow).where(PrivacyRequestRow.id == request_id)
        if session.bind.dialect.name == "postgresql":
            query = query.with_for_update()
        row = session.execute(query).scalars().first()
        if row is None:
            raise NotFound(f"privacy request {request_id}")
        if row.status != RequestStatus.PENDING.value:
            raise WrongState(f"privacy request {request_id} is {row.status}")
        return row

    def _conversation_events(self, customer: Customer) -> int:
        if self.log is None or not self.log.exists():
            return 0
        with self.log.engine.connect() as connection:
            return connection.execute(
                sa.select(sa.func.count()).select_from(conversation_events).where(
                    conversation_events.c.sender_id == customer.user_id
                )
            ).scalar_one()

    def _show(self, request: PrivacyRequest, customer: Customer, actor: str, note: str) -> PrivacyRequest:
        now = self.clock()
        conversation = self._conversation_events(customer)
        with self.db.transaction() as session:
            row = self._pending_row(session, request.id)
            summary = _summary(session, customer, conversation)
            notice(session, customer, ACCESS_DONE_TEXT.format(id=row.id, summary=_summary_text(summary)), (), now)
            row.status, row.decided_by, row.decided_at = RequestStatus.DONE.value, actor[:64], now
            row.note = note.strip()[:500] or None
            row.result = json.dumps({"verified_by": request.verified_by, "summary": summary}, ensure_ascii=False)
            session.add(HandoffEventRow(session_id=None, at=now, kind="privacy_decided", actor=actor[:64], detail="done"))
            return PrivacyRequest.from_row(row)

    def _delete(self, request: PrivacyRequest, customer: Customer, actor: str, note: str) -> PrivacyRequest:
        """Anonymise the ticket store in one transaction, and only once that decision has committed,
        delete the bot's conversation log (a refusal or a failure leaves it untouched)."""
        now = self.clock()
        with self.db.transaction() as session:
            row = self._pending_row(session, request.id)
            _refuse_during_chat(session, customer)
            # A place in the queue (or a promised call-back) ends with the customer's data.
            for queued in session.execute(
                sa.select(HandoffSessionRow).where(
                    HandoffSessionRow.channel == customer.channel,
                    HandoffSessionRow.channel_user_id == customer.user_id,
                    HandoffSessionRow.status.in_(_QUEUED),
                )
            ).scalars():
                queued.status, queued.ended_at, queued.updated_at = "cancelled", now, now
                session.add(HandoffEventRow(session_id=queued.id, at=now, kind="cancelled", actor=actor[:64], detail="客户申请删除个人信息"))
            counts = anonymise(session, customer, now, actor)
            token = counts.pop("token")
            # The confirmation still reaches the customer's channel; it names nobody.
            notice(session, customer, DELETE_DONE_TEXT.format(id=row.id), (), now)
            row.status, row.decided_by, row.decided_at = RequestStatus.DONE.value, actor[:64], now
            row.note = note.strip()[:500] or None
            row.channel_user_id = token
            row.result = json.dumps({"verified_by": request.verified_by, "removed": counts}, ensure_ascii=False)
            session.add(HandoffEventRow(session_id=None, at=now, kind="privacy_decided", actor=actor[:64], detail="done"))
            decided = PrivacyRequest.from_row(row)
            request_id = row.id
        counts["conversation_events"] = self._delete_conversation(customer)
        with self.db.transaction() as session:
            row = session.get(PrivacyRequestRow, request_id)
            result = json.loads(row.result or "{}")
            result.setdefault("removed", {})["conversation_events"] = counts["conversation_events"]
            row.result = json.dumps(result, ensure_ascii=False)
            decided = PrivacyRequest.from_row(row)
        logger.info("privacy request %s carried out by %s: %s", request_id, actor, counts)
        return decided

    def _delete_conversation(self, customer: Customer) -> int:
        """The customer's rows of Rasa's conversation log, on their channel only.

        Rasa keys a conversation by sender id alone, and two channels can use the same id (a REST
        client picks its own; Telegram's are bare numbers). Everything is deleted when every message
        of that sender came through the customer's channel; otherwise only that channel's messages,
        and the shared rest is left for retention (and logged).
        """
        if self.log is None or not self.log.exists():
            return 0
        table = conversation_events
        with self.log.engine.begin() as connection:
            user_rows = connection.execute(
                sa.select(table.c.id, table.c.data).where(table.c.sender_id == customer.user_id, table.c.type_name == "user")
            ).all()
            channels = {_input_channel(data) for _, data in user_rows}
            if channels <= {customer.channel, None}:
                return connection.execute(sa.delete(table).where(table.c.sender_id == customer.user_id)).rowcount
            logger.warning("conversation log of a sender shared by channels %s: deleting only %s messages",
                           sorted(c for c in channels if c), customer.channel)
            ours = [row_id for row_id, data in user_rows if _input_channel(data) == customer.channel]
            return connection.execute(sa.delete(table).where(table.c.id.in_(ours))).rowcount if ours else 0


def _input_channel(data: Optional[str]) -> Optional[str]:
    try:
        return (json.loads(data or "{}") or {}).get("input_channel")
    except ValueError:
        return None


class CustomerInChat(WrongState):
    """A customer's data is not deleted while an agent is talking to them."""


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


def _summary(session: Session, customer: Customer, conversation_events_count: int) -> Dict[str, Any]:
    tickets = session.execute(
        sa.select(TicketRow)
        .where(TicketRow.channel == customer.channel, TicketRow.channel_user_id == customer.user_id)
        .order_by(TicketRow.id)
    ).scalars().all()
    messages = session.execute(
        sa.select(sa.func.count(), sa.func.min(HandoffMessageRow.at), sa.func.max(HandoffMessageRow.at)).where(
            HandoffMessageRow.channel == customer.channel, HandoffMessageRow.channel_user_id == customer.user_id
        )
    ).one()
    return {
        "channel": customer.channel,
        "phones": sorted({mask_phone(t.contact_phone) for t in tickets if t.contact_phone}),
        "tickets": [
            {"number": t.number, "category": t.category, "status": t.status, "created_at": iso(t.created_at)}
            for t in tickets
        ],
        "transcript_messages": messages[0] or 0,
        "first_contact": iso(messages[1]),
        "last_contact": iso(messages[2]),
        "conversation_events": conversation_events_count,
    }


def _summary_text(summary: Dict[str, Any]) -> str:
    from bot.categories import Category

    lines = [f"· 联系电话：{'、'.join(summary['phones']) or '无'}"]
    if summary["tickets"]:
        lines.append(f"· 工单 {len(summary['tickets'])} 张：")
        for t in summary["tickets"][:20]:
            created = datetime.fromisoformat(t["created_at"])
            lines.append(f"  {t['number']}（{Category(t['category']).label}，{Status(t['status']).label}，{beijing_time(created)}）")
    else:
        lines.append("· 工单：无")
    lines.append(f"· 人工客服对话和通知消息：{summary['transcript_messages']} 条")
    lines.append(f"· 智能客服对话记录：{summary['conversation_events']} 条")
    lines.append("用途：受理和处理您的咨询与投诉、回访及服务质量统计。")
    return "\n".join(lines)


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
    evidence = session.execute(
        sa.delete(PendingEvidenceRow).where(
            PendingEvidenceRow.channel == customer.channel, PendingEvidenceRow.channel_user_id == customer.user_id
        )
    ).rowcount
    failures = session.execute(
        sa.delete(DeliveryFailureRow).where(
            DeliveryFailureRow.channel == customer.channel, DeliveryFailureRow.channel_user_id == customer.user_id
        )
    ).rowcount
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
        "evidence": evidence,
        "delivery_failures": failures,
    }


# -- retention -----------------------------------------------------------------------------------


class Retention:
    """Deletes transcripts and the bot's conversation log older than the retention period, in chunks
    (short transactions; a long purge never blocks conversations)."""

    def __init__(
        self,
        db: Database,
        log: Optional[ConversationLog],
        days: Optional[int] = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.db = db
        self.log = log
        self.days = days if days is not None else retention_days()
        self.clock = clock

    def purge(self) -> Dict[str, int]:
        cutoff = self.clock() - timedelta(days=self.days)
        counts = {
            "transcript_messages": self._chunked(
                HandoffMessageRow,
                HandoffMessageRow.at < cutoff,
                # Never a message still waiting for its channel.
                sa.or_(HandoffMessageRow.to_customer.is_(False), HandoffMessageRow.delivered_at.isnot(None),
                       HandoffMessageRow.failed_at.isnot(None)),
            ),
            "delivery_failures": self._chunked(DeliveryFailureRow, DeliveryFailureRow.at < cutoff),
            "pending_evidence": self._chunked(PendingEvidenceRow, PendingEvidenceRow.at < cutoff),
            "conversation_events": self._purge_conversations(cutoff),
        }
        counts["privacy_phone_checks"] = self._purge_phone_checks()
        # Outbox rows carry the phone and the description too: never kept longer than transcripts.
        pruned = OutboxAdmin(self.db, self.clock).prune(min(OUTBOX_KEEP, timedelta(days=self.days)))
        counts["outbox_events"] = pruned["delivered"] + pruned["never_pushed"]
        if any(counts.values()):
            logger.info("retention (%s days) purged %s", self.days, counts)
        return counts

    def _purge_phone_checks(self) -> int:
        """Yesterday's and today's counts are all the limit reads; older ones only name customers."""
        oldest = self.clock().astimezone(BEIJING).date() - timedelta(days=1)
        with self.db.transaction() as session:
            return session.execute(sa.delete(PrivacyPhoneCheckRow).where(PrivacyPhoneCheckRow.day < oldest)).rowcount or 0

    def _chunked(self, model: Any, *conditions: Any) -> int:
        total = 0
        while True:
            with self.db.transaction() as session:
                ids = session.execute(sa.select(model.id).where(*conditions).limit(PURGE_CHUNK)).scalars().all()
                if not ids:
                    return total
                session.execute(sa.delete(model).where(model.id.in_(ids)).execution_options(synchronize_session=False))
            total += len(ids)

    def _purge_conversations(self, cutoff: datetime) -> int:
        if self.log is None or not self.log.exists():
            return 0
        table, total = conversation_events, 0
        while True:
            with self.log.engine.begin() as connection:
                ids = connection.execute(
                    sa.select(table.c.id).where(table.c.timestamp < cutoff.timestamp()).limit(PURGE_CHUNK)
                ).scalars().all()
                if not ids:
                    return total
                connection.execute(sa.delete(table).where(table.c.id.in_(ids)))
            total += len(ids)
