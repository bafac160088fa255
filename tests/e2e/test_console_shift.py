"""An agent's shift in the console, in headless Chromium at 1280×720: a live chat is never buried under
a backlog of call-backs, an unread badge shows a message in a background chat, a reload keeps the
open chat and its draft, a second tab needs no login, the status select reaches the server, logging
out with a live chat warns and hands the chat back; and a transfer offer stays until answered."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from bot.storage.models import HandoffEventRow, HandoffSessionRow

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# Records desktop notifications instead of showing them (the permission is granted to the context).
RECORD_NOTIFICATIONS = """
window.__notes = [];
window.Notification = function (title, options) { window.__notes.push(title + ' ' + ((options && options.body) || '')); };
window.Notification.permission = 'granted';
window.Notification.requestPermission = function () { return Promise.resolve('granted'); };
"""


def wait_until(page, expression, timeout=15.0):
    """Polls `expression` from Python: the page's CSP forbids the eval that wait_for_function polls with."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {expression}"
        time.sleep(0.2)


def new_page(browser, width=1280, height=720):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    context.grant_permissions(["notifications"])
    context.add_init_script(RECORD_NOTIFICATIONS)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return context, page, errors


def add_callbacks(stack, console, count):
    """`count` call-back requests of our own customers, all due before any live chat."""
    now = datetime.now(timezone.utc)
    with console.db.transaction() as session:
        for n in range(count):
            session.add(HandoffSessionRow(
                channel="rest", channel_user_id=f"cb-{console.prefix}-{n}", status="callback", reason="回电测试",
                severity="general", requested_at=now - timedelta(hours=2), due=now - timedelta(hours=1),
                callback_due=now - timedelta(minutes=30) + timedelta(seconds=n), updated_at=now,
            ))


def remove_callbacks(console):
    with console.db.transaction() as session:
        session.execute(
            sa.update(HandoffSessionRow)
            .where(HandoffSessionRow.channel_user_id.like(f"cb-{console.prefix}-%"), HandoffSessionRow.status == "callback")
            .values(status="cancelled")
            .execution_options(synchronize_session=False)
        )


def test_a_shift_live_chat_first_unread_reload_draft_status_and_hand_back(stack, console, browser):
    agent = console.account("shift", "小班")
    add_callbacks(stack, console, 300)
    try:
        context, page, errors = new_page(browser)
        console.sign_in(page, agent)

        # 300 call-backs are on their own tab, a page at a time
        page.click("#tab-callback")
        wait_until(page, "Number(document.getElementById('callback-count').textContent) >= 300", 15)
        assert page.locator("#callbacks .queue-item").count() <= 20
        assert page.locator("#callback-pager").is_visible()

        # a new live chat: at the top of 排队中, visible without scrolling, and announced
        page.click("#tab-live")
        first, second = uuid.uuid4().hex, uuid.uuid4().hex
        stack.say(first, "我要转人工")
        first_id = stack.handoff_session("rest", first)
        item = page.locator(f"#queue .queue-item[data-session-id='{first_id}']")
        item.wait_for(timeout=15_000)
        box = item.bounding_box()
        assert box and box["y"] + box["height"] <= 720, box
        wait_until(page, "window.__notes.some(n => n.includes('新客户在排队'))", 10)
        assert "新客户在排队" in page.title() or "排队" in page.title()

        # 接入: the chat opens and the reply box has the focus (L1)
        item.locator(".accept").click()
        page.wait_for_selector(f"#session[data-session-id='{first_id}']")
        wait_until(page, "document.activeElement && document.activeElement.id === 'reply-text'", 10)

        stack.say(second, "我要转人工")
        second_id = stack.handoff_session("rest", second)
        page.click("#tab-live")
        page.locator(f"#queue .queue-item[data-session-id='{second_id}'] .accept").click()
        page.wait_for_selector(f"#session[data-session-id='{second_id}']")
        page.click(f"#my-sessions .session-item[data-session-id='{first_id}']")
        page.wait_for_selector(f"#session[data-session-id='{first_id}']")

        # the layout at 1280×720: the transcript keeps its room, nothing scrolls sideways
        height = page.evaluate("document.getElementById('transcript').clientHeight")
        assert height >= 280, height
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")

        # the background chat's customer writes: unread badge, preview, waiting time, notification
        stack.say(second, "喂？人呢？")
        background = page.locator(f"#my-sessions .session-item[data-session-id='{second_id}']")
        background.locator(".unread").wait_for(timeout=15_000)
        assert background.locator(".unread").inner_text() == "1"
        assert "喂？人呢？" in background.locator(".item__last").inner_text()
        assert "客户等待回复" in background.inner_text()
        assert page.locator("#my-sessions .session-item").first.get_attribute("data-session-id") == str(second_id)
        wait_until(page, "window.__notes.some(n => n.includes('人呢'))", 10)

        # a draft and a reload: the same chat opens again with the draft; a second tab is logged in
        page.fill("#reply-text", "稍等，我正在查")
        page.reload()
        page.wait_for_selector(f"#session[data-session-id='{first_id}']", timeout=15_000)
        assert page.input_value("#reply-text") == "稍等，我正在查"
        assert f"session={first_id}" in page.url
        tab = context.new_page()
        tab.goto(f"{stack.url}/agent/")
        tab.wait_for_selector("#app:not([hidden])", timeout=15_000)
        assert tab.locator("#login").is_hidden()
        tab.close()

        # 示忙: the server knows, and the select shows it
        page.select_option("#my-status", "busy")
        page.wait_for_selector("#notice-text:has-text('不再为您分配新的客户')", timeout=10_000)
        token = console.tokens[-1]
        assert stack.api("GET", "/me", token).json()["status"] == "busy"
        page.select_option("#my-status", "online")
        page.wait_for_selector("#notice-text:has-text('已切换为在线')", timeout=10_000)

        # logging out with live chats warns, and the hand-back requeues at once with the customer told
        page.click("#logout")
        page.wait_for_selector("#logout-dialog[open]")
        assert page.locator("#logout-sessions li").count() == 2
        page.click("#logout-handback")
        page.wait_for_selector("#login-error:has-text('已将 2 个会话交还队列')", timeout=15_000)
        # the explicit logout leaves no draft behind for the next person at this desk
        assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('agent.draft.'))") == []
        with console.db.transaction() as session:
            rows = session.execute(
                sa.select(HandoffSessionRow.status, HandoffSessionRow.agent)
                .where(HandoffSessionRow.id.in_([first_id, second_id]))
            ).all()
            requeued = session.execute(
                sa.select(HandoffEventRow.session_id).where(
                    HandoffEventRow.session_id.in_([first_id, second_id]), HandoffEventRow.kind == "requeued",
                    HandoffEventRow.detail == "agent handed back at logout",
                )
            ).scalars().all()
        assert sorted(requeued) == sorted([first_id, second_id]), requeued
        # Back in the queue without an agent; the half-minute sweep may already have offered a call-back
        # instead, since nobody is online any more (that is the product working, not a lost chat).
        assert all(status in ("waiting", "callback") and agent is None for status, agent in rows), rows
        assert "重新排队" in stack.texts(stack.say(first, "还在吗？"))
        assert errors == []
        context.close()
    finally:
        remove_callbacks(console)


def test_a_transfer_offer_stays_until_answered_and_the_sender_sees_it_done(stack, console, browser):
    sender_name, receiver_name = console.account("giver", "小王"), console.account("taker", "小李")
    a_context, a, a_errors = new_page(browser, 1440, 900)
    b_context, b, b_errors = new_page(browser, 1440, 900)
    console.sign_in(a, sender_name)
    console.sign_in(b, receiver_name)
    customer = uuid.uuid4().hex
    stack.say(customer, "我要转人工")
    session_id = stack.handoff_session("rest", customer)
    a.click("#tab-live")
    a.locator(f"#queue .queue-item[data-session-id='{session_id}'] .accept").click()
    a.wait_for_selector(f"#session[data-session-id='{session_id}']")
    wait_until(a, f"[...document.querySelectorAll('#transfer-to option')].some(o => o.value === '{receiver_name}')")
    a.select_option("#transfer-to", receiver_name)
    a.click("#btn-transfer")
    a.fill("#reason-text", "客户要办宽带，转给宽带组")
    a.click("#reason-submit")

    offer = b.locator(f".offer[data-session-id='{session_id}']")
    offer.wait_for(timeout=15_000)
    assert "小王" in offer.inner_text() and "客户要办宽带，转给宽带组" in offer.inner_text()
    wait_until(b, "window.__notes.some(n => n.includes('转交请求'))", 10)
    b.wait_for_timeout(9_000)  # longer than an info notice lives
    assert offer.is_visible()
    offer.locator(".offer__accept").click()
    b.wait_for_selector(f"#session[data-session-id='{session_id}']", timeout=15_000)
    offer.wait_for(state="detached", timeout=15_000)

    a.wait_for_selector("#notice-text:has-text('已转交给 小李')", timeout=15_000)
    assert a.locator(".notice--error").count() == 0
    assert a_errors == [] and b_errors == []
    stack.api("POST", f"/sessions/{session_id}/close", console.tokens[-1])
    a_context.close()
    b_context.close()
