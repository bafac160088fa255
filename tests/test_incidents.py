"""Outage detection (故障聚合): rules, thresholds in a window, racing openers, closing (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.categories import Category
from bot.errors import Forbidden, InvalidInput, WrongState
from bot.incidents.rules import DEFAULT_RULES, RuleBook
from bot.incidents import IncidentService
from bot.staff import Role, StaffService
from bot.storage.models import HandoffEventRow, HandoffMessageRow, IncidentRow, OutboxEventRow, TicketRow
from bot.tickets import Customer, Status, TicketService

RULES = RuleBook(DEFAULT_RULES).current()


# -- rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, area",
    [
        ("阳光花园小区没信号了", "阳光花园"),
        ("我家住在阳光花园3栋，手机一点信号都没有", "阳光花园"),
        ("我们阳光小区整栋楼都没信号", "阳光花园"),  # an alias of a known estate
        ("天河这边宽带断网了", "天河区"),  # a district by its short name
        ("海淀区的锦绣家园今天断网", "锦绣家园"),  # the estate is more specific than the district
        ("我们这边星河湾花园小区打不通电话", "星河湾花园"),  # filler words cut, 花园小区 = 花园
        ("翠湖小区网速特别慢", "翠湖小区"),
        ("中山路88号大楼里手机无服务", "中山路88号"),
        ("我在幸福村，电话老断", "幸福村"),
        ("我们村里没信号", None),  # a place, but no name
        ("家里网速很慢，看视频老卡", None),
        ("我家翠湖花园今天中午起整栋楼都连不上网", "翠湖花园"),  # as the benchmark's storm says it
    ],
)
def test_area_from_what_the_customer_says(text, area):
    assert RULES.area_of(text) == area


@pytest.mark.parametrize(
    "text, symptom",
    [
        ("小区里手机没信号了", "no_signal"),
        ("显示无服务", "no_signal"),
        ("宽带断网一上午了", "broadband_down"),
        ("光猫亮红灯连不上网", "broadband_down"),
        ("晚上网速慢得要命", "slow_data"),
        ("打电话老是掉线", "calls_drop"),
        ("信号很差，时有时无", "weak_signal"),
        ("我们翠湖花园这边从中午开始手机没信号 电话也打不出去", "no_signal"),
        ("家里宽带和手机都上不了网", "broadband_down"),
        ("我想问下话费", None),
    ],
)
def test_symptom_from_what_the_customer_says(text, symptom):
    assert RULES.symptom_of(text) == symptom


def test_rules_file_changes_apply_without_a_restart(tmp_path):
    path = tmp_path / "rules.yml"
    path.write_text(DEFAULT_RULES.read_text(encoding="utf-8"), encoding="utf-8")
    book = RuleBook(path)
    assert book.current().area_of("龙湖天街没信号") is None
    assert book.current().thresholds["area_symptom"] == 5
    text = path.read_text(encoding="utf-8").replace("  area_symptom: 5", "  area_symptom: 3")
    text = text.replace("areas:\n", "areas:\n  - {name: 龙湖天街, level: estate, aliases: [天街]}\n")
    path.write_text(text, encoding="utf-8")
    rules = book.current()
    assert rules.thresholds["area_symptom"] == 3 and rules.area_of("天街这边没信号") == "龙湖天街"
    path.write_text("thresholds: [oops", encoding="utf-8")  # a broken edit keeps the last good rules
    assert book.current().thresholds["area_symptom"] == 3
    broken = text.replace("预计 {eta} 前恢复", "预计 {recovery} 前恢复")
    assert broken != text
    path.write_text(broken, encoding="utf-8")
    assert "{eta}" in book.current().texts["known_fault"]  # so does a text with an unknown placeholder


def test_the_rules_file_can_be_chosen_by_environment(tmp_path, monkeypatch):
    path = tmp_path / "other.yml"
    path.write_text("thresholds: {area: 2}\nsymptoms: {}\n", encoding="utf-8")
    monkeypatch.setenv("OUTAGE_RULES_FILE", str(path))
    assert RuleBook().current().thresholds == {"area_symptom": 0, "area": 2, "symptom": 0}


# -- intake ----------------------------------------------------------------------------------


@pytest.fixture
def tickets(db, clock) -> TicketService:
    return TicketService(db, clock)


@pytest.fixture
def incidents(db, clock) -> IncidentService:
    return IncidentService(db, clock, RuleBook(DEFAULT_RULES))


@pytest.fixture
def boss(db, clock):
    staff = StaffService(db, clock)
    staff.add("boss", "赵主管", "boss-pass-1", Role.SUPERVISOR)
    staff.add("wang", "小王", "wang-pass-1")
    return staff.login("boss", "boss-pass-1")[2]


def customer(i: int) -> Customer:
    return Customer("rest", f"storm-{i}")


def complain(tickets, incidents, i: int, text: str, category: Category = Category.NETWORK):
    ticket = tickets.open_complaint(customer(i), category, text, f"1390000{i:04d}")[0]
    return ticket, incidents.consider(ticket.number)


def incident_rows(db):
    with db.transaction() as session:
        return session.execute(sa.select(IncidentRow)).scalars().all()


def linked_numbers(db, incident_id):
    with db.transaction() as session:
        return set(session.execute(sa.select(TicketRow.number).where(TicketRow.incident_id == incident_id)).scalars())


def test_the_threshold_opens_one_incident_and_later_complaints_are_linked(db, tickets, incidents, clock):
    filed = []
    for i in range(4):
        ticket, outcome = complain(tickets, incidents, i, f"阳光花园小区手机没信号了（{i}号楼）")
        assert (outcome.area, outcome.symptom, outcome.linked) == ("阳光花园", "no_signal", False)
        filed.append(ticket.number)
        clock.now += timedelta(minutes=2)
    # Another estate and another symptom in the same estate are not counted with them.
    other, outcome = complain(tickets, incidents, 50, "锦绣家园没信号")
    assert not outcome.linked
    slow, outcome = complain(tickets, incidents, 51, "阳光花园网速特别慢")
    assert not outcome.linked and not incident_rows(db)

    fifth, outcome = complain(tickets, incidents, 4, "我住阳光花园，一点信号都没有")
    assert outcome.linked and outcome.opened
    incident = outcome.incident
    assert (incident.area, incident.symptom, incident.linked) == ("阳光花园", "no_signal", 5)
    assert "阳光花园一带的手机没信号问题" in outcome.customer_text and incident.number in outcome.customer_text
    assert "11月22日 14:" in outcome.customer_text  # opened ~10:10 Beijing time, recovery in 4 hours
    assert linked_numbers(db, incident.id) == set(filed + [fifth.number])

    sixth, outcome = complain(tickets, incidents, 6, "阳光小区没有信号")
    assert outcome.linked and not outcome.opened and outcome.incident.linked == 6
    assert outcome.customer_text.count(sixth.number) == 1
    assert len(incident_rows(db)) == 1
    # Each linked ticket says so in its history, and the backend gets it through the outbox.
    with db.transaction() as session:
        kinds = session.execute(
            sa.select(OutboxEventRow.kind).where(OutboxEventRow.ticket_number == sixth.number)
        ).scalars().all()
        feed = session.execute(sa.select(HandoffEventRow.kind, HandoffEventRow.detail)).all()
    assert "incident_linked" in kinds
    assert ("incident_opened", f"{incident.number} 5") in feed
    # Not linked: the other estate, the other symptom, a billing complaint from the estate.
    assert not any(t in linked_numbers(db, incident.id) for t in (other.number, slow.number))
    bill, outcome = complain(tickets, incidents, 7, "阳光花园的账单多扣钱", Category.BILLING)
    assert not outcome.linked and outcome.area is None


def test_complaints_outside_the_window_do_not_count(db, tickets, incidents, clock):
    for i in range(4):
        complain(tickets, incidents, i, "天河区宽带断网了")
        clock.now += timedelta(minutes=10)  # 4 complaints spread over 40 minutes; window is 30
    _, outcome = complain(tickets, incidents, 4, "天河宽带断网")
    assert not outcome.linked  # only 3 earlier ones within 30 minutes, plus this one
    clock.now += timedelta(minutes=1)
    _, outcome = complain(tickets, incidents, 5, "天河区这边断网了")
    assert not outcome.linked  # the one from minute 10 has left the window
    clock.now += timedelta(minutes=1)
    _, outcome = complain(tickets, incidents, 6, "天河这边宽带断了")
    assert outcome.opened and outcome.incident.linked == 5  # minutes 20, 30, 40, 41, 42
    early = {tickets.list_for(customer(i))[0].number for i in range(2)}
    assert not early & linked_numbers(db, outcome.incident.id)


def test_area_only_key_and_the_customers_account_area(db, tickets, incidents, clock):
    # Earlier in the month this customer told us where they live.
    tickets.open_complaint(customer(0), Category.NETWORK, "福田区信号很差", "13900000000")
    clock.now += timedelta(days=3)
    assert incidents.consider(tickets.list_for(customer(0))[0].number).area == "福田区"
    texts = ["福田没信号", "福田区网速慢", "福田宽带断网", "福田区打电话掉线", "福田信号差", "福田区网很慢", "福田没有信号"]
    for i, text in enumerate(texts, start=1):
        _, outcome = complain(tickets, incidents, i, text)
        assert not outcome.linked
    # No place in the text: the account's area; the eighth complaint about 福田区 opens an area incident.
    ticket = tickets.open_complaint(customer(0), Category.NETWORK, "手机又连不上网了", "13900000000")[0]
    outcome = incidents.consider(ticket.number)
    assert outcome.area == "福田区" and outcome.opened
    assert outcome.incident.match_key == "area=福田区" and outcome.incident.linked == 8
    assert "福田区一带的网络故障问题" in outcome.customer_text


def test_threads_racing_to_open_end_with_one_incident(db, tickets, clock):
    numbers = [
        tickets.open_complaint(customer(i), Category.NETWORK, "碧桂园小区没信号", f"1390000{i:04d}")[0].number
        for i in range(12)
    ]
    services = [IncidentService(db, clock, RuleBook(DEFAULT_RULES)) for _ in numbers]
    outcomes, errors = [], []
    start = threading.Barrier(len(numbers))

    def run(service, number):
        start.wait()
        try:
            outcomes.append(service.consider(number))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=pair) for pair in zip(services, numbers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    [incident] = incident_rows(db)
    assert linked_numbers(db, incident.id) == set(numbers)
    # Those that counted before the threshold was reached go on as usual (linked later by the opener);
    # every other one is told about this incident.
    assert len(outcomes) == 12 and sum(not o.linked for o in outcomes) <= 4
    assert all(o.incident.number == incident.number for o in outcomes if o.linked)
    assert sum(o.opened for o in outcomes) == 1


def test_consider_is_idempotent(db, tickets, incidents):
    for i in range(5):
        ticket, _ = complain(tickets, incidents, i, "碧桂园断网了")
    again = incidents.consider(ticket.number)
    assert again.linked and not again.opened and again.incident.linked == 5
    with db.transaction() as session:
        links = session.execute(
            sa.select(sa.func.count()).select_from(OutboxEventRow).where(
                OutboxEventRow.ticket_number == ticket.number, OutboxEventRow.kind == "incident_linked"
            )
        ).scalar_one()
    assert links == 1


# -- supervisors -----------------------------------------------------------------------------


def storm(tickets, incidents, count=6):
    outcome = None
    for i in range(count):
        _, outcome = complain(tickets, incidents, i, "阳光花园没信号")
    return outcome.incident


def to_customer(db, who):
    with db.transaction() as session:
        return session.execute(
            sa.select(HandoffMessageRow.text).where(
                HandoffMessageRow.channel == who.channel,
                HandoffMessageRow.channel_user_id == who.user_id,
                HandoffMessageRow.to_customer.is_(True),
            ).order_by(HandoffMessageRow.id)
        ).scalars().all()


def test_close_resolves_every_linked_ticket_and_tells_each_customer_once(db, tickets, incidents, boss, clock):
    incident = storm(tickets, incidents)
    # One linked ticket was already resolved by an agent; its customer is still told the fault is fixed.
    first = tickets.list_for(customer(0))[0]
    tickets.transition(first.number, Status.RESOLVED, "wang", "已远程重启基站")
    before = {i: len(to_customer(db, customer(i))) for i in range(6)}

    closed, told = incidents.close(boss, incident.number, "基站电源已恢复，信号正常")
    assert closed.status == "closed" and told == 6 and closed.linked == 6 and closed.linked_open == 0
    for i in range(6):
        new = to_customer(db, customer(i))[before[i]:]
        assert sum("已经修复" in t for t in new) == 1, new
        if i:
            assert any("已处理完成" in t and "基站电源已恢复" in t for t in new) and any("打分" in t for t in new)
        assert tickets.list_for(customer(i))[0].status is Status.RESOLVED
    with db.transaction() as session:
        kinds = session.execute(
            sa.select(OutboxEventRow.kind, OutboxEventRow.payload).where(
                OutboxEventRow.ticket_number == tickets.list_for(customer(3))[0].number
            ).order_by(OutboxEventRow.id)
        ).all()
    assert [k for k, _ in kinds][-3:] == ["incident_closed", "resolved", "survey_sent"]
    assert json.loads(kinds[-2][1])["ticket"]["status"] == "resolved"

    # Closing again changes and sends nothing.
    with pytest.raises(WrongState):
        incidents.close(boss, incident.number, "再关一次")
    assert sum(len(to_customer(db, customer(i))) for i in range(6)) == sum(before.values()) + 6 + 5 * 2
    # With the incident closed, a new complaint from the estate starts counting again.
    _, outcome = complain(tickets, incidents, 20, "阳光花园没信号")
    assert not outcome.linked


def test_two_supervisors_closing_at_once_notify_once(db, tickets, incidents, boss, clock):
    incident = storm(tickets, incidents, 5)
    results = []

    def run():
        try:
            results.append(IncidentService(db, clock, RuleBook(DEFAULT_RULES)).close(boss, incident.number, "已修复"))
        except WrongState as error:
            results.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(isinstance(r, WrongState) for r in results) == 1
    assert all(sum("已经修复" in t for t in to_customer(db, customer(i))) == 1 for i in range(5))


def test_eta_and_note_reach_linked_customers_when_asked(db, tickets, incidents, boss, clock):
    incident = storm(tickets, incidents, 5)
    eta = clock.now + timedelta(hours=6)
    updated, told = incidents.update(boss, incident.number, eta, "光缆被挖断，正在熔接", notify=True)
    assert told == 5 and updated.eta == eta and updated.note == "光缆被挖断，正在熔接"
    texts = to_customer(db, customer(2))
    assert "预计恢复时间更新为 11月22日 16:" in texts[-1] and "光缆被挖断" in texts[-1]
    _, told = incidents.update(boss, incident.number, None, "抢修进行中")
    assert told == 0 and len(to_customer(db, customer(2))) == len(texts)
    # The next customer hears the new time.
    _, outcome = complain(tickets, incidents, 9, "阳光花园手机没信号")
    assert "11月22日 16:" in outcome.customer_text
    with pytest.raises(InvalidInput):
        incidents.update(boss, incident.number, clock.now - timedelta(hours=1), None)


def test_supervisors_only_and_listing_puts_open_first(db, tickets, incidents, boss, clock):
    staff = StaffService(db, clock)
    agent = staff.login("wang", "wang-pass-1")[2]
    first = storm(tickets, incidents, 5)
    with pytest.raises(Forbidden):
        incidents.list(agent)
    with pytest.raises(Forbidden):
        incidents.close(agent, first.number, "已修复")
    incidents.close(boss, first.number, "已修复")
    manual = incidents.open(boss, "天河区", "broadband_down", note="光缆中断")
    with pytest.raises(WrongState):
        incidents.open(boss, "天河区", "broadband_down")
    listed = incidents.list(boss)
    assert [i.number for i in listed] == [manual.number, first.number]
    assert listed[1].linked == 5 and listed[0].linked == 0 and listed[0].opened_by == "boss"
    # A complaint about it is linked at once (no threshold for a known fault).
    ticket, outcome = complain(tickets, incidents, 30, "天河宽带断网了")
    assert outcome.linked and outcome.incident.number == manual.number
    incidents.unlink(boss, manual.number, ticket.number)
    assert incidents.get(boss, manual.number).linked == 0
    incidents.link(boss, manual.number, ticket.number)
    assert [t.number for t in incidents.get(boss, manual.number).tickets] == [ticket.number]


def test_one_phone_through_fresh_sessions_cannot_open_an_incident(db, tickets, incidents):
    """Issue 14, M1: five complaints from five fresh sessions with one and the same phone are one customer."""
    for i in range(6):
        ticket = tickets.open_complaint(Customer("webchat", f"fresh-session-{i}"), Category.NETWORK,
                                        f"阳光花园小区手机没信号了（{i}号楼）", "13912345678")[0]
        outcome = incidents.consider(ticket.number)
        assert not outcome.opened and not outcome.linked
    assert incident_rows(db) == []
    # Complaints without a phone do not count either; real customers, each with their own number, do.
    for i in range(4):
        complain(tickets, incidents, 100 + i, f"阳光花园小区手机没信号了（{i}号楼）")
    assert incident_rows(db) and incident_rows(db)[0].status == "open"


def test_one_source_cannot_forge_an_outage_with_made_up_phones(db, tickets, incidents, clock):
    """Review M1: one client (one address) files five complaints, each from a fresh web chat and
    with a different made-up phone. At most two phones count from one source: no incident. Five
    sources do open one."""
    for i in range(5):
        ticket = tickets.open_complaint(
            Customer("webchat", f"forger-{i}"), Category.NETWORK, "阳光花园小区手机没信号了", f"1370000{i:04d}",
            origin="a:forger",
        )[0]
        assert not incidents.consider(ticket.number).linked
        clock.now += timedelta(minutes=1)
    assert not incident_rows(db)
    # The same estate reported from three more places: two from the forger plus three real ones.
    for i in range(3):
        ticket = tickets.open_complaint(
            Customer("webchat", f"neighbour-{i}"), Category.NETWORK, "阳光花园没信号", f"1360000{i:04d}",
            origin=f"a:home-{i}",
        )[0]
        outcome = incidents.consider(ticket.number)
    assert outcome.opened


def test_a_telegram_account_is_its_own_source(db, tickets, incidents, clock):
    """Without an address the channel account is the source: one account with many phones counts two."""
    for i in range(5):
        ticket = tickets.open_complaint(
            Customer("telegram", "4242"), Category.NETWORK, "阳光花园小区手机没信号了", f"1350000{i:04d}"
        )[0]
        assert not incidents.consider(ticket.number).linked
    assert not incident_rows(db)
