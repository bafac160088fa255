"""A supervisor in headless Chromium sees an incident appear live and closes it from the panel."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from bot.categories import Category
from bot.staff import Role
from bot.storage.database import Database
from bot.storage.models import HandoffMessageRow
from bot.tickets import Customer, Status, TicketService

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

XSS = '<img src=x onerror="window.__xss=1">'



def test_supervisor_sees_the_incident_live_and_closes_it(stack, console, browser):
    boss = console.account("zhao", "赵主管", Role.SUPERVISOR)
    token = console.login(console.account("qian", "钱主管", Role.SUPERVISOR))
    page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", bypass_csp=True).new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{stack.url}/agent/")
    page.fill("#username", boss)
    page.fill("#password", f"{boss}-pw")
    page.click("#login-submit")
    page.wait_for_selector("#incidents-section:not([hidden])")
    console.tokens.append(page.evaluate("localStorage.getItem('agent.token')"))

    # Another supervisor opens an incident and links two customers' tickets; the panel updates without a reload.
    area = "测试" + uuid.uuid4().hex[:6] + "大厦"
    r = stack.api("POST", "/incidents", token, json={"area": area, "symptom": "no_signal", "eta_hours": 3, "note": XSS})
    assert r.status_code == 201, r.text
    number = r.json()["incident"]["number"]
    db = Database(stack.ticket_db)
    tickets = TicketService(db)
    customers = [Customer("rest", f"tower-{uuid.uuid4().hex[:8]}") for _ in range(2)]
    for i, who in enumerate(customers):
        ticket = tickets.open_complaint(who, Category.NETWORK, f"{area}手机没信号", f"1370000{i:04d}")[0]
        assert stack.api("POST", f"/incidents/{number}/link", token, json={"ticket": ticket.number}).status_code == 200

    item = page.locator(f".incident-item[data-incident='{number}']")
    item.wait_for(timeout=15_000)
    page.wait_for_selector(f"#incident-banner:has-text('{area}')", timeout=15_000)
    page.wait_for_selector(f".incident-item[data-incident='{number}'] .incident-counts:has-text('已关联 2 张工单')", timeout=35_000)
    assert XSS in item.inner_text()  # the note is text, never markup
    assert page.evaluate("window.__xss") is None

    item.locator(".incident-close").click()
    page.fill("#reason-text", "大厦机房断电已恢复")
    page.click("#reason-submit")
    page.wait_for_selector("#notice-text:has-text('已通知 2 位客户')", timeout=15_000)
    page.wait_for_selector(f".incident-item.closed[data-incident='{number}']", timeout=15_000)
    assert page.locator("#incident-banner").is_hidden() or area not in page.locator("#incident-banner").inner_text()

    for who in customers:
        assert tickets.list_for(who)[0].status is Status.RESOLVED
        with db.transaction() as session:
            texts = session.execute(
                sa.select(HandoffMessageRow.text).where(
                    HandoffMessageRow.channel_user_id == who.user_id, HandoffMessageRow.to_customer.is_(True)
                )
            ).scalars().all()
        assert sum("已经修复" in t and "大厦机房断电已恢复" in t for t in texts) == 1
    db.dispose()
    assert not errors, errors
