"""Service figures for supervisors (服务指标): every number on the dashboard and in its CSV, computed
from the ticket store and Rasa's conversation log by this one module.

A `Period` is a range of whole days in Beijing time (UTC+8), both ends included, at most 366 days,
optionally narrowed to one channel (``webchat``, ``telegram``, ``rest``, ...). The channel filter
applies to everything: tickets (``tickets.channel``), handoff sessions (``handoff_sessions.channel``)
and customer messages (the user event's ``input_channel``).

Definitions
-----------
Tickets (the period's *cohort*: tickets filed, ``created_at``, within the period; every ticket figure
below is over this cohort, so a past period's figures settle as its tickets are handled):

* **filed** — count; **by category**, **by severity**, **by day** (Beijing date of filing, each day of
  the period listed, split by category), **areas** (the ten areas named most often, where known).
* **open** — of the cohort, tickets open now (new, assigned, in progress, reopened); **overdue** —
  of those, past their first-response deadline without a response or past their resolution deadline.
  **backlog open / backlog overdue** — the same for every open ticket of the channel, whenever filed.
* **response on time** — of the cohort tickets whose first response is decided (responded, or not
  responded and the deadline passed): responded (``responded_at``, an agent took it up) no later than
  ``response_due``. Tickets not yet responded and still within their deadline are left out.
* **resolution on time** — of the cohort tickets whose resolution is decided (resolved at least once,
  or open past ``resolve_due``): resolved without any resolution deadline missed — no resolution
  breach ever recorded (by the deadline watch), not resolved after its deadline, not open past it.
* **first response time** — ``responded_at − created_at`` of the responded cohort tickets: a histogram
  (`RESPONSE_BUCKETS`), median and 90th percentile.

Satisfaction (the latest score a customer gave, 1–5; "没解决" counts as 1):

* **surveyed** — cohort tickets sent the survey; **rated** — of those, answered; **average**;
  **satisfied** (4–5) share of the rated; the distribution of scores.
* NPS is *not* computed: the survey asks for a 1–5 score, not the 0–10 "would you recommend us"
  question NPS is defined on, and a score mapped from 1–5 would not be comparable with real NPS.
* **repeat complaints** — cohort tickets that are repeats (same customer, same category within 30
  days of an earlier complaint: ``repeat_of``), of all cohort tickets.
* **first-contact resolution (一次解决率)** — of the cohort tickets resolved at least once: never
  reopened, never transferred or reassigned to another responsible person nor escalated (an
  accepted escalation; a declined request does not count), and not followed by a repeat complaint
  (a later ticket naming it in ``repeat_of``, i.e. within 30 days).

The bot (from Rasa's conversation log; ``available`` is false when there is none yet):

* **conversation** — a customer's run of messages to the bot with gaps under two hours (Rasa's
  ``session_expiration_time`` of 120 minutes), counted on the day of its first message. Messages a
  customer writes while with an agent go to the agent, not to the bot, and are not in the log.
* **containment** — share of conversations with no handoff session requested during them (the bot
  finished them alone); **handoff rate** — share with one (so the two add up to 1). A handoff
  belongs to the customer's latest conversation started before it (up to a day after the period).
* **handoff sessions** — requested within the period: accepted by an agent, cancelled by the
  customer, still waiting (or waiting for a call-back); **queue wait** — ``accepted_at −
  requested_at`` of the accepted ones (0 when routed straight to the responsible agent), median and
  90th percentile.
* **messages**, **fallback rate** (top intent ``nlu_fallback`` — below the FallbackClassifier's 0.4
  or ambiguous), **intents** (count per top intent).
* **low confidence** — messages whose top intent confidence is below `LOW_CONFIDENCE` (every fallback
  included): their count and the newest `LOW_CONFIDENCE_LIMIT`, text masked (phone and ID numbers),
  with the model's best guess other than the fallback, for improving the training data.

Per agent (every account, and anyone named responsible): **sessions** — handoff sessions requested
in the period whose responsible person (owner) is the agent; **tickets** — cohort tickets the agent
is responsible for; their response and resolution on time and satisfaction, as above.

Percentiles are nearest-rank (the smallest value with at least p % of the values at or below it).
Rates are kept as count and total (`Rate`); the share is None when the total is 0.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field, fields, is_dataclass
from types import SimpleNamespace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from bot.categories import Category
from bot.errors import Forbidden, InvalidInput
from bot.severity import Severity
from bot.staff import StaffMember
from bot.storage import conversations
from bot.storage.conversations import ConversationLog
from bot.storage.database import Database
from bot.storage.models import AgentRow, HandoffSessionRow, TicketEventRow, TicketRow, UTCDateTime
from bot.text import mask_personal_data
from bot.ticket_numbers import BEIJING
from bot.tickets import OPEN_STATUSES, Status

MAX_DAYS = 366
DEFAULT_DAYS = 7
CONVERSATION_GAP = timedelta(minutes=120)  # Rasa's session_expiration_time (bot/dialogue/domain/main.yml)
HANDOFF_HORIZON = timedelta(days=1)
FALLBACK_INTENT = "nlu_fallback"
LOW_CONFIDENCE = 0.6
LOW_CONFIDENCE_LIMIT = 50
TOP_AREAS = 10
# First-response histogram: (upper bound in seconds, label); the last bucket is open-ended.
RESPONSE_BUCKETS: Tuple[Tuple[Optional[int], str], ...] = (
    (15 * 60, "15分钟内"),
    (3600, "15分钟–1小时"),
    (4 * 3600, "1–4小时"),
    (24 * 3600, "4–24小时"),
    (48 * 3600, "24–48小时"),
    (None, "48小时以上"),
)
_CHANNEL = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_OPEN = [s.value for s in OPEN_STATUSES]
_NO_HISTORY = SimpleNamespace(resolved_at=None, reopened=0, moved=0, resolve_breached=0)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


# -- the period -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    channel: Optional[str] = None

    @property
    def start(self) -> datetime:
        """First instant of the period (UTC)."""
        return datetime.combine(self.first, time(0), BEIJING).astimezone(timezone.utc)

    @property
    def end(self) -> datetime:
        """First instant after the period (UTC)."""
        return datetime.combine(self.last + timedelta(days=1), time(0), BEIJING).astimezone(timezone.utc)

    def days(self) -> List[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    @classmethod
    def parse(
        cls, first: Optional[str], last: Optional[str], channel: Optional[str], now: Optional[datetime] = None
    ) -> "Period":
        """From query parameters (YYYY-MM-DD, Beijing days); by default the last 7 days up to today."""
        today = (now or _utcnow()).astimezone(BEIJING).date()
        end = _date(last, "结束日期") if last else today
        begin = _date(first, "开始日期") if first else end - timedelta(days=DEFAULT_DAYS - 1)
        if begin > end:
            raise InvalidInput("开始日期不能晚于结束日期")
        if (end - begin).days + 1 > MAX_DAYS:
            raise InvalidInput(f"统计区间最长{MAX_DAYS}天，请缩短日期范围")
        channel = (channel or "").strip() or None
        if channel is not None and not _CHANNEL.match(channel):
            raise InvalidInput("渠道名称无效")
        return cls(begin, end, channel)


def _date(text: str, what: str) -> date:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            raise ValueError(text)
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{what}格式应为 YYYY-MM-DD，例如 2026-11-01") from None


# -- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    count: int
    total: int

    @property
    def share(self) -> Optional[float]:
        return self.count / self.total if self.total else None


@dataclass(frozen=True)
class Spread:
    """Durations in seconds: how many, median and 90th percentile (None when there are none)."""

    count: int
    p50: Optional[float]
    p90: Optional[float]


@dataclass(frozen=True)
class Day:
    day: date
    total: int
    by_category: Dict[str, int]


@dataclass(frozen=True)
class Bucket:
    label: str
    upper_seconds: Optional[int]
    count: int


@dataclass(frozen=True)
class TicketFigures:
    filed: int
    by_category: Dict[str, int]
    by_severity: Dict[str, int]
    by_day: List[Day]
    areas: List[Tuple[str, int]]
    open: int
    overdue: int
    backlog_open: int
    backlog_overdue: int


@dataclass(frozen=True)
class DeadlineFigures:
    response_on_time: Rate
    resolution_on_time: Rate
    first_response: Spread
    first_response_buckets: List[Bucket]
    not_responded: int


@dataclass(frozen=True)
class SatisfactionFigures:
    surveyed: int
    rated: Rate  # answered of surveyed
    average: Optional[float]
    satisfied: Rate  # 4–5 of rated
    scores: Dict[int, int]
    repeat: Rate  # repeats of filed
    first_contact_resolution: Rate  # of resolved


@dataclass(frozen=True)
class LowConfidence:
    at: datetime
    channel: Optional[str]
    text: str  # masked
    intent: Optional[str]
    confidence: float
    guess: Optional[str]  # best intent other than the fallback
    guess_confidence: Optional[float]


@dataclass(frozen=True)
class BotFigures:
    available: bool
    conversations: int
    containment: Rate
    handoff: Rate
    handoff_requested: int
    handoff_accepted: int
    handoff_cancelled: int
    handoff_waiting: int
    queue_wait: Spread
    messages: int
    fallback: Rate
    intents: List[Tuple[str, int]]
    low_confidence_count: int
    low_confidence: List[LowConfidence]


@dataclass(frozen=True)
class AgentFigures:
    username: str
    display_name: str
    role: str
    active: bool
    sessions: int
    tickets: int
    response_on_time: Rate
    resolution_on_time: Rate
    rated: int
    average_rating: Optional[float]
    satisfied: Rate


@dataclass(frozen=True)
class Figures:
    period: Period
    generated_at: datetime
    tickets: TicketFigures
    deadlines: DeadlineFigures
    satisfaction: SatisfactionFigures
    bot: BotFigures
    agents: List[AgentFigures]


def to_json(value: Any) -> Any:
    """Plain JSON types: dates as ISO strings, rates as {count, total, share}."""
    if isinstance(value, Rate):
        return {"count": value.count, "total": value.total, "share": value.share}
    if isinstance(value, Period):
        return {"from": value.first.isoformat(), "to": value.last.isoformat(), "channel": value.channel}
    if is_dataclass(value):
        return {f.name: to_json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


# -- the computation --------------------------------------------------------------------------


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
        self, db: Database, log: Optional[ConversationLog] = None, clock: Callable[[], datetime] = _utcnow
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
            starts = self._conversation_starts(connection, period)
            intents, low_count, low = self._messages(connection, period)
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

    @staticmethod
    def _user_events(connection, start: float, end: float, channel: Optional[str]):
        events = conversations.events
        data = _json(connection.dialect.name, events.c.data)
        input_channel = data["input_channel"].as_string()
        conditions = [events.c.type_name == "user", events.c.timestamp >= start, events.c.timestamp < end]
        if channel:
            conditions.append(input_channel == channel)
        return events, data, input_channel, conditions

    def _conversation_starts(self, connection, period: Period) -> List[Tuple[Tuple[str, str], float]]:
        """((channel, sender), first message time) of every conversation that starts from the period's
        start to a day after its end; the window reaches back one gap to see what continues."""
        events, _, _, conditions = self._user_events(
            connection,
            (period.start - CONVERSATION_GAP).timestamp(),
            (period.end + HANDOFF_HORIZON).timestamp(),
            period.channel,
        )
        previous = sa.func.lag(events.c.timestamp).over(
            partition_by=events.c.sender_id, order_by=(events.c.timestamp, events.c.id)
        )
        runs = (
            sa.select(events.c.id, events.c.sender_id, events.c.timestamp.label("at"), previous.label("previous"))
            .where(*conditions)
            .subquery()
        )
        # The channel is read from the JSON of the first messages only.
        first = events.alias("first")
        channel = _json(connection.dialect.name, first.c.data)["input_channel"].as_string()
        gap = CONVERSATION_GAP.total_seconds()
        rows = connection.execute(
            sa.select(channel.label("channel"), runs.c.sender_id, runs.c.at)
            .select_from(runs.join(first, first.c.id == runs.c.id))
            .where(
                runs.c.at >= period.start.timestamp(),
                sa.or_(runs.c.previous.is_(None), runs.c.at - runs.c.previous >= gap),
            )
        ).all()
        return [((row.channel or "", row.sender_id), float(row.at)) for row in rows]

    def _messages(self, connection, period: Period) -> Tuple[List[Tuple[str, int]], int, List[LowConfidence]]:
        events, data, input_channel, conditions = self._user_events(
            connection, period.start.timestamp(), period.end.timestamp(), period.channel
        )
        intent = sa.func.coalesce(events.c.intent_name, "")
        confidence = data[("parse_data", "intent", "confidence")].as_float()
        is_low = confidence < LOW_CONFIDENCE
        counts = connection.execute(
            sa.select(intent, sa.func.count(), sa.func.sum(sa.case((is_low, 1), else_=0)))
            .where(*conditions)
            .group_by(intent)
        ).all()
        rows = connection.execute(
            sa.select(events.c.timestamp, input_channel, events.c.intent_name, confidence, events.c.data)
            .where(*conditions, is_low)
            .order_by(events.c.timestamp.desc(), events.c.id.desc())
            .limit(LOW_CONFIDENCE_LIMIT)
        ).all()
        ordered = sorted(((name or "(无)", count) for name, count, _ in counts), key=lambda item: (-item[1], item[0]))
        low_count = sum(int(low or 0) for _, _, low in counts)
        return ordered, low_count, [_low_confidence(*row) for row in rows]


def _json(dialect: str, column: Any) -> Any:
    """The text column `data` read as JSON (PostgreSQL needs a cast; SQLite's JSON functions take text)."""
    if dialect == "postgresql":
        return sa.cast(column, postgresql.JSON)
    return sa.type_coerce(column, sa.JSON)


def _low_confidence(timestamp: float, channel: Optional[str], intent: Optional[str], confidence: float, raw: str) -> LowConfidence:
    try:
        event = json.loads(raw or "{}")
    except ValueError:
        event = {}
    ranking = (event.get("parse_data") or {}).get("intent_ranking") or []
    guess = next((r for r in ranking if isinstance(r, dict) and r.get("name") not in (None, FALLBACK_INTENT)), {})
    return LowConfidence(
        at=datetime.fromtimestamp(timestamp, timezone.utc),
        channel=channel,
        text=mask_personal_data(str(event.get("text") or "")),
        intent=intent,
        confidence=float(confidence),
        guess=guess.get("name"),
        guess_confidence=guess.get("confidence"),
    )


# -- CSV --------------------------------------------------------------------------------------

CSV_HEADER = ("section", "metric", "key", "value", "说明")

_LABELS = {
    "filed": "受理工单数", "by_category": "按类别", "by_severity": "按严重程度", "by_day": "按日（类别）",
    "areas": "地区热点", "open": "本期工单中未办结", "overdue": "本期工单中已超时", "backlog_open": "当前全部未办结",
    "backlog_overdue": "当前全部已超时", "response_on_time": "首次响应及时率", "resolution_on_time": "处理及时率",
    "first_response": "首次响应时长（秒）", "first_response_buckets": "首次响应时长分布", "not_responded": "尚未响应",
    "surveyed": "已发送满意度调查", "rated": "已评价", "average": "平均满意度（1–5分）", "satisfied": "满意率（4–5分）",
    "scores": "评分分布", "repeat": "重复投诉率", "first_contact_resolution": "一次解决率",
    "conversations": "机器人会话数", "containment": "机器人独立完成率", "handoff": "转人工率",
    "handoff_requested": "转人工请求", "handoff_accepted": "人工已接入", "handoff_cancelled": "客户取消排队",
    "handoff_waiting": "仍在排队/待回电", "queue_wait": "排队等待时长（秒）", "messages": "客户消息数",
    "fallback": "未识别率（nlu_fallback）", "intents": "意图分布", "low_confidence_count": "低置信度消息数",
    "sessions": "负责会话数", "tickets": "负责工单数", "average_rating": "平均满意度",
}


def csv_rows(figures: Figures) -> List[Tuple[str, str, str, str, str]]:
    """One row per figure or series point: (section, metric, key, value, Chinese description).
    Rates give three rows (count, total, share); the low-confidence messages are not figures and stay
    on the dashboard."""
    rows: List[Tuple[str, str, str, str, str]] = []

    def add(section: str, metric: str, key: Any, value: Any, label: str = "") -> None:
        if isinstance(value, float):
            value = f"{value:.4f}".rstrip("0").rstrip(".") if math.isfinite(value) else ""
        rows.append((section, metric, "" if key is None else str(key), "" if value is None else str(value),
                     label or _LABELS.get(metric, metric)))

    def rate(section: str, metric: str, value: Rate, key: str = "") -> None:
        label = _LABELS.get(metric, metric)
        add(section, metric, f"{key}:count" if key else "count", value.count, label)
        add(section, metric, f"{key}:total" if key else "total", value.total, label)
        add(section, metric, f"{key}:share" if key else "share", value.share, label)

    def spread(section: str, metric: str, value: Spread, key: str = "") -> None:
        for part in ("count", "p50", "p90"):
            add(section, metric, f"{key}:{part}" if key else part, getattr(value, part))

    p = figures.period
    add("period", "from", "", p.first.isoformat(), "开始日期（北京时间）")
    add("period", "to", "", p.last.isoformat(), "结束日期（北京时间，含）")
    add("period", "channel", "", p.channel or "all", "渠道")
    add("period", "generated_at", "", figures.generated_at.isoformat(), "生成时间（UTC）")

    t = figures.tickets
    add("tickets", "filed", "", t.filed)
    for key, count in t.by_category.items():
        add("tickets", "by_category", key, count, f"按类别：{Category(key).label}" if key in Category._value2member_map_ else "")
    for key, count in t.by_severity.items():
        add("tickets", "by_severity", key, count)
    for day in t.by_day:
        add("tickets", "by_day", day.day.isoformat(), day.total, "按日合计")
        for key, count in day.by_category.items():
            add("tickets", "by_day", f"{day.day.isoformat()}:{key}", count)
    for area, count in t.areas:
        add("tickets", "areas", area, count)
    for name in ("open", "overdue", "backlog_open", "backlog_overdue"):
        add("tickets", name, "", getattr(t, name))

    d = figures.deadlines
    rate("deadlines", "response_on_time", d.response_on_time)
    rate("deadlines", "resolution_on_time", d.resolution_on_time)
    spread("deadlines", "first_response", d.first_response)
    for bucket in d.first_response_buckets:
        add("deadlines", "first_response_buckets", bucket.label, bucket.count)
    add("deadlines", "not_responded", "", d.not_responded)

    s = figures.satisfaction
    add("satisfaction", "surveyed", "", s.surveyed)
    rate("satisfaction", "rated", s.rated)
    add("satisfaction", "average", "", s.average)
    rate("satisfaction", "satisfied", s.satisfied)
    for score, count in s.scores.items():
        add("satisfaction", "scores", score, count)
    rate("satisfaction", "repeat", s.repeat)
    rate("satisfaction", "first_contact_resolution", s.first_contact_resolution)

    b = figures.bot
    add("bot", "available", "", "yes" if b.available else "no", "对话记录可用")
    add("bot", "conversations", "", b.conversations)
    rate("bot", "containment", b.containment)
    rate("bot", "handoff", b.handoff)
    for name in ("handoff_requested", "handoff_accepted", "handoff_cancelled", "handoff_waiting"):
        add("bot", name, "", getattr(b, name))
    spread("bot", "queue_wait", b.queue_wait)
    add("bot", "messages", "", b.messages)
    rate("bot", "fallback", b.fallback)
    for intent, count in b.intents:
        add("bot", "intents", intent, count)
    add("bot", "low_confidence_count", "", b.low_confidence_count, f"低置信度消息数（置信度<{LOW_CONFIDENCE}）")

    for a in figures.agents:
        key = a.username
        add("agents", "display_name", key, a.display_name, "姓名")
        add("agents", "sessions", key, a.sessions)
        add("agents", "tickets", key, a.tickets)
        rate("agents", "response_on_time", a.response_on_time, key)
        rate("agents", "resolution_on_time", a.resolution_on_time, key)
        add("agents", "rated", key, a.rated, "已评价")
        add("agents", "average_rating", key, a.average_rating)
        rate("agents", "satisfied", a.satisfied, key)
    return rows
