"""A customer's requests to see or delete their data: verified in chat with the phone on file,
recorded as pending, and carried out (or rejected) by a supervisor or with ``python -m bot.cli
privacy``. Deleting anonymises the ticket store first and only then removes the bot's
conversation log.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from typing import Any, Callable, Dict, Iterable, List, Optional, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.attachments.store import StoredFiles
from bot.clock import utcnow
from bot.errors import Conflict, Forbidden, InvalidInput, NotFound, WrongState
from bot.notices import notice
from bot.privacy.anonymise import _refuse_during_chat, anonymise
from bot.privacy.model import Kind, PhoneCheck, PrivacyRequest, RequestStatus
from bot.privacy.summary import _summary, _summary_text
from bot.staff import StaffMember
from bot.storage.conversations import ConversationLog, events as conversation_events
from bot.storage.database import Database
from bot.storage.models import HandoffEventRow, HandoffSessionRow, PrivacyPhoneCheckRow, PrivacyRequestRow, TicketRow
from bot.text import find_phone
from bot.ticket_numbers import BEIJING
from bot.tickets import Customer

logger = logging.getLogger("bot.privacy")

_QUEUED = ("waiting", "callback")


class Files(Protocol):
    """What deleting needs of the attachment service (bot.attachments.AttachmentService)."""

    def delete_bytes(self, attachment_ids: Iterable[str]) -> int: ...

ACCESS_DONE_TEXT = "您申请查看的个人信息如下（申请编号 {id}）：\n{summary}\n如需更正或删除，请发送“删除我的个人信息”或联系客服。"
DELETE_DONE_TEXT = (
    "您申请删除个人信息（申请编号 {id}）已处理完成：您的联系电话、问题描述和对话记录已删除，"
    "工单仅保留不含身份信息的统计数据。感谢您的信任。"
)
REJECTED_TEXT = "您的个人信息申请（编号 {id}）未能办理：{reason}。如有疑问请联系客服。"



class PrivacyRequests:
    MAX_ATTEMPTS = 3  # failed phone checks per customer and day

    def __init__(
        self, db: Database, log: Optional[ConversationLog] = None, clock: Callable[[], datetime] = utcnow,
        files: Optional[Files] = None,
    ) -> None:
        self.db = db
        self.log = log
        self.clock = clock
        # Removes evidence bytes once their rows are gone (the attachment service; without one, the
        # store the environment configures: the CLI).
        self.files = files

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
            attachment_ids = counts.pop("attachment_ids")
            # The confirmation still reaches the customer's channel; it names nobody.
            notice(session, customer, DELETE_DONE_TEXT.format(id=row.id), (), now)
            row.status, row.decided_by, row.decided_at = RequestStatus.DONE.value, actor[:64], now
            row.note = note.strip()[:500] or None
            row.channel_user_id = token
            row.result = json.dumps({"verified_by": request.verified_by, "removed": counts}, ensure_ascii=False)
            session.add(HandoffEventRow(session_id=None, at=now, kind="privacy_decided", actor=actor[:64], detail="done"))
            decided = PrivacyRequest.from_row(row)
            request_id = row.id
        files = self.files if self.files is not None or not attachment_ids else StoredFiles.from_env(self.db)
        if files is not None and attachment_ids:
            files.delete_bytes(attachment_ids)
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
