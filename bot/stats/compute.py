"""`ServiceFigures`: computes the `Figures` of a period from the ticket store (tickets, deadlines,
satisfaction, handoff sessions, agents) and, through `rasa_log`, from Rasa's conversation log.
The definitions of every figure are in the docstring of `figures.py`.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import sqlalchemy as sa

from bot.categories import Category
from bot.clock import BEIJING, utcnow
from bot.errors import Forbidden
from bot.severity import Severity
from bot.staff import StaffMember
from bot.stats.figures import (
    FALLBACK_INTENT,
    HANDOFF_HORIZON,
    RESPONSE_BUCKETS,
    TOP_AREAS,
    AgentFigures,
    BotFigures,
    Bucket,
    Day,
    DeadlineFigures,
    Figures,
    Period,
    Rate,
    SatisfactionFigures,
    Spread,
    TicketFigures,
)
from bot.stats.rasa_log import conversation_starts, message_counts
from bot.storage.conversations import ConversationLog
from bot.storage.database import Database
from bot.storage.models import AgentRow, HandoffSessionRow, TicketEventRow, TicketRow, UTCDateTime
from bot.tickets import OPEN_STATUSES, Status

_OPEN = [s.value for s in OPEN_STATUSES]
_NO_HISTORY = SimpleNamespace(resolved_at=None, reopened=0, moved=0, resolve_breached=0)


def percentile(values: Sequence[float], p: float) -> Optional[float]:
    """Nearest-rank percentile of unsorted values; None for none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _spread(values: Sequence[float]) -> Spread:
    return Spread(len(values), percentile(values, 50), percentile(values, 90))


@dataclass
class _Tally:
    """On-time and satisfaction counts of a group of tickets (everyone, or one agent)."""

    tickets: int = 0
    response_on_time: int = 0
    response_decided: int = 0
    resolution_on_time: int = 0
    resolution_decided: int = 0
    ratings: List[int] = field(default_factory=list)

    def satisfied(self) -> Rate:
        return Rate(sum(1 for r in self.ratings if r >= 4), len(self.ratings))

    def average(self) -> Optional[float]:
        return sum(self.ratings) / len(self.ratings) if self.ratings else None


class ServiceFigures:
    def __init__(
        self, db: Database, log: Optional[ConversationLog] = None, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.db = db
        self.log = log
        self.clock = clock

    def compute(self, viewer: StaffMember, period: Period) -> Figures:
        if not viewer.is_supervisor:
            raise Forbidden("supervisors only")
        now = self.clock()
        with self.db.transaction() as session:
            tickets, deadlines, satisfaction, per_agent = self._tickets(session, period, now)
            sessions = self._handoff_sessions(session, period)
            agents = self._agents(session, period, per_agent, sessions)
        bot = self._bot(period, sessions)
        return Figures(period, now, tickets, deadlines, satisfaction, bot, agents)

    # -- tickets ----------------------------------------------------------------------------

    @staticmethod
    def _ticket_filter(period: Period) -> List[Any]:
        conditions = [TicketRow.created_at >= period.start, TicketRow.created_at < period.end]
        if period.channel:
            conditions.append(TicketRow.channel == period.channel)
        return conditions

    def _tickets(self, session, period: Period, now: datetime):
        in_period = self._ticket_filter(period)
        ev = TicketEventRow
        changed = ev.kind == "status_changed"

        def became(status: Status):
            return sa.and_(changed, sa.or_(*[ev.detail.like(f"{s.value} -> {status.value}%") for s in Status]))

        history = (
            sa.select(
                ev.ticket_id.label("ticket_id"),
                sa.type_coerce(sa.func.min(sa.case((became(Status.RESOLVED), ev.at))), UTCDateTime()).label("resolved_at"),
                sa.func.max(sa.case((became(Status.REOPENED), 1), else_=0)).label("reopened"),
                sa.func.max(sa.case((ev.kind.in_(("transferred", "reassigned", "escalated")), 1), else_=0)).label("moved"),
                sa.func.max(
                    sa.case((sa.and_(ev.kind == "deadline_breached", ev.detail.like("处理超时%")), 1), else_=0)
                ).label("resolve_breached"),
            )
            .join(TicketRow, TicketRow.id == ev.ticket_id)
            .where(*in_period)
            .group_by(ev.ticket_id)
        )
        # Two plain queries merged here: joined in SQL, a planner misjudging the sizes (fresh
        # statistics on PostgreSQL) can pick a nested loop over both aggregates and take minutes.
        histories = {row.ticket_id: row for row in session.execute(history)}
        rows = session.execute(
            sa.select(
                TicketRow.id, TicketRow.number, TicketRow.category, TicketRow.severity, TicketRow.status,
                TicketRow.area, TicketRow.created_at, TicketRow.response_due, TicketRow.responded_at,
                TicketRow.resolve_due, TicketRow.resolve_breached_at, TicketRow.survey_sent_at, TicketRow.rating,
                TicketRow.repeat_of, TicketRow.escalation_level, TicketRow.responsible,
            ).where(*in_period)
        ).all()
        # Later complaints that name a cohort ticket as their earlier one (they come after the period began).
        repeated = set(
            session.execute(
                sa.select(TicketRow.repeat_of).where(TicketRow.repeat_of.isnot(None), TicketRow.created_at >= period.start)
            ).scalars()
        )

        by_category = {c.value: 0 for c in Category}
        by_severity = {s.value: 0 for s in Severity}
        by_day = {d: Counter() for d in period.days()}
        areas: Counter = Counter()
        open_now = overdue_now = 0
        everyone = _Tally()
        per_agent: Dict[str, _Tally] = defaultdict(_Tally)
        waits: List[float] = []
        surveyed = repeats = resolved = first_contact = 0
        for row in rows:
            past = histories.get(row.id, _NO_HISTORY)
            by_category[row.category] = by_category.get(row.category, 0) + 1
            by_severity[row.severity] = by_severity.get(row.severity, 0) + 1
            day = row.created_at.astimezone(BEIJING).date()
            if day in by_day:
                by_day[day][row.category] += 1
            if row.area:
                areas[row.area] += 1
            is_open = row.status in _OPEN
            if is_open:
                open_now += 1
                if row.resolve_due < now or (row.responded_at is None and row.response_due < now):
                    overdue_now += 1
            tallies = [everyone] + ([per_agent[row.responsible]] if row.responsible else [])
            # first response
            if row.responded_at is not None:
                waits.append((row.responded_at - row.created_at).total_seconds())
            response = None
            if row.responded_at is not None:
                response = row.responded_at <= row.response_due
            elif row.response_due < now:
                response = False
            # resolution
            resolution = None
            if row.resolve_breached_at is not None or past.resolve_breached or (is_open and row.resolve_due < now):
                resolution = False
            elif past.resolved_at is not None:
                resolution = past.resolved_at <= row.resolve_due
            for tally in tallies:
                tally.tickets += 1
                if response is not None:
                    tally.response_decided += 1
                    tally.response_on_time += response
                if resolution is not None:
                    tally.resolution_decided += 1
                    tally.resolution_on_time += resolution
                if row.rating is not None:
                    tally.ratings.append(row.rating)
            if row.survey_sent_at is not None:
                surveyed += 1
            if row.repeat_of:
                repeats += 1
            if past.resolved_at is not None:
                resolved += 1
                if not (past.reopened or past.moved or (row.escalation_level or 0) > 0 or row.number in repeated):
                    first_contact += 1

        backlog = [TicketRow.status.in_(_OPEN)] + ([TicketRow.channel == period.channel] if period.channel else [])
        backlog_open = session.execute(sa.select(sa.func.count()).select_from(TicketRow).where(*backlog)).scalar_one()
        backlog_overdue = session.execute(
            sa.select(sa.func.count())
            .select_from(TicketRow)
            .where(
                *backlog,
                sa.or_(TicketRow.resolve_due < now, sa.and_(TicketRow.responded_at.is_(None), TicketRow.response_due < now)),
            )
        ).scalar_one()

        buckets, lower = [], 0.0
        for upper, label in RESPONSE_BUCKETS:
            count = sum(1 for w in waits if w >= lower and (upper is None or w < upper))
            buckets.append(Bucket(label, upper, count))
            lower = float(upper or 0)

        ticket_figures = TicketFigures(
            filed=len(rows),
            by_category=by_category,
            by_severity=by_severity,
            by_day=[Day(d, sum(c.values()), {k: c.get(k, 0) for k in by_category}) for d, c in by_day.items()],
            areas=areas.most_common(TOP_AREAS),
            open=open_now,
            overdue=overdue_now,
            backlog_open=backlog_open,
            backlog_overdue=backlog_overdue,
        )
        deadline_figures = DeadlineFigures(
            response_on_time=Rate(everyone.response_on_time, everyone.response_decided),
            resolution_on_time=Rate(everyone.resolution_on_time, everyone.resolution_decided),
            first_response=_spread(waits),
            first_response_buckets=buckets,
            not_responded=len(rows) - len(waits),
        )
        ratings = everyone.ratings
        satisfaction = SatisfactionFigures(
            surveyed=surveyed,
            rated=Rate(len(ratings), surveyed),
            average=everyone.average(),
            satisfied=everyone.satisfied(),
            scores={score: ratings.count(score) for score in range(1, 6)},
            repeat=Rate(repeats, len(rows)),
            first_contact_resolution=Rate(first_contact, resolved),
        )
        return ticket_figures, deadline_figures, satisfaction, per_agent

    # -- handoff sessions and agents --------------------------------------------------------

    @staticmethod
    def _handoff_sessions(session, period: Period) -> List[Any]:
        """Sessions requested from the period's start to a day after its end (the tail is for matching
        handoffs to conversations only)."""
        conditions = [
            HandoffSessionRow.requested_at >= period.start,
            HandoffSessionRow.requested_at < period.end + HANDOFF_HORIZON,
        ]
        if period.channel:
            conditions.append(HandoffSessionRow.channel == period.channel)
        return session.execute(
            sa.select(
                HandoffSessionRow.channel, HandoffSessionRow.channel_user_id, HandoffSessionRow.status,
                HandoffSessionRow.requested_at, HandoffSessionRow.accepted_at, HandoffSessionRow.owner,
            ).where(*conditions)
        ).all()

    @staticmethod
    def _agents(session, period: Period, tallies: Dict[str, _Tally], sessions: List[Any]) -> List[AgentFigures]:
        owned = Counter(s.owner for s in sessions if s.owner and s.requested_at < period.end)
        accounts = {a.username: a for a in session.execute(sa.select(AgentRow)).scalars()}
        names = {u for u, a in accounts.items() if a.active} | set(tallies) | set(owned)
        found = []
        for username in sorted(names):
            account = accounts.get(username)
            tally = tallies.get(username, _Tally())
            found.append(
                AgentFigures(
                    username=username,
                    display_name=account.display_name if account else username,
                    role=account.role if account else "",
                    active=bool(account and account.active),
                    sessions=owned.get(username, 0),
                    tickets=tally.tickets,
                    response_on_time=Rate(tally.response_on_time, tally.response_decided),
                    resolution_on_time=Rate(tally.resolution_on_time, tally.resolution_decided),
                    rated=len(tally.ratings),
                    average_rating=tally.average(),
                    satisfied=tally.satisfied(),
                )
            )
        found.sort(key=lambda a: (-a.tickets, -a.sessions, a.username))
        return found

    # -- the bot ----------------------------------------------------------------------------

    def _bot(self, period: Period, sessions: List[Any]) -> BotFigures:
        in_period = [s for s in sessions if s.requested_at < period.end]
        waits = [(s.accepted_at - s.requested_at).total_seconds() for s in in_period if s.accepted_at is not None]
        handoffs = dict(
            handoff_requested=len(in_period),
            handoff_accepted=len(waits),
            handoff_cancelled=sum(1 for s in in_period if s.accepted_at is None and s.status == "cancelled"),
            handoff_waiting=sum(1 for s in in_period if s.status in ("waiting", "callback")),
            queue_wait=_spread(waits),
        )
        log = self.log
        if log is None or not log.exists():
            return BotFigures(
                available=False, conversations=0, containment=Rate(0, 0), handoff=Rate(0, 0), messages=0,
                fallback=Rate(0, 0), intents=[], low_confidence_count=0, low_confidence=[], **handoffs,
            )
        with log.engine.connect() as connection:
            starts = conversation_starts(connection, period)
            intents, low_count, low = message_counts(connection, period)
        counted = [(key, at) for key, at in starts if period.start.timestamp() <= at < period.end.timestamp()]
        by_customer: Dict[Tuple[str, str], List[float]] = defaultdict(list)
        for key, at in starts:
            by_customer[key].append(at)
        with_handoff = set()
        for s in sessions:
            key = (s.channel, s.channel_user_id)
            requested = s.requested_at.timestamp()
            before = [at for at in by_customer.get(key, ()) if at <= requested]
            if before:
                with_handoff.add((key, max(before)))
        handed = sum(1 for conversation in counted if conversation in with_handoff)
        messages = sum(count for _, count in intents)
        fallbacks = sum(count for intent, count in intents if intent == FALLBACK_INTENT)
        return BotFigures(
            available=True,
            conversations=len(counted),
            containment=Rate(len(counted) - handed, len(counted)),
            handoff=Rate(handed, len(counted)),
            messages=messages,
            fallback=Rate(fallbacks, messages),
            intents=intents,
            low_confidence_count=low_count,
            low_confidence=low,
            **handoffs,
        )
