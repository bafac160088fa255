"""An outage storm through the REST channel: the incident opens at the threshold, later customers are
told about the known fault instead of being queued, the supervisor closes it from the console and every
linked customer hears the fault is fixed, gets the result and the survey (and the backend every event)."""

from __future__ import annotations

import random
import re
import time
import uuid

import pytest
import sqlalchemy as sa

from bot.incidents.rules import DEFAULT_RULES, RuleBook
from bot.staff import Role
from bot.storage.database import Database
from bot.storage.models import EscalationRow, HandoffEventRow, HandoffMessageRow, HandoffSessionRow, IncidentRow, TicketRow
from tests.e2e.servers import Stack

pytestmark = pytest.mark.e2e

NUMBER = re.compile(r"TS\d{6}-[0-9A-Z]{8}")
THRESHOLD = RuleBook(DEFAULT_RULES).current().thresholds["area_symptom"]
NAME_CHARS = "锦绣翠湖枫林金桂银杏紫荆丽景华庭盛世康乐怡和"

# How customers of one estate say it; {e} is the estate.
STORM = [
    "{e}小区没信号了",
    "我家住在{e}，手机一点信号都没有",
    "{e}这边手机显示无服务，从早上开始的",
    "我们{e}整栋楼都没信号了",
    "我在{e}3栋，手机没有信号",
    "{e}整个小区手机都没信号，怎么回事",  # urgent (many affected): would go to an agent at once
    "住{e}的，手机突然没信号了",
    "{e}手机信号没了，已经两个小时",
    "我们{e}邻居也都没信号了",  # urgent
    "{e}5号楼手机没有信号了",
    "{e}小区今天手机一直没信号",  # urgent (service interrupted)
    "家在{e}，手机显示无服务",
]
ELSEWHERE = ["{e}宽带断网了，一直连不上", "{e}这边手机没信号", "我家在{e}，网速特别慢"]


def estate_name(suffix: str) -> str:
    return "".join(random.sample(NAME_CHARS, 3)) + suffix


def complain(stack: Stack, sender: str, text: str, phone: str) -> str:
    """A complaint dialogue to its confirmation; the bot's last answer (with the ticket number)."""
    reply = stack.say(sender, text)
    replies = stack.texts(reply)
    if "您是想" in replies:  # a clarifying question: the customer means a network complaint
        [press] = [b["payload"] for m in reply for b in m.get("buttons", []) if "complain_network" in b["payload"]]
        replies = stack.texts(stack.say(sender, press))
    if "描述" in replies:
        replies = stack.texts(stack.say(sender, "从早上开始一直这样，打不了也接不了"))
    assert "手机号" in replies, replies
    replies = stack.texts(stack.say(sender, phone))
    assert "请确认" in replies, replies
    confirmation = stack.texts(stack.say(sender, "确认"))
    assert "登记成功" in confirmation, confirmation
    return confirmation


def until(condition, wait: float = 30.0):
    deadline = time.monotonic() + wait
    while True:
        result = condition()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def test_outage_storm_through_rest(stack, console, backend):
    db = Database(stack.ticket_db)
    supervisor = console.login(console.account("boss", "赵主管", Role.SUPERVISOR))
    agent = console.login(console.account("agent"))
    cursor = stack.api("GET", "/events?after=0&timeout=0", supervisor).json()["cursor"]
    estate, other = estate_name("花园"), estate_name("苑")

    storm = [(f"storm-{uuid.uuid4().hex[:10]}", text.format(e=estate)) for text in STORM]
    others = [(f"other-{uuid.uuid4().hex[:10]}", text.format(e=other)) for text in ELSEWHERE]
    order = storm[:3] + others[:1] + storm[3:7] + others[1:2] + storm[7:] + others[2:]
    answers, filed_at = {}, {}
    started = time.monotonic()
    for sender, text in order:
        answers[sender] = complain(stack, sender, text, f"139{random.randrange(10**8):08d}")
        filed_at[sender] = time.monotonic() - started
    elapsed = time.monotonic() - started

    with db.transaction() as session:
        incidents = session.execute(sa.select(IncidentRow).where(IncidentRow.area.in_([estate, other]))).scalars().all()
        assert len(incidents) == 1, [(i.area, i.symptom) for i in incidents]
        incident = incidents[0]
        assert (incident.area, incident.symptom, incident.status) == (estate, "no_signal", "open")
        tickets = {
            (t.channel_user_id): t
            for t in session.execute(
                sa.select(TicketRow).where(TicketRow.channel_user_id.in_([s for s, _ in order]))
            ).scalars()
        }
        open_sessions = {
            s.channel_user_id
            for s in session.execute(
                sa.select(HandoffSessionRow).where(
                    HandoffSessionRow.channel_user_id.in_([s for s, _ in order]),
                    HandoffSessionRow.status.in_(["waiting", "callback", "active"]),
                )
            ).scalars()
        }
    storm_senders = [s for s, _ in storm]
    # Every storm complaint is linked (area and symptom from the words), none of the others.
    assert all(tickets[s].area == estate and tickets[s].incident_id == incident.id for s in storm_senders)
    assert all(tickets[s].incident_id is None for s, _ in others)
    assert [tickets[s].area for s, _ in others] == [other] * 3
    # It opened with the THRESHOLD-th complaint: from then on customers hear of the known fault, with
    # its number and expected recovery; ordinary complaints are not queued for an agent, urgent ones
    # still reach a person (an incident, forged or mistaken, never hides a customer who cannot wait).
    told = [s for s in storm_senders if "已并入这次故障" in answers[s]]
    assert told == storm_senders[THRESHOLD - 1:], [answers[s] for s in storm_senders]
    urgent_told = [s for s in told if tickets[s].severity == "urgent"]
    assert len(urgent_told) >= 3, [tickets[s].severity for s in told]
    for s in told:
        assert incident.number in answers[s] and "预计" in answers[s] and "前恢复" in answers[s]
        assert tickets[s].number in answers[s]
        assert (s in open_sessions) == (s in urgent_told), (s, tickets[s].severity)
    with db.transaction() as session:
        escalated = session.execute(
            sa.select(EscalationRow.ticket_id).where(EscalationRow.ticket_id.in_([tickets[s].id for s in told]))
        ).scalars().all()
    assert escalated == []
    assert not any("已并入" in answers[s] for s, _ in others)

    # Supervisors were told through the change feed; the console lists it, open first, with the count.
    # (A console that found the feed empty at start-up waits on cursor 0 and gets the first change.)
    if cursor:
        feed = stack.api("GET", f"/events?after={cursor}&timeout=0", supervisor).json()["events"]
        assert "incident_opened" in [e["kind"] for e in feed]
    with db.transaction() as session:
        opened_feed = session.execute(
            sa.select(HandoffEventRow.detail).where(HandoffEventRow.kind == "incident_opened")
        ).scalars().all()
    assert f"{incident.number} {THRESHOLD}" in opened_feed
    assert stack.api("GET", "/incidents", agent).status_code == 403
    listed = stack.api("GET", "/incidents", supervisor).json()["incidents"]
    mine = [i for i in listed if i["number"] == incident.number][0]
    assert mine["status"] == "open" and mine["linked"] == len(storm) and mine["customers"] == len(storm)
    assert listed.index(mine) < len([i for i in listed if i["status"] == "open"])
    detail = stack.api("GET", f"/incidents/{incident.number}", supervisor).json()["incident"]
    assert {t["number"] for t in detail["tickets"]} == {tickets[s].number for s in storm_senders}

    # The backend learnt each link.
    linked_numbers = {tickets[s].number for s in storm_senders}
    assert until(
        lambda: linked_numbers
        <= {e["ticket"]["number"] for e in backend.received() if e["kind"] == "incident_linked"}
    )

    # A new expected recovery, told to every linked customer; nonsense is refused.
    r = stack.api("POST", f"/incidents/{incident.number}/update", supervisor, json={"eta_hours": 2, "note": "基站断电，正在抢修", "notify": True})
    assert r.status_code == 200 and r.json()["notified"] == len(storm), r.text
    assert r.json()["incident"]["note"] == "基站断电，正在抢修"
    assert stack.api("POST", f"/incidents/{incident.number}/update", supervisor, json={"eta_hours": -1}).status_code == 400
    assert stack.api("POST", f"/incidents/{incident.number}/close", agent, json={"resolution": "x"}).status_code == 403

    # The supervisor closes it; closing twice sends nothing more.
    closed_started = time.monotonic()
    r = stack.api("POST", f"/incidents/{incident.number}/close", supervisor, json={"resolution": "基站电源已恢复，信号正常"})
    assert r.status_code == 200, r.text
    assert r.json()["notified"] == len(storm) and r.json()["incident"]["linked_open"] == 0
    assert stack.api("POST", f"/incidents/{incident.number}/close", supervisor, json={"resolution": "再关一次"}).status_code == 409

    def notices(sender):
        with db.transaction() as session:
            return session.execute(
                sa.select(HandoffMessageRow.text).where(
                    HandoffMessageRow.channel == "rest",
                    HandoffMessageRow.channel_user_id == sender,
                    HandoffMessageRow.to_customer.is_(True),
                )
            ).scalars().all()

    for s in storm_senders:
        texts = notices(s)
        assert sum("预计恢复时间更新为" in t and "基站断电" in t for t in texts) == 1, texts
        assert sum("已经修复" in t for t in texts) == 1, texts
        assert sum("打分" in t for t in texts) == 1, texts
    assert not any("已经修复" in t for s, _ in others for t in notices(s))

    # A REST customer gets them with their next message: the recovery, the result and the survey.
    delivered = 0
    for s in storm_senders:
        replies = stack.say(s, "现在有信号了吗")
        text = stack.texts(replies)
        assert "预计恢复时间更新为" in text and "已经修复" in text and "已处理完成" in text and "打分" in text, text
        assert any(r.get("buttons") for r in replies)
        delivered += 1
    assert stack.texts(stack.say(storm_senders[-1], "5分")).find("感谢您的评价") >= 0
    # Every ticket resolved, and the backend told.
    assert until(
        lambda: linked_numbers <= {e["ticket"]["number"] for e in backend.received() if e["kind"] == "resolved"}
    )
    db.dispose()

    opened_after = (incident.opened_at - tickets[storm_senders[0]].created_at).total_seconds()
    print(
        f"\noutage storm: {len(order)} complaints sent ({len(storm)} from {estate}, {len(others)} from {other}) "
        f"in {elapsed:.1f} s; incident {incident.number} opened at complaint #{THRESHOLD} of the estate, "
        f"{opened_after:.1f} s after the first ({filed_at[storm_senders[THRESHOLD - 1]]:.1f} s into the storm); "
        f"linked {len(storm)}/{len(storm)}, others linked 0/{len(others)}; told known fault: {len(told)}, "
        f"{len(urgent_told)} of them urgent (handed to a person, not escalated); closed -> {r.json()['notified']} customers notified in "
        f"{time.monotonic() - closed_started:.1f} s incl. delivery; recovery+result+survey delivered over REST: {delivered}"
    )
