"""Personal data (个人信息保护法): first-contact notice, verified requests, anonymisation, retention, access log."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.categories import Category
from bot.errors import Forbidden, StoreUnavailable, WrongState
from bot.notices import notice
from bot.outbox import OutboxAdmin
from bot.privacy import REMOVED, AccessLog, Kind, Notices, PrivacyRequests, Retention, check_details_url
from bot.staff import Role, StaffMember
from bot.storage.conversations import ConversationLog, events, metadata
from bot.storage.models import (
    AccessLogRow,
    Base,
    HandoffMessageRow,
    HandoffSessionRow,
    OutboxEventRow,
    PrivacyRequestRow,
    TicketRow,
)
from bot.tickets import Customer, TicketService
from channels.hub import Hub

PHONE = "13912345678"
SUPERVISOR = StaffMember("boss", "主管", Role.SUPERVISOR, True)
AGENT = StaffMember("wang", "小王", Role.AGENT, True)


@pytest.fixture
def log(tmp_path) -> ConversationLog:
    """Rasa's conversation log, shaped as Rasa's SQL tracker store creates it."""
    conversation = ConversationLog(f"sqlite:///{tmp_path / 'tracker.db'}")
    metadata.create_all(conversation.engine)
    yield conversation
    conversation.dispose()


def said(log: ConversationLog, sender: str, text: str, at: float) -> None:
    data = {"event": "user", "text": text, "timestamp": at, "input_channel": "rest",
            "parse_data": {"intent": {"name": "complain_network", "confidence": 0.9}}}
    with log.engine.begin() as connection:
        connection.execute(events.insert().values(
            sender_id=sender, type_name="user", timestamp=at, intent_name="complain_network",
            action_name=None, data=json.dumps(data, ensure_ascii=False)))


def senders(log: ConversationLog):
    with log.engine.connect() as connection:
        return sorted(connection.execute(sa.select(events.c.sender_id)).scalars())


def in_live_chat(db, customer: Customer, now) -> None:
    """The customer is talking to an agent right now."""
    with db.transaction() as session:
        session.add(HandoffSessionRow(channel=customer.channel, channel_user_id=customer.user_id, status="active",
                                      reason="转人工", severity="general", requested_at=now, due=now, updated_at=now))


def everything(db) -> str:
    """Every value of every row of the ticket store, as one string to search in."""
    out = []
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(sa.select(table)):
                out.append(" ".join(str(v) for v in row))
    return "\n".join(out)


def test_the_notice_is_shown_once_per_customer_and_channel_across_processes(db, clock, alice):
    first, other_process = Notices(db, clock), Notices(db, clock)
    assert first.first_contact(alice) is True
    assert first.first_contact(alice) is False
    assert other_process.first_contact(alice) is False
    assert first.first_contact(Customer("telegram", alice.user_id)) is True


def test_the_phone_on_file_verifies_a_request(db, clock, alice, bob):
    tickets, requests = TicketService(db, clock), PrivacyRequests(db, None, clock)
    tickets.open_complaint(alice, Category.NETWORK, "家里没有信号已经两天了", PHONE)
    assert requests.phones_on_file(alice) == [PHONE]
    assert requests.verify(alice, "139 1234 5678") is True
    assert requests.verify(alice, "13800000000") is False
    assert requests.verify(alice, "不记得了") is False
    assert requests.verify(bob, PHONE) is False  # bob has nothing on file


def test_a_second_request_of_the_same_kind_is_the_pending_one(db, clock, alice):
    requests = PrivacyRequests(db, None, clock)
    first, created = requests.submit(alice, Kind.DELETE, "phone")
    again, created_again = requests.submit(alice, Kind.DELETE, "phone")
    other, _ = requests.submit(alice, Kind.ACCESS, "phone")
    assert (created, created_again) == (True, False)
    assert again.id == first.id != other.id
    assert [r.id for r in requests.list(SUPERVISOR, "pending")] == [other.id, first.id]
    with pytest.raises(Forbidden):
        requests.list(AGENT)


def test_access_sends_the_customer_a_summary_of_what_is_held(db, clock, alice, log):
    tickets, requests = TicketService(db, clock), PrivacyRequests(db, log, clock)
    ticket, _ = tickets.open_complaint(alice, Category.BILLING, "这个月话费多扣了38元", PHONE)
    said(log, alice.user_id, "话费多扣了", clock().timestamp())
    request, _ = requests.submit(alice, Kind.ACCESS, "phone")

    done = requests.carry_out(request.id, "boss")

    assert done.status.value == "done" and done.decided_by == "boss"
    assert done.result["summary"]["tickets"][0]["number"] == ticket.number
    assert done.result["summary"]["conversation_events"] == 1
    with db.transaction() as session:
        sent = session.execute(sa.select(HandoffMessageRow).where(HandoffMessageRow.to_customer.is_(True))).scalars().all()
    assert len(sent) == 1 and sent[0].channel_user_id == alice.user_id
    assert ticket.number in sent[0].text and "139****5678" in sent[0].text and PHONE not in sent[0].text
    with pytest.raises(WrongState):
        requests.carry_out(request.id, "boss")


def test_delete_removes_identity_keeps_facts_and_tells_the_backend(db, clock, alice, bob, log):
    tickets, requests = TicketService(db, clock), PrivacyRequests(db, log, clock)
    ticket, _ = tickets.open_complaint(alice, Category.NETWORK, f"幸福小区没信号，回电{PHONE}，我叫张三", PHONE)
    tickets.add_customer_note(alice, "补充：晚上八点以后最严重")
    other, _ = tickets.open_complaint(bob, Category.NETWORK, "宽带断网", "13800000000")
    with db.transaction() as session:
        notice(session, alice, f"您的工单{ticket.number}已受理", (), clock())
    said(log, alice.user_id, f"我的号码{PHONE}", clock().timestamp())
    said(log, bob.user_id, "宽带断网", clock().timestamp())
    request, _ = requests.submit(alice, Kind.DELETE, "phone")

    done = requests.carry_out(request.id, "boss", "客户来电确认")

    assert done.status.value == "done" and done.note == "客户来电确认"
    assert done.result["removed"]["tickets"] == 1
    assert done.result["removed"]["conversation_events"] == 1
    with db.transaction() as session:
        row = session.execute(sa.select(TicketRow).where(TicketRow.number == ticket.number)).scalar_one()
        # Facts stay for the figures; identity is gone.
        assert (row.category, row.severity, row.status) == ("network", ticket.severity.value, ticket.status.value)
        assert row.channel_user_id.startswith("anon-") and row.contact_phone is None
        assert row.description == REMOVED and row.anonymised_at is not None
        assert [e.kind for e in row.events][-1] == "anonymised"
        pending = session.execute(sa.select(OutboxEventRow).where(OutboxEventRow.ticket_number == ticket.number)).scalars().all()
        assert pending[-1].kind == "anonymised"
        assert json.loads(pending[-1].payload)["ticket"]["customer_id"] == row.channel_user_id
        # The request keeps its record without naming the customer.
        assert session.get(PrivacyRequestRow, request.id).channel_user_id == row.channel_user_id
    store = everything(db)
    assert PHONE not in store and "张三" not in store and "八点以后" not in store
    # Only the confirmation still addresses the customer's channel account (to reach them).
    with db.transaction() as session:
        still = session.execute(
            sa.select(HandoffMessageRow.text).where(HandoffMessageRow.channel_user_id == alice.user_id)
        ).scalars().all()
    assert len(still) == 1 and "已处理完成" in still[0]
    # Bob is untouched, in the ticket store and in the conversation log.
    assert tickets.get(bob, other.number).contact_phone == "13800000000"
    assert senders(log) == [bob.user_id]
    assert OutboxAdmin(db).backlog()["pending"] >= 1


def test_delete_waits_while_the_customer_is_with_an_agent(db, clock, alice):
    requests = PrivacyRequests(db, None, clock)
    in_live_chat(db, alice, clock())
    request, _ = requests.submit(alice, Kind.DELETE, "channel")
    with pytest.raises(WrongState):
        requests.carry_out(request.id, "boss")
    assert requests.get(request.id).status.value == "pending"


def test_reject_tells_the_customer_why(db, clock, alice):
    requests = PrivacyRequests(db, None, clock)
    request, _ = requests.submit(alice, Kind.DELETE, "channel")
    done = requests.reject(request.id, "boss", "该账号存在未结清的争议工单")
    assert done.status.value == "rejected"
    with db.transaction() as session:
        texts = session.execute(sa.select(HandoffMessageRow.text)).scalars().all()
    assert any("未结清的争议工单" in t for t in texts)


def test_retention_purges_old_transcripts_and_conversation_log_only(db, clock, alice, log):
    now = clock()
    old, recent = now - timedelta(days=200), now - timedelta(days=10)
    with db.transaction() as session:
        for at, delivered in ((old, True), (old, True), (old, False), (recent, True)):
            row = notice(session, alice, "消息", (), at)
            row.delivered_at = at if delivered else None
    said(log, alice.user_id, "很久以前", old.timestamp())
    said(log, alice.user_id, "最近", recent.timestamp())

    counts = Retention(db, log, days=180, clock=clock).purge()

    assert counts["transcript_messages"] == 2  # the undelivered one waits for its channel
    assert counts["conversation_events"] == 1
    with db.transaction() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(HandoffMessageRow)).scalar() == 2
    assert Retention(db, log, days=180, clock=clock).purge()["transcript_messages"] == 0


def test_access_log_records_reads_once_per_window_and_only_supervisors_read_it(db, clock, alice):
    access = AccessLog(db, clock)
    assert access.record(AGENT, "view_transcript", alice, "12", "127.0.0.1") is True
    assert access.record(AGENT, "view_transcript", alice, "12", "127.0.0.1") is False  # console refresh
    assert access.record(AGENT, "view_session", alice, "12", "127.0.0.1") is True
    entries = access.entries(SUPERVISOR)
    assert [(e.actor, e.action, e.customer, e.target) for e in entries] == [
        ("wang", "view_session", "alice", "12"), ("wang", "view_transcript", "alice", "12")]
    assert [e.action for e in access.entries(SUPERVISOR, actor="nobody")] == []
    with pytest.raises(Forbidden):
        access.entries(AGENT)
    with pytest.raises(ValueError):
        access.record(AGENT, "peek", alice)
    with db.transaction() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(AccessLogRow)).scalar() == 2


def test_a_read_whose_access_row_failed_is_recorded_when_it_is_retried(db, clock, alice):
    class StoreDownOnce:
        """The ticket store failing the first write (the console then answers 503 and is retried)."""

        def __init__(self) -> None:
            self.down = True

        @contextmanager
        def transaction(self):
            with db.transaction() as session:
                yield session
                if self.down:
                    self.down = False
                    raise StoreUnavailable("OperationalError")

    access = AccessLog(StoreDownOnce(), clock)
    with pytest.raises(StoreUnavailable):
        access.record(AGENT, "view_transcript", alice, "12", "127.0.0.1")
    assert access.record(AGENT, "view_transcript", alice, "12", "127.0.0.1") is True  # not taken for a repeat
    assert [e.action for e in AccessLog(db, clock).entries(SUPERVISOR)] == ["view_transcript"]


def test_notices_for_an_anonymised_customer_are_records_not_deliveries(db, clock, alice):
    tickets, requests = TicketService(db, clock), PrivacyRequests(db, None, clock)
    ticket, _ = tickets.open_complaint(alice, Category.NETWORK, "宽带断网了", PHONE)
    request, _ = requests.submit(alice, Kind.DELETE, "phone")
    requests.carry_out(request.id, "boss")
    with db.transaction() as session:
        row = session.execute(sa.select(TicketRow).where(TicketRow.number == ticket.number)).scalar_one()
        anonymous = notice(session, Customer(row.channel, row.channel_user_id), "您的工单已处理", (), clock())
        assert anonymous.to_customer is False


def test_delete_ends_a_place_in_the_queue(db, clock, alice):
    requests = PrivacyRequests(db, None, clock)
    now = clock()
    with db.transaction() as session:
        session.add(HandoffSessionRow(channel=alice.channel, channel_user_id=alice.user_id, status="waiting",
                                      reason="转人工", severity="general", requested_at=now, due=now, updated_at=now))
    request, _ = requests.submit(alice, Kind.DELETE, "channel")
    assert requests.carry_out(request.id, "boss").status.value == "done"
    with db.transaction() as session:
        queued = session.execute(sa.select(HandoffSessionRow)).scalar_one()
        assert queued.status == "cancelled" and queued.channel_user_id.startswith("anon-")


WORDS = "我住阳光花园3栋"


def test_delete_also_removes_the_customers_words_from_handoffs_escalations_and_delivered_events(db, clock, alice, log):
    """Issue 14, M2: what already left through the outbox, handoff reasons and escalation reasons."""
    from bot.lifecycle import Escalations
    from bot.storage.models import EscalationRow, HandoffEventRow

    tickets, requests = TicketService(db, clock), PrivacyRequests(db, log, clock)
    ticket, _ = tickets.open_complaint(alice, Category.NETWORK, f"幸福小区没信号，{WORDS}", PHONE)
    Escalations(db, clock).request(ticket.number, "customer", "customer", f"要求主管或投诉升级：{WORDS}")
    now = clock()
    with db.transaction() as session:
        handoff = HandoffSessionRow(channel=alice.channel, channel_user_id=alice.user_id, status="ended",
                                    reason=f"客户要求转人工：{WORDS}", severity="general", requested_at=now, due=now,
                                    updated_at=now)
        session.add(handoff)
        session.flush()
        session.add(HandoffEventRow(session_id=handoff.id, at=now, kind="requested", actor="customer",
                                    detail=f"客户要求转人工：{WORDS}"))
        # The backend already received the ticket's first events.
        session.execute(sa.update(OutboxEventRow).values(delivered_at=now))
    request, _ = requests.submit(alice, Kind.DELETE, "phone")
    requests.carry_out(request.id, "boss")
    store = everything(db)
    assert WORDS not in store and PHONE not in store
    with db.transaction() as session:
        assert session.execute(sa.select(EscalationRow.reason)).scalar_one().startswith("要求主管或投诉升级：")
        assert session.execute(sa.select(HandoffSessionRow.reason)).scalar_one() == f"客户要求转人工：{REMOVED}"


def test_delete_leaves_another_channels_conversation_with_the_same_sender_id(db, clock, log):
    """Rasa keys conversations by sender id alone: REST customer "123456789" is not Telegram user 123456789."""
    rest = Customer("rest", "123456789")
    requests = PrivacyRequests(db, log, clock)
    said(log, rest.user_id, "REST上的话", clock().timestamp())
    data = {"event": "user", "text": "Telegram上的话", "input_channel": "telegram", "parse_data": {}}
    with log.engine.begin() as connection:
        connection.execute(events.insert().values(sender_id="123456789", type_name="user", timestamp=clock().timestamp(),
                                                  data=json.dumps(data, ensure_ascii=False)))
    request, _ = requests.submit(rest, Kind.DELETE, "channel")
    done = requests.carry_out(request.id, "boss")
    assert done.result["removed"]["conversation_events"] == 1
    with log.engine.connect() as connection:
        left = [json.loads(d)["text"] for d in connection.execute(sa.select(events.c.data)).scalars()]
    assert left == ["Telegram上的话"]


def test_a_refused_deletion_deletes_nothing(db, clock, alice, log):
    """The conversation log goes only after the deciding transaction: a refusal leaves it whole."""
    requests = PrivacyRequests(db, log, clock)
    said(log, alice.user_id, "我的话", clock().timestamp())
    in_live_chat(db, alice, clock())
    request, _ = requests.submit(alice, Kind.DELETE, "channel")
    with pytest.raises(WrongState):
        requests.carry_out(request.id, "boss")
    assert senders(log) == [alice.user_id]


def test_the_production_profile_does_not_start_without_the_privacy_details_address(monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.setenv("LOG_ID_KEY", "privacy-test-log-id-key")
    monkeypatch.delenv("PRIVACY_DETAILS_URL", raising=False)
    with pytest.raises(ValueError, match="PRIVACY_DETAILS_URL"):
        Hub.from_env()  # else every first-contact notice would link to localhost
    monkeypatch.setenv("PRIVACY_DETAILS_URL", "https://example.com/chat/privacy")
    check_details_url()
    monkeypatch.setenv("LOG_FORMAT", "text")  # the embedded profile: the page next to its web chat
    monkeypatch.delenv("PRIVACY_DETAILS_URL")
    check_details_url()


def test_the_deployments_set_the_privacy_details_address(monkeypatch, tmp_path):
    import yaml

    from deploy.local import ProductionStack

    root = Path(__file__).resolve().parent.parent
    config = yaml.safe_load((root / "deploy" / "k8s" / "configmap.yaml").read_text())["data"]
    assert config["LOG_FORMAT"] == "json" and config["PRIVACY_DETAILS_URL"].startswith("https://")
    monkeypatch.delenv("PRIVACY_DETAILS_URL", raising=False)
    stack = ProductionStack(tmp_path, tmp_path / "model.tar.gz", port=8123)  # make run-prod, not started
    assert stack._environment()["PRIVACY_DETAILS_URL"] == "http://localhost:8123/chat/privacy"


def test_failed_phone_checks_count_per_customer_and_day_in_the_store(db, clock, alice, bob):
    TicketService(db, clock).open_complaint(alice, Category.NETWORK, "宽带断网了", PHONE)
    first, restarted = PrivacyRequests(db, None, clock), PrivacyRequests(db, None, clock)  # e.g. two action servers
    assert first.check_phone(alice, "13800000001").tries_left == 2
    assert restarted.check_phone(alice, "13800000002").tries_left == 1
    assert first.check_phone(alice, "13800000003").tries_left == 0
    assert first.check_phone(alice, PHONE).ok is False  # used up: not even compared
    assert first.tries_left(bob) == 3 and first.check_phone(bob, PHONE).ok is False  # bob's own count
    clock.now += timedelta(days=1)
    assert first.tries_left(alice) == 3 and first.check_phone(alice, PHONE).ok is True
    clock.now += timedelta(days=2)
    assert Retention(db, None, days=180, clock=clock).purge()["privacy_phone_checks"] == 2  # old counts go
