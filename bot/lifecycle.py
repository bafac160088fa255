"""The rest of a ticket's life (受理 → 分派 → 处理 → 反馈 → 跟踪): deadlines watched, escalation
decided by supervisors, the result fed back to the customer, a satisfaction survey, follow-up.

Every change here appends to the ticket history, so it also reaches the backend (bot/outbox.py).
Customers are told through `bot.notices`, which their own channel delivers.

* `DeadlineWatch.scan` — run by every server process every half minute; safe in several at once: each
  breach is claimed on the row (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, one writer on SQLite) and
  recorded once. It also closes tickets whose survey went unanswered for 72 hours.
* `Feedback` — the result and the survey when a ticket is resolved; the customer's answer
  (1–5 or 没解决, by button or in words) closes the loop, or reopens the ticket to the same
  responsible person with a follow-up call (回访) when the customer is not satisfied.
* `Escalations` — a request (customer, agent or automatic) waits in the supervisors' queue; accepting
  raises the ticket's level and severity and names a higher-level handler; declining says why. The
  first responsible person stays responsible for keeping the customer informed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot import deadlines, ticket_numbers
from bot.categories import Category
from bot.errors import Conflict, Forbidden, InvalidInput, NotFound, WrongState
from bot.notices import notice
from bot.severity import Assessment, Severity
from bot.staff import StaffMember
from bot.storage.database import Database
from bot.storage.models import AgentRow, EscalationRow, HandoffEventRow, TicketEventRow, TicketRow
from bot.text import beijing_time
from bot.tickets import OPEN_STATUSES, PROGRESS_INTERVAL, Customer, Status, Ticket, move_row, raise_severity_row

logger = logging.getLogger(__name__)

SYSTEM = "system"
SURVEY_WINDOW = timedelta(hours=72)
FOLLOW_UP_WITHIN = timedelta(hours=24)
NEAR = timedelta(hours=4)  # "near a deadline" in the console
_OPEN = [s.value for s in OPEN_STATUSES]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _customer(row: TicketRow) -> Customer:
    return Customer(row.channel, row.channel_user_id)


def _event(row: TicketRow, now: datetime, actor: str, kind: str, detail: str) -> None:
    row.events.append(TicketEventRow(at=now, actor=actor, kind=kind, detail=detail))
    row.updated_at = now


def _feed(session: Session, now: datetime, kind: str, actor: str, detail: str = "") -> None:
    """Wake the consoles (their change feed) about something outside a live chat."""
    session.add(HandoffEventRow(session_id=None, at=now, kind=kind, actor=actor[:64], detail=detail))


def _locked(query, session: Session):
    if session.bind.dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


# -- deadlines ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attention:
    """A ticket near or past one of its deadlines, for the console."""

    ticket: Ticket
    deadline: str  # response | resolve | progress
    due: datetime
    overdue: bool


class DeadlineWatch:
    def __init__(self, db: Database, clock: Callable[[], datetime] = _utcnow) -> None:
        self.db = db
        self.clock = clock

    def scan(self) -> int:
        """Record every new breach once, and close unanswered surveys; returns how many changes."""
        now = self.clock()
        changes = 0
        with self.db.transaction() as session:
            open_tickets = TicketRow.status.in_(_OPEN)
            checks = (
                (
                    sa.and_(open_tickets, TicketRow.responded_at.is_(None), TicketRow.response_due < now,
                            TicketRow.response_breached_at.is_(None)),
                    "response",
                ),
                (sa.and_(open_tickets, TicketRow.resolve_due < now, TicketRow.resolve_breached_at.is_(None)), "resolve"),
                (
                    sa.and_(
                        open_tickets,
                        TicketRow.progress_due < now,
                        sa.or_(TicketRow.progress_breached_due.is_(None), TicketRow.progress_breached_due < TicketRow.progress_due),
                    ),
                    "progress",
                ),
            )
            for condition, which in checks:
                for row in session.execute(_locked(sa.select(TicketRow).where(condition).limit(500), session)).scalars():
                    self._breach(row, which, now)
                    _feed(session, now, "deadline_breached", SYSTEM, row.number)
                    changes += 1
            unanswered = sa.and_(
                TicketRow.status == Status.RESOLVED.value,
                TicketRow.survey_sent_at < now - SURVEY_WINDOW,
                TicketRow.rating.is_(None),
            )
            for row in session.execute(_locked(sa.select(TicketRow).where(unanswered).limit(500), session)).scalars():
                move_row(row, Status.CLOSED, SYSTEM, now, "超过72小时未评价，自动关闭（未评价）")
                changes += 1
        if changes:
            logger.info("deadline watch: %d change(s)", changes)
        return changes

    @staticmethod
    def _breach(row: TicketRow, which: str, now: datetime) -> None:
        if which == "response":
            row.response_breached_at = now
            detail = f"首次响应超时（应于 {beijing_time(row.response_due)} 前）"
        elif which == "resolve":
            row.resolve_breached_at = now
            detail = f"处理超时（应于 {beijing_time(row.resolve_due)} 前解决）"
        else:
            row.progress_breached_due = row.progress_due
            detail = f"未按时向客户更新进度（应于 {beijing_time(row.progress_due)} 前）"
        _event(row, now, SYSTEM, "deadline_breached", detail)

    def attention(self, viewer: StaffMember, limit: int = 100) -> List[Attention]:
        """Open tickets near (within 4 h) or past a deadline: the viewer's own, or all for supervisors."""
        now = self.clock()
        soon = now + NEAR
        with self.db.transaction() as session:
            query = sa.select(TicketRow).where(
                TicketRow.status.in_(_OPEN),
                sa.or_(
                    sa.and_(TicketRow.responded_at.is_(None), TicketRow.response_due < soon),
                    TicketRow.resolve_due < soon,
                    TicketRow.progress_due < soon,
                ),
            )
            if not viewer.is_supervisor:
                query = query.where(sa.or_(TicketRow.responsible == viewer.username, TicketRow.handler == viewer.username))
            found = []
            for row in session.execute(query.order_by(TicketRow.resolve_due).limit(limit)).scalars():
                candidates = [("resolve", row.resolve_due)]
                if row.responded_at is None:
                    candidates.append(("response", row.response_due))
                if row.progress_due is not None:
                    candidates.append(("progress", row.progress_due))
                which, due = min(candidates, key=lambda c: c[1])
                found.append(Attention(Ticket.from_row(row), which, due, due < now))
            return sorted(found, key=lambda a: a.due)


# -- feedback and survey -----------------------------------------------------------------------

RESULT_TEXT = "您的工单 {number} 已处理完成。处理结果：{note}"
SURVEY_TEXT = "请为本次处理打分（1分很不满意，5分非常满意）。问题没有解决也请告诉我们，我们会重新处理。"
SURVEY_BUTTONS = tuple({"title": f"{n}分", "payload": f"/rate_{n}"} for n in (5, 4, 3, 2, 1)) + (
    {"title": "问题没解决", "payload": "/not_solved"},
)
THANKS_TEXT = "感谢您的评价！工单 {number} 已办结。如需补充意见，可以发送“评价：您的意见”。"
REOPENED_TEXT = "很抱歉没能让您满意。工单 {number} 已重新处理，负责人会在 {due} 前回访您。"
COMMENT_TEXT = "已记录您的意见，谢谢！"

# A score needs its unit (a bare "2" may answer a numbered list in an FAQ reply) or the button.
_RATING = re.compile(r"^(?:/rate_([1-5])|([1-5])\s*分|([一二三四五])\s*分)$")
_NOT_SOLVED = re.compile(r"^(?:/not_solved|没解决|没有解决|问题没解决|还没解决)$")
_COMMENT = re.compile(r"^评价[:：]\s*(.+)$", re.S)
SURVEY_PAYLOAD = re.compile(r"^/(?:rate_[1-5]|not_solved)$")
SURVEY_CLOSED_TEXT = "这次满意度调查已经结束了，感谢您的反馈。还有问题可以直接告诉我。"
_CHINESE_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5}


def parse_rating(text: str) -> Tuple[Optional[int], bool]:
    """(score, not_solved) from a survey answer; (None, False) when it is not one."""
    text = re.sub(r"[\s。！!]+$", "", (text or "").strip())
    if _NOT_SOLVED.match(text):
        return None, True
    match = _RATING.match(text)
    if not match:
        return None, False
    digit = match.group(1) or match.group(2)
    return (int(digit) if digit else _CHINESE_DIGITS[match.group(3)]), False


def looks_like_survey_answer(text: str) -> bool:
    """Cheap check before touching the database: only these messages can answer a survey."""
    score, not_solved = parse_rating(text)
    return score is not None or not_solved or bool(_COMMENT.match((text or "").strip()))


def send_result_and_survey(session: Session, row: TicketRow, note: str, now: datetime) -> None:
    """Called when a ticket is resolved: the result, then the survey, through the customer's channel."""
    customer = _customer(row)
    notice(session, customer, RESULT_TEXT.format(number=row.number, note=note), (), now)
    notice(session, customer, SURVEY_TEXT, SURVEY_BUTTONS, now)
    row.survey_sent_at = now
    row.rating = None
    _event(row, now, SYSTEM, "survey_sent", "已发送处理结果和满意度调查")


class Feedback:
    def __init__(self, db: Database, clock: Callable[[], datetime] = _utcnow) -> None:
        self.db = db
        self.clock = clock

    def answer(self, customer: Customer, text: str) -> Optional[str]:
        """Take a survey answer or comment; the reply for the customer, or None if it was not one."""
        if not looks_like_survey_answer(text):
            return None
        now = self.clock()
        score, not_solved = parse_rating(text)
        comment = _COMMENT.match((text or "").strip())
        with self.db.transaction() as session:
            if comment:
                row = self._latest(session, customer, rated=True)
                if row is None:
                    return None
                row.rating_comment = comment.group(1).strip()[:2000]
                _event(row, now, "customer", "rating_comment", row.rating_comment)
                return COMMENT_TEXT
            row = self._latest(session, customer, rated=False)
            if row is None:
                return None
            row.rating = score if score is not None else 1
            row.rated_at = now
            label = "问题没解决" if not_solved else f"{score}分"
            _event(row, now, "customer", "rated", f"满意度：{label}")
            if not_solved or row.rating <= 2:
                move_row(row, Status.REOPENED, "customer", now, f"客户评价：{label}")
                row.follow_up_due = now + FOLLOW_UP_WITHIN
                row.progress_due = now + PROGRESS_INTERVAL
                # Handled again: a fresh resolution deadline by the same rules, watched again.
                due = deadlines.compute(now, Category(row.category), Severity(row.severity))
                row.resolve_due, row.resolve_breached_at = due.resolve_due, None
                _feed(session, now, "reopened", "customer", row.number)
                _event(row, now, SYSTEM, "follow_up_scheduled", f"回访：{row.responsible or '负责人'} 应于 {beijing_time(row.follow_up_due)} 前回访客户")
                return REOPENED_TEXT.format(number=row.number, due=beijing_time(row.follow_up_due))
            move_row(row, Status.CLOSED, "customer", now, f"客户评价：{label}")
            return THANKS_TEXT.format(number=row.number)

    def _latest(self, session: Session, customer: Customer, rated: bool) -> Optional[TicketRow]:
        since = self.clock() - SURVEY_WINDOW
        query = sa.select(TicketRow).where(
            TicketRow.channel == customer.channel,
            TicketRow.channel_user_id == customer.user_id,
            TicketRow.survey_sent_at >= since,
        )
        if rated:
            query = query.where(TicketRow.rating.isnot(None), TicketRow.rated_at >= since)
        else:
            query = query.where(TicketRow.rating.is_(None), TicketRow.status == Status.RESOLVED.value)
        query = query.order_by(TicketRow.survey_sent_at.desc()).limit(1).with_for_update()
        return session.execute(query).scalar_one_or_none()


# -- escalation --------------------------------------------------------------------------------

ESCALATION_REQUESTED_TEXT = "您的工单 {number} 已提交升级申请，主管会尽快审核，结果会第一时间告诉您。"
ESCALATION_ACCEPTED_TEXT = "您的工单 {number} 已升级处理，由{handler}负责跟进，处理时限提前到 {due} 前。原负责人会继续向您通报进展。"
ESCALATION_DECLINED_TEXT = "您的工单 {number} 的升级申请经主管审核暂不升级，原因：{reason}。原负责人会继续为您处理。"

_NEXT = {Severity.GENERAL: Severity.MAJOR, Severity.MAJOR: Severity.URGENT, Severity.URGENT: Severity.URGENT}


@dataclass(frozen=True)
class Escalation:
    id: int
    ticket_number: str
    source: str
    requested_by: str
    reason: str
    status: str
    requested_at: datetime
    decided_by: Optional[str]
    decision_reason: Optional[str]
    handler: Optional[str]
    severity: str
    responsible: Optional[str]

    @classmethod
    def from_row(cls, row: EscalationRow) -> "Escalation":
        return cls(
            row.id, row.ticket.number, row.source, row.requested_by, row.reason, row.status, row.requested_at,
            row.decided_by, row.decision_reason, row.handler, row.ticket.severity, row.ticket.responsible,
        )


class Escalations:
    def __init__(self, db: Database, clock: Callable[[], datetime] = _utcnow) -> None:
        self.db = db
        self.clock = clock

    def request(self, number: str, source: str, requested_by: str, reason: str) -> Tuple[Escalation, bool]:
        """Put a ticket in the supervisors' queue; (request, created). A pending one is reused."""
        if source not in ("customer", "agent", "automatic"):
            raise InvalidInput(f"unknown escalation source {source!r}")
        reason = (reason or "").strip()[:500] or "申请升级"
        canonical = ticket_numbers.find(number or "")
        if canonical is None:
            raise NotFound(number)
        now = self.clock()
        try:
            with self.db.transaction() as session:
                row, created = self.request_in(session, canonical, source, requested_by, reason, now)
                return Escalation.from_row(row), created
        except Conflict:  # a concurrent request for the same ticket committed first
            with self.db.transaction() as session:
                ticket = session.execute(sa.select(TicketRow).where(TicketRow.number == canonical)).scalar_one()
                pending = self._pending_of(session, ticket)
                if pending is None:  # and was decided in the meantime
                    raise WrongState(f"escalation of {ticket.number} was just decided")
                return Escalation.from_row(pending), False

    def request_in(
        self, session: Session, number: str, source: str, requested_by: str, reason: str, now: datetime
    ) -> Tuple[EscalationRow, bool]:
        """`request` inside the caller's transaction (one that escalates several tickets at once
        commits all of them or none); the caller checked `source` and canonicalised `number`."""
        ticket = session.execute(
            sa.select(TicketRow).where(TicketRow.number == number).with_for_update()
        ).scalar_one_or_none()
        if ticket is None:
            raise NotFound(number)
        pending = self._pending_of(session, ticket)
        if pending is not None:
            return pending, False
        if not Status(ticket.status).is_open:
            raise WrongState(f"ticket {ticket.number} is {ticket.status}")
        row = EscalationRow(
            ticket=ticket, source=source, requested_by=requested_by[:64], reason=reason, status="pending",
            requested_at=now,
        )
        session.add(row)
        _event(ticket, now, requested_by[:64], "escalation_requested", f"（{source}）{reason}")
        _feed(session, now, "escalation_requested", requested_by, ticket.number)
        notice(session, _customer(ticket), ESCALATION_REQUESTED_TEXT.format(number=ticket.number), (), now)
        session.flush()
        return row, True

    def pending(self, viewer: StaffMember) -> List[Escalation]:
        if not viewer.is_supervisor:
            raise Forbidden("supervisors only")
        with self.db.transaction() as session:
            rows = session.execute(
                sa.select(EscalationRow).where(EscalationRow.status == "pending").order_by(EscalationRow.requested_at)
            ).scalars().all()
            return [Escalation.from_row(r) for r in rows]

    def accept(self, viewer: StaffMember, escalation_id: int, handler: str, reason: str) -> Escalation:
        """The ticket goes one level up: severity raised one step, deadlines recomputed, a handler named."""
        reason = (reason or "").strip()[:500]
        if not reason:
            raise InvalidInput("accepting needs a reason")
        with self.db.transaction() as session:
            row = self._decidable(session, viewer, escalation_id)
            named = session.execute(
                sa.select(AgentRow).where(AgentRow.username == (handler or ""), AgentRow.active.is_(True))
            ).scalar_one_or_none()
            if named is None:
                raise InvalidInput(f"no such handler: {handler!r}")
            now = self.clock()
            ticket = session.execute(
                sa.select(TicketRow).where(TicketRow.id == row.ticket_id).with_for_update()
            ).scalar_one()
            if not Status(ticket.status).is_open:
                raise WrongState(f"ticket {ticket.number} is {ticket.status}: decline the request instead")
            row.status, row.decided_by, row.decided_at = "accepted", viewer.username, now
            row.decision_reason, row.handler = reason, named.username
            ticket.escalation_level = (ticket.escalation_level or 0) + 1
            ticket.handler = named.username
            raise_severity_row(
                ticket, Assessment(_NEXT[Severity(ticket.severity)], f"投诉升级：{reason}"), now, actor=viewer.username
            )
            _event(
                ticket, now, viewer.username, "escalated",
                f"升级至第{ticket.escalation_level}级，处理人 {named.username}，原因：{reason}；责任人仍为 {ticket.responsible or '-'}",
            )
            _feed(session, now, "escalation_accepted", viewer.username, ticket.number)
            notice(
                session, _customer(ticket),
                ESCALATION_ACCEPTED_TEXT.format(number=ticket.number, handler=named.display_name, due=beijing_time(ticket.resolve_due)),
                (), now,
            )
            session.flush()
            return Escalation.from_row(row)

    def decline(self, viewer: StaffMember, escalation_id: int, reason: str) -> Escalation:
        reason = (reason or "").strip()[:500]
        if not reason:
            raise InvalidInput("declining needs a reason")
        with self.db.transaction() as session:
            row = self._decidable(session, viewer, escalation_id)
            now = self.clock()
            row.status, row.decided_by, row.decided_at, row.decision_reason = "declined", viewer.username, now, reason
            _event(row.ticket, now, viewer.username, "escalation_declined", reason)
            _feed(session, now, "escalation_declined", viewer.username, row.ticket.number)
            notice(session, _customer(row.ticket), ESCALATION_DECLINED_TEXT.format(number=row.ticket.number, reason=reason), (), now)
            session.flush()
            return Escalation.from_row(row)

    @staticmethod
    def _pending_of(session: Session, ticket: TicketRow) -> Optional[EscalationRow]:
        return session.execute(
            sa.select(EscalationRow).where(EscalationRow.ticket_id == ticket.id, EscalationRow.status == "pending")
        ).scalar_one_or_none()

    @staticmethod
    def _decidable(session: Session, viewer: StaffMember, escalation_id: int) -> EscalationRow:
        if not viewer.is_supervisor:
            raise Forbidden("supervisors only")
        if not isinstance(escalation_id, int) or not 0 < escalation_id < 2**63:
            raise NotFound(f"escalation {escalation_id}")
        row = session.execute(
            sa.select(EscalationRow).where(EscalationRow.id == escalation_id).with_for_update()
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"escalation {escalation_id}")
        if row.status != "pending":
            raise WrongState(f"escalation {escalation_id} is already {row.status}")
        return row
