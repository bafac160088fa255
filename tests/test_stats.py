"""Service figures (bot/stats/) over a known set of tickets, handoff sessions and Rasa conversation
events, on SQLite and PostgreSQL: every number is checked exactly, and the filters and empty data.

The tickets are made by the real services (filing, assignment, deadline watch, resolution, survey,
escalation), so the history the figures read is written exactly as in production; handoff sessions
and Rasa's events are written as rows. Times below are Beijing time; the period is 20–21 November.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from bot.categories import Category
from bot.errors import Forbidden, InvalidInput
from bot.lifecycle import DeadlineWatch, Escalations, Feedback
from bot.severity import Severity
from bot.staff import Role, StaffMember, StaffService
from bot.stats import CONVERSATION_GAP, Period, Rate, ServiceFigures, Spread, csv_rows, to_json
from bot.storage import conversations
from bot.storage.conversations import ConversationLog
from bot.storage.models import HandoffSessionRow, TicketRow
from bot.ticket_numbers import BEIJING
from bot.tickets import Customer, Status, TicketService, assign_row

BOSS = StaffMember("boss", "赵主管", Role.SUPERVISOR, True)
WANG = StaffMember("wang", "小王", Role.AGENT, True)
PERIOD = Period(date(2026, 11, 20), date(2026, 11, 21))

A = Customer("rest", "alice")
B = Customer("webchat", "b-web")
C = Customer("telegram", "777")
D = Customer("rest", "dora")
E = Customer("webchat", "eve")
F = Customer("rest", "fred")
G = Customer("telegram", "888")
H = Customer("rest", "hank")


def bj(day: int, hour: int, minute: int = 0, second: float = 0) -> datetime:
    """A moment in November 2026, Beijing time, as aware UTC."""
    whole = int(second)
    local = datetime(2026, 11, day, hour, minute, whole, int(round((second - whole) * 1e6)), tzinfo=BEIJING)
    return local.astimezone(timezone.utc)


class Story:
    """Builds the data set; `at` moves the settable clock."""

    def __init__(self, db, clock) -> None:
        self.db, self.clock = db, clock
        self.tickets = TicketService(db, clock)
        self.watch = DeadlineWatch(db, clock)
        self.feedback = Feedback(db, clock)
        self.escalations = Escalations(db, clock)
        self.numbers = {}

    def at(self, moment: datetime) -> "Story":
        self.clock.now = moment
        return self

    def file(self, name: str, customer: Customer, category: Category, moment: datetime, text: str, area=None) -> str:
        ticket = self.at(moment).tickets.open_complaint(customer, category, text, None)[0]
        if area:
            with self.db.transaction() as session:
                session.execute(sa.update(TicketRow).where(TicketRow.number == ticket.number).values(area=area))
        self.numbers[name] = ticket.number
        return ticket.number

    def assign(self, name: str, person: str, moment: datetime) -> None:
        self.at(moment).tickets.assign(self.numbers[name], person, person)

    def resolve(self, name: str, person: str, moment: datetime) -> None:
        self.at(moment).tickets.transition(self.numbers[name], Status.RESOLVED, person, "已处理")

    def rate(self, customer: Customer, answer: str, moment: datetime) -> None:
        assert self.at(moment).feedback.answer(customer, answer)

    def transfer(self, name: str, to: str, moment: datetime) -> None:
        self.at(moment)
        with self.db.transaction() as session:
            row = session.execute(sa.select(TicketRow).where(TicketRow.number == self.numbers[name])).scalar_one()
            assign_row(row, to, "wang", self.clock(), "客户要求转交", kind="transferred")

    def scan(self, moment: datetime) -> None:
        self.at(moment).watch.scan()


def build_tickets(db, clock) -> Story:
    s = Story(db, clock)
    s.file("T0", A, Category.NETWORK, bj(19, 23, 59, 59), "家里宽带网速特别慢")  # the day before the period
    s.file("T1", A, Category.NETWORK, bj(20, 0, 0), "宽带网速还是特别慢", area="朝阳区")  # a repeat of T0
    s.file("T2", B, Category.BILLING, bj(20, 10), "这个月话费多扣了二十元")
    s.assign("T2", "wang", bj(20, 11))
    s.resolve("T2", "wang", bj(20, 12))
    s.rate(B, "5分", bj(20, 13))
    s.file("T3", C, Category.BUSINESS, bj(20, 15), "套餐变更一直没有生效", area="海淀区")
    s.scan(bj(21, 15, 30))  # T0, T1, T3: first response missed
    s.assign("T3", "li", bj(21, 16))  # 25 h: late
    s.file("T4", D, Category.OTHER, bj(21, 9), "营业厅工作人员服务态度差")
    s.assign("T4", "wang", bj(21, 9, 10))
    s.resolve("T4", "wang", bj(21, 10))
    s.rate(D, "5分", bj(21, 11))
    s.file("T5", D, Category.OTHER, bj(21, 12), "营业厅工作人员态度还是很差")  # a repeat of T4
    s.file("T6", E, Category.NETWORK, bj(21, 20), "手机信号时有时无")
    s.assign("T6", "wang", bj(21, 20, 5))
    s.transfer("T6", "li", bj(21, 21))
    s.file("T7", F, Category.BILLING, bj(21, 22), "流量包扣费和宣传的不一样")
    s.assign("T7", "li", bj(21, 22, 30))
    s.resolve("T7", "li", bj(21, 23))
    s.rate(F, "没解决", bj(21, 23, 30))  # reopened to li
    s.file("T8", G, Category.NETWORK, bj(21, 23), "小区里手机信号很弱")
    s.assign("T8", "wang", bj(21, 23, 10))
    escalation = s.at(bj(21, 23, 15)).escalations.request(s.numbers["T8"], "agent", "wang", "客户情绪激动")[0]
    s.at(bj(21, 23, 20)).escalations.accept(BOSS, escalation.id, "boss", "同意升级")
    s.file("T9", H, Category.NETWORK, bj(21, 23, 59), "宽带晚上经常掉线", area="朝阳区")
    s.file("T10", G, Category.OTHER, bj(22, 0, 0), "光猫指示灯一直闪")  # the day after
    s.resolve("T6", "li", bj(22, 10))
    s.scan(bj(22, 15, 30))  # T0, T1, T3: resolution missed; T5: first response missed
    s.resolve("T3", "li", bj(22, 16))  # late
    s.rate(C, "2分", bj(22, 16, 30))  # reopened: a fresh deadline, the missed one still counts
    s.resolve("T8", "wang", bj(22, 20))
    s.at(bj(22, 22))  # now
    return s


def add_sessions(db) -> None:
    rows = [
        # channel, user, status, requested, accepted, owner
        ("rest", "alice", "closed", bj(20, 0, 0, 30), bj(20, 0, 5, 30), "wang"),  # in a conversation begun the day before
        ("webchat", "b-web", "released", bj(20, 10, 0, 20), bj(20, 10, 0, 20), "wang"),  # routed: no wait
        ("telegram", "777", "closed", bj(21, 8), bj(21, 9), "li"),
        ("rest", "dora", "cancelled", bj(21, 12, 0, 30), None, None),
        ("webchat", "eve", "waiting", bj(21, 20, 30), None, None),
        ("telegram", "888", "callback", bj(21, 23, 5), None, None),
        ("rest", "fred", "closed", bj(19, 23), bj(19, 23, 10), "li"),  # before the period
        ("rest", "fred", "closed", bj(22, 0, 10), bj(22, 0, 20), "li"),  # after it, in a conversation begun after it
        ("webchat", "zed", "closed", bj(22, 0, 0, 1), bj(22, 0, 1), "li"),  # after it, in a conversation begun in it
    ]
    with db.transaction() as session:
        for channel, user, status, requested, accepted, owner in rows:
            session.add(
                HandoffSessionRow(
                    channel=channel, channel_user_id=user, status=status, reason="客户请求人工服务",
                    severity=Severity.GENERAL.value, requested_at=requested, due=requested + timedelta(hours=24),
                    accepted_at=accepted, owner=owner, agent=owner, updated_at=requested,
                )
            )


# sender, channel, moment, intent, confidence, text
MESSAGES = [
    ("alice", "rest", bj(19, 22), "greet", 0.5, "你好"),
    ("alice", "rest", bj(19, 23, 30), "complain_network", 0.9, "网速慢"),
    ("alice", "rest", bj(20, 0, 0, 10), "complain_network", 0.9, "宽带网速还是特别慢"),  # continues (30 min)
    ("alice", "rest", bj(20, 3), "consult", 0.5, "宽带套餐有哪些"),
    ("b-web", "webchat", bj(20, 10), "complain_billing", 0.97, "这个月话费多扣了二十元"),
    ("b-web", "webchat", bj(20, 11, 59), "check_ticket_status", 0.85, "我的工单处理到哪了"),  # 119 min: same
    ("b-web", "webchat", bj(20, 14), "nlu_fallback", 0.4, "我的手机号13812345678怎么办"),  # 121 min: new
    ("yan", "rest", bj(20, 16), "consult", 0.99, "怎么查话费余额"),
    ("777", "telegram", bj(21, 7, 59), "escalate", 1.0, "转人工"),
    ("dora", "rest", bj(21, 9), "complain_other", 0.55, "营业厅工作人员服务态度差"),
    ("dora", "rest", bj(21, 12, 0, 10), "complain_other", 0.92, "营业厅工作人员态度还是很差"),
    ("eve", "webchat", bj(21, 20, 29), "escalate", 0.99, "我要找人工客服"),
    ("fred", "rest", bj(19, 22, 59), "escalate", 0.99, "转人工"),
    ("fred", "rest", bj(21, 22), "complain_billing", 0.9, "流量包扣费和宣传的不一样"),
    ("888", "telegram", bj(21, 23), "complain_network", 0.8, "小区里手机信号很弱"),
    ("888", "telegram", bj(21, 23, 59, 59), "greet", 0.45, "在吗"),
    ("zed", "webchat", bj(21, 23, 59, 59.5), "greet", 0.99, "你好"),
    ("zed", "webchat", bj(22, 0, 0, 0), "greet", 0.99, "有人吗"),  # the next day: not counted
    ("fred", "rest", bj(22, 0, 5), "escalate", 0.99, "转人工"),  # 2 h 5 min after: a new conversation
]


def rasa_event(channel, moment, intent, confidence, text) -> str:
    """A user event as Rasa's SQL tracker store writes it (UserUttered.as_dict())."""
    ranking = [{"name": intent, "confidence": confidence}]
    if intent == "nlu_fallback":
        ranking += [{"name": "consult", "confidence": 0.35}, {"name": "complain_other", "confidence": 0.2}]
    return json.dumps(
        {
            "event": "user", "timestamp": moment.timestamp(), "metadata": {}, "text": text,
            "parse_data": {
                "intent": {"name": intent, "confidence": confidence}, "entities": [], "text": text,
                "message_id": "m", "metadata": {}, "intent_ranking": ranking,
            },
            "input_channel": channel, "message_id": "m",
        },
        ensure_ascii=False,
    )


def add_events(log: ConversationLog) -> None:
    conversations.metadata.create_all(log.engine)
    events = conversations.events
    with log.engine.begin() as connection:
        for sender, channel, moment, intent, confidence, text in MESSAGES:
            connection.execute(
                events.insert().values(
                    sender_id=sender, type_name="user", timestamp=moment.timestamp(), intent_name=intent,
                    data=rasa_event(channel, moment, intent, confidence, text),
                )
            )
            # what Rasa writes around a message: never counted
            for type_name, action in (("action", "action_listen"), ("bot", None)):
                connection.execute(
                    events.insert().values(
                        sender_id=sender, type_name=type_name, timestamp=moment.timestamp() + 1, action_name=action,
                        data=json.dumps({"event": type_name, "text": "您好", "timestamp": moment.timestamp() + 1}),
                    )
                )


@pytest.fixture
def world(db, clock):
    staff = StaffService(db, clock)
    staff.add("wang", "小王", "wang-pass-1")
    staff.add("li", "小李", "li-pass-12")
    staff.add("boss", "赵主管", "boss-pass-1", Role.SUPERVISOR)
    staff.add("zhao", "老赵", "zhao-pass-1")
    staff.deactivate("zhao")
    story = build_tickets(db, clock)
    add_sessions(db)
    log = ConversationLog(db.url)
    add_events(log)
    yield story, ServiceFigures(db, log, clock)
    log.dispose()


def test_every_figure_of_a_known_period(world):
    story, service = world
    with story.db.transaction() as session:  # the set-up went as intended
        severity = dict(session.execute(sa.select(TicketRow.number, TicketRow.severity)).all())
    assert [severity[story.numbers[n]] for n in ("T1", "T5", "T8")] == ["major"] * 3
    assert {severity[story.numbers[n]] for n in ("T2", "T3", "T4", "T6", "T7", "T9")} == {"general"}

    f = service.compute(BOSS, PERIOD)
    assert f.generated_at == bj(22, 22) + timedelta(microseconds=1)

    t = f.tickets
    assert t.filed == 9
    assert t.by_category == {"network": 4, "billing": 2, "business": 1, "other": 2}
    assert t.by_severity == {"general": 6, "major": 3, "urgent": 0}
    assert [(d.day, d.total, d.by_category) for d in t.by_day] == [
        (date(2026, 11, 20), 3, {"network": 1, "billing": 1, "business": 1, "other": 0}),
        (date(2026, 11, 21), 6, {"network": 3, "billing": 1, "business": 0, "other": 2}),
    ]
    assert t.areas == [("朝阳区", 2), ("海淀区", 1)]
    assert (t.open, t.overdue) == (5, 2)  # T1 T3 T5 T7 T9 open; T1 and T5 overdue
    assert (t.backlog_open, t.backlog_overdue) == (7, 3)  # plus T0 (overdue) and T10

    d = f.deadlines
    assert d.response_on_time == Rate(5, 8)  # late: T1 T5 (never), T3 (25 h); T9 not yet due
    assert d.resolution_on_time == Rate(5, 7)  # late: T1 (open past due), T3 (breached); T5 T9 not yet due
    assert d.first_response == Spread(6, 600, 90000)  # 300 600 600 1800 3600 90000
    assert [(b.label, b.count) for b in d.first_response_buckets] == [
        ("15分钟内", 3), ("15分钟–1小时", 1), ("1–4小时", 1), ("4–24小时", 0), ("24–48小时", 1), ("48小时以上", 0),
    ]
    assert d.not_responded == 3

    s = f.satisfaction
    assert s.surveyed == 6
    assert s.rated == Rate(4, 6)
    assert s.average == 3.25  # 5 2 5 1 (没解决)
    assert s.satisfied == Rate(2, 4)
    assert s.scores == {1: 1, 2: 1, 3: 0, 4: 0, 5: 2}
    assert s.repeat == Rate(2, 9)  # T1 T5
    # resolved: T2 T3 T4 T6 T7 T8; T3 T7 reopened, T4 repeated, T6 transferred, T8 escalated
    assert s.first_contact_resolution == Rate(1, 6)

    b = f.bot
    assert b.available
    assert b.conversations == 11
    assert b.containment == Rate(5, 11) and b.handoff == Rate(6, 11)  # zed handed off just after midnight
    assert (b.handoff_requested, b.handoff_accepted, b.handoff_cancelled, b.handoff_waiting) == (6, 3, 1, 2)
    assert b.queue_wait == Spread(3, 300, 3600)  # 0 300 3600
    assert b.messages == 14
    assert b.fallback == Rate(1, 14)
    assert b.intents == [
        ("complain_billing", 2), ("complain_network", 2), ("complain_other", 2), ("consult", 2), ("escalate", 2),
        ("greet", 2), ("check_ticket_status", 1), ("nlu_fallback", 1),
    ]
    assert b.low_confidence_count == 4
    assert [(m.at, m.channel, m.text, m.intent, m.confidence, m.guess, m.guess_confidence) for m in b.low_confidence] == [
        (bj(21, 23, 59, 59), "telegram", "在吗", "greet", 0.45, "greet", 0.45),
        (bj(21, 9), "rest", "营业厅工作人员服务态度差", "complain_other", 0.55, "complain_other", 0.55),
        (bj(20, 14), "webchat", "我的手机号138****5678怎么办", "nlu_fallback", 0.4, "consult", 0.35),
        (bj(20, 3), "rest", "宽带套餐有哪些", "consult", 0.5, "consult", 0.5),
    ]

    agents = [(a.username, a.display_name, a.role, a.sessions, a.tickets) for a in f.agents]
    assert agents == [("wang", "小王", "agent", 2, 3), ("li", "小李", "agent", 1, 3), ("boss", "赵主管", "supervisor", 0, 0)]
    wang, li, boss = f.agents
    assert (wang.response_on_time, wang.resolution_on_time) == (Rate(3, 3), Rate(3, 3))
    assert (wang.rated, wang.average_rating, wang.satisfied) == (2, 5.0, Rate(2, 2))
    assert (li.response_on_time, li.resolution_on_time) == (Rate(2, 3), Rate(2, 3))
    assert (li.rated, li.average_rating, li.satisfied) == (2, 1.5, Rate(0, 2))
    assert (boss.response_on_time, boss.rated, boss.average_rating) == (Rate(0, 0), 0, None)


def test_the_channel_filter_applies_to_tickets_sessions_and_messages(world):
    _, service = world
    f = service.compute(BOSS, Period(PERIOD.first, PERIOD.last, "rest"))
    assert f.tickets.filed == 5
    assert f.tickets.by_category == {"network": 2, "billing": 1, "business": 0, "other": 2}
    assert (f.tickets.open, f.tickets.overdue, f.tickets.backlog_open, f.tickets.backlog_overdue) == (4, 2, 5, 3)
    assert f.deadlines.response_on_time == Rate(2, 4)  # T4 T7 on time; T1 T5 never
    assert f.satisfaction.repeat == Rate(2, 5)
    assert (f.bot.conversations, f.bot.containment, f.bot.messages) == (5, Rate(4, 5), 6)
    assert (f.bot.handoff_requested, f.bot.handoff_accepted, f.bot.queue_wait) == (2, 1, Spread(1, 300, 300))
    assert {m.channel for m in f.bot.low_confidence} == {"rest"}
    assert [(a.username, a.sessions, a.tickets) for a in f.agents] == [("wang", 1, 1), ("li", 0, 1), ("boss", 0, 0)]

    telegram = service.compute(BOSS, Period(PERIOD.first, PERIOD.last, "telegram"))
    assert (telegram.tickets.filed, telegram.bot.conversations, telegram.bot.handoff) == (2, 2, Rate(2, 2))


def test_days_are_beijing_days_with_both_ends_included(world):
    _, service = world
    first_day = service.compute(BOSS, Period(date(2026, 11, 20), date(2026, 11, 20)))
    assert first_day.tickets.filed == 3 and [d.day for d in first_day.tickets.by_day] == [date(2026, 11, 20)]
    # alice's message at 00:00:10 continues a conversation begun the evening before: not counted
    assert first_day.bot.conversations == 4 and first_day.bot.messages == 6
    last_day = service.compute(BOSS, Period(date(2026, 11, 21), date(2026, 11, 21)))
    assert last_day.tickets.filed == 6 and last_day.bot.conversations == 7 and last_day.bot.messages == 8
    day_after = service.compute(BOSS, Period(date(2026, 11, 22), date(2026, 11, 22)))
    assert day_after.tickets.filed == 1 and day_after.bot.conversations == 1  # T10; fred at 00:05 (zed continues)


def test_empty_periods_and_a_missing_conversation_log(db, clock, tmp_path):
    clock.now = bj(22, 22)
    empty = ServiceFigures(db, ConversationLog(f"sqlite:///{tmp_path / 'no-tracker.db'}"), clock).compute(BOSS, PERIOD)
    assert empty.tickets.filed == 0 and empty.tickets.by_category == {"network": 0, "billing": 0, "business": 0, "other": 0}
    assert [d.total for d in empty.tickets.by_day] == [0, 0]
    assert empty.deadlines.response_on_time == Rate(0, 0) and empty.deadlines.response_on_time.share is None
    assert empty.deadlines.first_response == Spread(0, None, None)
    assert empty.satisfaction.average is None and empty.satisfaction.first_contact_resolution.share is None
    assert not empty.bot.available and empty.bot.conversations == 0 and empty.bot.queue_wait == Spread(0, None, None)
    assert empty.agents == []
    assert not ServiceFigures(db, None, clock).compute(BOSS, PERIOD).bot.available
    log = ConversationLog(db.url)
    conversations.metadata.create_all(log.engine)  # Rasa created the table, nobody has written yet
    bot = ServiceFigures(db, log, clock).compute(BOSS, PERIOD).bot
    assert bot.available and (bot.conversations, bot.messages, bot.intents, bot.low_confidence) == (0, 0, [], [])
    log.dispose()
    json.dumps(to_json(empty))  # serialisable as it is


def test_only_supervisors_see_the_figures(db, clock):
    with pytest.raises(Forbidden):
        ServiceFigures(db, None, clock).compute(WANG, PERIOD)


def test_csv_rows_carry_the_same_numbers(world):
    _, service = world
    f = service.compute(BOSS, PERIOD)
    rows = {(section, metric, key): value for section, metric, key, value, _ in csv_rows(f)}
    assert rows[("tickets", "filed", "")] == "9"
    assert rows[("tickets", "by_day", "2026-11-21:network")] == "3"
    assert rows[("deadlines", "response_on_time", "share")] == "0.625"
    assert rows[("satisfaction", "average", "")] == "3.25"
    assert rows[("bot", "containment", "count")] == "5" and rows[("bot", "containment", "total")] == "11"
    assert rows[("bot", "intents", "nlu_fallback")] == "1"
    assert rows[("agents", "display_name", "li")] == "小李"
    assert rows[("agents", "response_on_time", "li:share")] == "0.6667"
    assert rows[("satisfaction", "first_contact_resolution", "share")] == "0.1667"
    assert all(len(row) == 5 for row in csv_rows(f))
    data = to_json(f)
    assert data["period"] == {"from": "2026-11-20", "to": "2026-11-21", "channel": None}
    assert data["deadlines"]["response_on_time"] == {"count": 5, "total": 8, "share": 0.625}
    assert data["bot"]["low_confidence"][2]["text"] == "我的手机号138****5678怎么办"


@pytest.mark.parametrize(
    "first, last, channel, message",
    [
        ("2026-11-21", "2026-11-20", None, "开始日期不能晚于结束日期"),
        ("2025-11-20", "2026-11-21", None, "统计区间最长366天"),
        ("2026/11/20", None, None, "开始日期格式应为 YYYY-MM-DD"),
        ("2026-02-30", None, None, "开始日期格式"),
        (None, "20261121", None, "结束日期格式"),
        (None, None, "Web Chat", "渠道名称无效"),
    ],
)
def test_bad_periods_are_refused_with_a_clear_message(first, last, channel, message):
    with pytest.raises(InvalidInput, match=message):
        Period.parse(first, last, channel, bj(22, 22))


def test_period_defaults_and_bounds():
    assert Period.parse(None, None, None, bj(22, 0, 30)) == Period(date(2026, 11, 16), date(2026, 11, 22))
    assert Period.parse("2025-11-21", "2026-11-21", "rest", bj(22, 22)).channel == "rest"  # 366 days
    assert PERIOD.start == datetime(2026, 11, 19, 16, 0, tzinfo=timezone.utc)
    assert PERIOD.end == datetime(2026, 11, 21, 16, 0, tzinfo=timezone.utc)
    assert CONVERSATION_GAP == timedelta(minutes=120)
