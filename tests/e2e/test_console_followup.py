"""The console's part B in a headless Chromium against the real stack: internal notes that never reach
the customer, resolving with a customer message apart from the internal note, and a progress update
sent from a ticket after the chat ended. Customers talk over REST (their next request carries what
the console sent them), and the stored deliveries are read from the stack's store."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from bot.storage.database import Database
from bot.storage.models import HandoffMessageRow, TicketRow
from bot.tickets import Customer, TicketService

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def stored(stack, sender):
    """(text, to_customer) of every message stored for this REST customer."""
    db = Database(stack.ticket_db)
    try:
        with db.transaction() as session:
            rows = session.execute(
                sa.select(HandoffMessageRow.text, HandoffMessageRow.to_customer)
                .where(HandoffMessageRow.channel == "rest", HandoffMessageRow.channel_user_id == sender)
            ).all()
            return [(text, bool(to_customer)) for text, to_customer in rows]
    finally:
        db.dispose()


def ticket_of(stack, sender):
    db = Database(stack.ticket_db)
    try:
        [ticket] = TicketService(db).list_for(Customer("rest", sender))
        return ticket
    finally:
        db.dispose()


def log_in(stack, console, browser, name, display):
    username = console.account(name, display)
    page = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN").new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, console.sign_in(page, username), errors


def waiting_customer(stack):
    sender = uuid.uuid4().hex
    stack.say(sender, "帮我转人工")
    stack.say(sender, "我家宽带从昨晚开始断网")
    return sender, stack.handoff_session("rest", sender)


def test_internal_notes_never_reach_the_customer_and_the_result_message_does(stack, console, browser):
    agent, _, errors = log_in(stack, console, browser, "sun", "小孙")
    sender, session_id = waiting_customer(stack)
    agent.click("#tab-live")
    item = agent.locator(f".queue-item[data-session-id='{session_id}']")
    item.wait_for(timeout=15_000)
    item.locator(".accept").click()
    agent.wait_for_selector(f"#session[data-session-id='{session_id}']")
    number = ticket_of(stack, sender).number
    agent.wait_for_selector(f"#tickets .ticket[data-number='{number}']", timeout=15_000)

    # an internal note on the session: in the transcript, styled as such, for staff only
    agent.fill("#note-text", "客户情绪激动，先安抚再查线路")
    agent.click("#note-add")
    note = agent.locator("#transcript .msg--note:has-text('客户情绪激动，先安抚再查线路')")
    note.wait_for(timeout=15_000)
    assert "内部备注" in note.inner_text() and "小孙" in note.inner_text()

    # resolve: the customer message (previewed) apart from the internal note
    agent.locator(f"#tickets .ticket[data-number='{number}'] .resolve").click()
    agent.wait_for_selector("#resolve-dialog[open]")
    assert agent.input_value("#resolve-message")  # prefilled from the template
    agent.fill("#resolve-message", "已为您重置宽带端口，现在可以正常上网")
    agent.fill("#resolve-note", "端口故障，已派装维复查，电话0571-88886666")
    preview = agent.inner_text("#resolve-preview")
    assert number in preview and "已为您重置宽带端口" in preview and "端口故障" not in preview
    agent.click("#resolve-submit")
    agent.wait_for_selector("#resolve-dialog:not([open])", state="attached", timeout=15_000)
    resolved = agent.locator(f"#tickets .ticket[data-number='{number}']")
    resolved.locator(".ticket__events li[data-kind='status_changed']:has-text('已解决')").last.wait_for(timeout=15_000)
    history = resolved.locator(".ticket__events").inner_text()
    assert "端口故障" in history and "状态变更" in history and "status_changed" not in history and "->" not in history

    # the customer's side: their next request carries the result, never a note
    got = stack.texts(stack.say(sender, "好的"))
    assert "已为您重置宽带端口" in got, got
    assert "端口故障" not in got and "先安抚" not in got
    messages = stored(stack, sender)
    assert ("客户情绪激动，先安抚再查线路", False) in messages
    assert not any(to_customer and ("端口故障" in text or "先安抚" in text) for text, to_customer in messages)
    assert errors == []


def test_a_progress_update_from_a_ticket_after_the_chat_reaches_the_customer(stack, console, browser):
    agent, token, errors = log_in(stack, console, browser, "zhou", "小周")
    sender, session_id = waiting_customer(stack)
    assert stack.api("POST", f"/sessions/{session_id}/accept", token).status_code == 200
    assert stack.api("POST", f"/sessions/{session_id}/close", token).status_code == 200
    stack.say(sender, "好的")  # picks up what the chat sent
    number = ticket_of(stack, sender).number
    # the 24-hour update is overdue by now
    db = Database(stack.ticket_db)
    try:
        with db.transaction() as session:
            session.execute(sa.update(TicketRow).where(TicketRow.number == number)
                            .values(progress_due=datetime.now(timezone.utc) - timedelta(hours=1)))
    finally:
        db.dispose()

    # the overdue update is listed under 待更新进度, and its row opens the ticket (no live chat)
    agent.reload()
    agent.wait_for_selector("#app:not([hidden])")
    agent.click("#tab-progress")
    agent.locator(f"#progress-due .progress-item[data-number='{number}']").click()
    card = agent.locator(f"#ticket-dialog[open] .ticket[data-number='{number}']")
    card.wait_for(timeout=15_000)
    agent.click("#ticket-dialog-close")
    # the search finds it too; the update is sent from there
    agent.select_option("#ticket-search-kind", "number")
    agent.fill("#ticket-search-q", number)
    agent.click("#ticket-search-go")
    card.wait_for(timeout=15_000)
    card.locator(".progress").click()
    agent.fill("#reason-text", "装维师傅明早九点上门检修")
    agent.click("#reason-submit")
    card = agent.locator(f"#ticket-dialog[open] .ticket[data-number='{number}']")
    card.locator(".ticket__events li[data-kind='progress_update']:has-text('装维师傅明早九点上门检修')").wait_for(timeout=15_000)
    assert "进度更新" in card.locator(".ticket__events").inner_text()

    got = stack.texts(stack.say(sender, "有进展吗"))
    assert "装维师傅明早九点上门检修" in got and number in got, got
    after = stack.api("GET", f"/tickets/{number}", token).json()["ticket"]
    due = datetime.fromisoformat(after["progress_due"])
    assert due > datetime.now(timezone.utc) + timedelta(hours=23)
    assert errors == []
