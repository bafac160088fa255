"""Service figures for supervisors (服务指标): what every number on the dashboard and in its CSV
means, the constants that shape them, and the frozen results (`Figures` and its parts). They are
computed by `compute.py` (from the ticket store) and `rasa_log.py` (from Rasa's conversation log),
and written out by `export.py`.

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

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Dict, List, Optional, Tuple

from bot.clock import BEIJING, utcnow
from bot.errors import InvalidInput

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
        today = (now or utcnow()).astimezone(BEIJING).date()
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
