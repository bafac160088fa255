"""The ticket service on a real SQLite database."""

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from bot.categories import Category, Department
from bot.errors import InvalidInput, NotFound, NotOwner, StoreUnavailable
from bot.severity import Severity
from bot.storage.database import Database
from bot.tickets import Customer, Status, TicketService


def test_filing_a_complaint_records_everything(service, alice):
    ticket, created = service.open_complaint(alice, Category.NETWORK, "我家宽带三天两头断网", "13812345678", "k1")
    assert created
    assert ticket.category is Category.NETWORK
    assert ticket.department is Department.NETWORK_OPERATIONS
    assert ticket.severity is Severity.GENERAL
    assert ticket.status is Status.NEW
    assert ticket.resolve_due - ticket.created_at == timedelta(hours=48)
    assert ticket.response_due - ticket.created_at == timedelta(hours=24)
    assert ticket.customer == alice
    assert [e.kind for e in ticket.events] == ["created", "dispatched"]


def test_same_idempotency_key_never_makes_a_second_ticket(service, alice, db):
    first, created = service.open_complaint(alice, Category.BILLING, "为什么又扣我钱", "13812345678", "retry-key")
    again, created_again = service.open_complaint(alice, Category.BILLING, "为什么又扣我钱", "13812345678", "retry-key")
    assert created and not created_again
    assert again.number == first.number
    with db.engine.connect() as connection:
        assert connection.execute(sa.text("select count(*) from tickets")).scalar() == 1


def test_customers_only_see_their_own_tickets(service, alice, bob):
    ticket, _ = service.open_complaint(alice, Category.OTHER, "营业员态度很差", "13812345678")
    assert service.get(alice, ticket.number).number == ticket.number
    with pytest.raises(NotFound):
        service.get(bob, ticket.number)
    with pytest.raises(NotOwner):
        service.get(bob, ticket.number)
    assert service.list_for(bob) == []
    with pytest.raises(NotFound):
        service.get(alice, "TS261122-ABCDEFGH")


def test_lowercase_and_compact_numbers_are_accepted(service, alice):
    ticket, _ = service.open_complaint(alice, Category.OTHER, "营业员态度很差", None)
    assert service.get(alice, ticket.number.lower().replace("-", "")).number == ticket.number


def test_repeat_complaint_within_30_days_is_major(service, alice):
    first, _ = service.open_complaint(alice, Category.NETWORK, "晚上网速很慢", "13812345678")
    second, _ = service.open_complaint(alice, Category.NETWORK, "网速还是很慢", "13812345678")
    assert first.severity is Severity.GENERAL
    assert second.severity is Severity.MAJOR
    assert first.number in second.severity_reason
    assert (first.repeat_of, first.repeat_count) == (None, 0)
    assert (second.repeat_of, second.repeat_count) == (first.number, 1)
    third, _ = service.open_complaint(alice, Category.NETWORK, "第三次了，还是慢", "13812345678")
    assert (third.repeat_of, third.repeat_count) == (second.number, 2)
    other, _ = service.open_complaint(alice, Category.BILLING, "多扣了钱", "13812345678")
    assert other.repeat_count == 0  # another category is not a repeat


def test_repeat_window_is_30_days(db, alice):
    now = [datetime(2026, 10, 1, tzinfo=timezone.utc)]
    service = TicketService(db, clock=lambda: now[0])
    service.open_complaint(alice, Category.NETWORK, "晚上网速很慢", None)
    now[0] += timedelta(days=31)
    later, _ = service.open_complaint(alice, Category.NETWORK, "网速又慢了", None)
    assert later.severity is Severity.GENERAL


def test_customer_addition_goes_to_latest_open_ticket_and_can_raise_severity(service, alice):
    ticket, _ = service.open_complaint(alice, Category.NETWORK, "宽带老掉线", "13812345678")
    updated = service.add_customer_note(alice, "现在整个小区都断网了")
    assert updated.number == ticket.number
    assert any(e.kind == "customer_addition" and "整个小区" in e.detail for e in updated.events)
    assert updated.severity is Severity.URGENT
    assert updated.resolve_due < ticket.resolve_due


def test_addition_without_open_ticket(service, alice):
    with pytest.raises(NotFound):
        service.add_customer_note(alice, "补充一下")


def test_request_human_on_open_ticket(service, alice):
    ticket, _ = service.open_complaint(alice, Category.BILLING, "多扣了30块", "13812345678")
    updated, created = service.request_human(alice, "再不处理我就打12300")
    assert not created and updated.number == ticket.number
    assert updated.human_requested_at is not None
    assert updated.severity is Severity.MAJOR
    assert [e.kind for e in updated.events][-2:] == ["human_requested", "severity_changed"]


def test_request_human_without_ticket_creates_one(service, alice):
    ticket, created = service.request_human(alice, "转人工", contact_phone="13812345678", idempotency_key="h1")
    assert created and ticket.category is Category.OTHER and ticket.human_requested_at is not None
    again, created_again = service.request_human(alice, "转人工", contact_phone="13812345678", idempotency_key="h1")
    # the first call left an open ticket, so the retry lands on it instead of making another
    assert not created_again and again.number == ticket.number


def test_the_customer_gives_a_call_back_number_later(service, alice, bob):
    ticket, _ = service.request_human(alice, "转人工", idempotency_key="h2")
    assert ticket.contact_phone is None
    updated, changed = service.set_contact_phone(alice, ticket.number, "13912345678")
    assert changed and updated.contact_phone == "13912345678"
    [event] = [e for e in updated.events if e.kind == "contact_phone_changed"]
    assert "139****5678" in event.detail and "13912345678" not in event.detail  # history is pushed: masked
    again, changed_again = service.set_contact_phone(alice, ticket.number, "13912345678")
    assert not changed_again and len(again.events) == len(updated.events)
    with pytest.raises(NotOwner):
        service.set_contact_phone(bob, ticket.number, "13700001111")
    with pytest.raises(InvalidInput):
        service.set_contact_phone(alice, ticket.number, "12345")


def test_invalid_input_is_rejected(service, alice):
    with pytest.raises(InvalidInput):
        service.open_complaint(alice, Category.OTHER, "   ", None)
    with pytest.raises(InvalidInput):
        service.open_complaint(alice, Category.OTHER, "坏了", "12345")
    with pytest.raises(InvalidInput):
        Customer("", "x")


def test_html_and_sql_text_is_stored_verbatim(service, alice):
    text = "<script>alert(1)</script>'; DROP TABLE tickets; --"
    ticket, _ = service.open_complaint(alice, Category.OTHER, text, None)
    assert service.get(alice, ticket.number).description == text


def test_huge_description_is_bounded(service, alice):
    ticket, _ = service.open_complaint(alice, Category.OTHER, "断" * 10_000, None)
    assert len(ticket.description) <= 4000


def test_store_without_schema_raises_store_unavailable(tmp_path, alice):
    db = Database(f"sqlite:///{tmp_path / 'missing-dir' / 'sub' / 'x.db'}")
    # no migration: the tables do not exist, as when the database is unreachable or broken
    service = TicketService(db)
    with pytest.raises(StoreUnavailable):
        service.open_complaint(alice, Category.OTHER, "路由器坏了", None)


def test_unreachable_postgres_is_store_unavailable(alice):
    db = Database("postgresql://nobody:secret@127.0.0.1:1/none?connect_timeout=1")
    with pytest.raises(StoreUnavailable):
        TicketService(db).list_for(alice)


def test_lifecycle_is_enforced_and_recorded(service, alice):
    ticket, _ = service.open_complaint(alice, Category.NETWORK, "宽带老掉线", None)
    assigned = service.assign(ticket.number, "张工", actor="agent:zhang")
    assert assigned.status is Status.ASSIGNED and assigned.responsible == "张工"
    service.transition(ticket.number, Status.IN_PROGRESS, actor="agent:zhang")
    with pytest.raises(InvalidInput):
        service.transition(ticket.number, Status.CLOSED, actor="agent:zhang")  # must be resolved first
    resolved = service.transition(ticket.number, Status.RESOLVED, actor="agent:zhang", note="更换光猫后恢复")
    assert not resolved.status.is_open
    reopened = service.transition(ticket.number, Status.REOPENED, actor="customer")
    assert reopened.status.is_open
    history = [(e.actor, e.kind, e.detail) for e in reopened.events if e.kind in ("assigned", "status_changed")]
    assert history == [
        ("agent:zhang", "assigned", "- -> 张工"),
        ("agent:zhang", "status_changed", "new -> assigned"),
        ("agent:zhang", "status_changed", "assigned -> in_progress"),
        ("agent:zhang", "status_changed", "in_progress -> resolved: 更换光猫后恢复"),
        ("customer", "status_changed", "resolved -> reopened"),
    ]
    with pytest.raises(NotFound):
        service.transition("TS000000-00000000", Status.RESOLVED, actor="x")


def test_concurrent_retries_with_one_key_make_one_ticket(db, alice):
    """Several action calls for the same confirmation racing each other: one ticket, all see it."""
    from concurrent.futures import ThreadPoolExecutor

    service = TicketService(db)
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(
            pool.map(
                lambda _: service.open_complaint(alice, Category.BILLING, "多扣了30块", "13812345678", "race-key"),
                range(6),
            )
        )
    numbers = {ticket.number for ticket, _ in results}
    assert len(numbers) == 1
    assert sum(created for _, created in results) == 1
    with db.engine.connect() as connection:
        assert connection.execute(sa.text("select count(*) from tickets")).scalar() == 1


def test_the_pull_cursor_follows_commit_order(service, alice, bob):
    """Every change gets a position when it commits; pages on it see each change once, in order."""
    first, _ = service.open_complaint(alice, Category.NETWORK, "宽带断了一天", "13800000001")
    second, _ = service.open_complaint(bob, Category.BILLING, "多扣了50块", "13800000002")
    page = service.changed_after(0)
    assert [t.number for t in page] == [first.number, second.number]
    assert page[0].change_seq < page[1].change_seq
    service.add_customer_note(alice, "晚上更严重")  # a change to the first ticket moves it to the end
    assert [t.number for t in service.changed_after(page[-1].change_seq)] == [first.number]


def test_a_change_committed_late_is_never_skipped(db, service, alice, bob):
    """Issue 14, M7: a transaction that read its clock early but commits late still comes after the cursor."""
    import threading

    from bot.storage.models import TicketEventRow, TicketRow

    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite lets one writer at a time: nothing can commit out of order there")
    slow, _ = service.open_complaint(alice, Category.NETWORK, "宽带断了一天", "13800000001")
    fast, _ = service.open_complaint(bob, Category.BILLING, "多扣了50块", "13800000002")
    cursor = service.changed_after(0)[-1].change_seq
    early = datetime.now(timezone.utc)
    flushed, fast_committed = threading.Event(), threading.Event()

    def slow_writer():
        with db.transaction() as session:
            row = session.execute(sa.select(TicketRow).where(TicketRow.number == slow.number)).scalar_one()
            row.events.append(TicketEventRow(at=early, actor="system", kind="progress_update", detail="慢的"))
            session.flush()
            flushed.set()
            fast_committed.wait(10)

    worker = threading.Thread(target=slow_writer)
    worker.start()
    flushed.wait(10)
    with db.transaction() as session:
        row = session.execute(sa.select(TicketRow).where(TicketRow.number == fast.number)).scalar_one()
        row.events.append(TicketEventRow(at=early + timedelta(seconds=5), actor="system", kind="progress_update", detail="快的"))
    # A backend reads while the slow transaction is still open: it sees the fast change and moves on.
    first_read = service.changed_after(cursor)
    assert [t.number for t in first_read] == [fast.number]
    fast_committed.set()
    worker.join(10)
    # The slow change, whose clock time is earlier, still comes after the cursor the backend holds.
    assert [t.number for t in service.changed_after(first_read[-1].change_seq)] == [slow.number]
    # Paging on the application clock, as the first version did, skips it.
    assert slow.number not in [t.number for t in service.changed_since(early + timedelta(seconds=5), fast.number)]
