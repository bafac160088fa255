"""Outage detection (故障聚合): rules, thresholds in a window, racing openers, who counts as a source
(SQLite and PostgreSQL). Closing and the supervisors' side: tests/test_incidents_supervisors.py."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.categories import Category
from bot.incidents import IncidentService
from bot.incidents.rules import DEFAULT_RULES, RuleBook
from bot.storage.models import HandoffEventRow, OutboxEventRow
from bot.tickets import Customer
from tests.incidents_support import (  # noqa: F401
    complain,
    customer,
    incident_rows,
    incidents_fixture,
    linked_numbers,
    tickets_fixture,
)

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


def test_once_the_fault_is_known_a_complaint_links_in_one_transaction_without_the_intake_locks(db, tickets, incidents, clock):
    """The storm's common case must not queue: no per-key advisory lock, no second transaction."""
    for i in range(5):
        complain(tickets, incidents, i, f"翠湖花园没网了（{i}）")
    [incident] = incident_rows(db)
    statements, begins = [], []
    sa.event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    sa.event.listen(db.engine, "begin", lambda connection: begins.append(1))
    ticket = tickets.open_complaint(customer(9), Category.NETWORK, "翠湖花园小区断网了", "13900009999")[0]
    begins.clear()
    statements.clear()
    outcome = incidents.consider(ticket.number)
    assert outcome.linked and not outcome.opened and outcome.incident.number == incident.number
    assert outcome.incident.linked == 6 and ticket.number in outcome.customer_text
    assert len(begins) == 1
    assert not any("pg_advisory" in statement for statement in statements)
    assert ticket.number in linked_numbers(db, incident.id)


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


# -- who counts as a source ------------------------------------------------------------------


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
