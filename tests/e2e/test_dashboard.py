"""The supervisors' dashboard against the real servers: conversations through the REST channel show up
in /agent/api/stats, its CSV and the page (headless Chromium), and only supervisors see them."""

from __future__ import annotations

import csv
import io
import random
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

from bot.staff import Role
from bot.ticket_numbers import BEIJING

pytestmark = pytest.mark.e2e

SCREENSHOT = "/tmp/dashboard.png"


def days() -> str:
    """Yesterday and today in Beijing: safe when the test runs across midnight."""
    today = datetime.now(timezone.utc).astimezone(BEIJING).date()
    return f"from={today - timedelta(days=1)}&to={today}"


def figures(stack, token, extra: str = "") -> dict:
    r = stack.api("GET", f"/stats?{days()}{extra}", token)
    assert r.status_code == 200, r.text
    return r.json()


def hold_conversations(stack) -> dict:
    """Four customers through the REST channel; returns what the figures should add up to."""
    complaint, consult, human, unsure = (uuid.uuid4().hex for _ in range(4))
    # a number of its own: the same phone and category as an earlier test's would make it a repeat
    # complaint (major), which goes to a person by itself
    phone = "139" + "".join(random.choice("0123456789") for _ in range(8))
    gibberish = "阿巴阿巴咕噜咕噜"
    to_the_bot = ["家里宽带这两天老是断网，晚上根本没法用", phone, "确认", "怎么查话费余额", "我要转人工", gibberish]
    # what the model makes of each message, independently of the figures
    parsed = [stack.parse(text)["intent"] for text in to_the_bot]
    assert "手机号" in stack.texts(stack.say(complaint, to_the_bot[0]))
    stack.say(complaint, phone)
    assert "登记成功" in stack.texts(stack.say(complaint, "确认"))
    stack.say(consult, "怎么查话费余额")
    assert "排" in stack.texts(stack.say(human, "我要转人工"))  # queued: the supervisor is online
    stack.say(human, "取消")  # leaves the queue; goes to the handoff gate, not to the bot
    stack.say(unsure, gibberish)
    return {
        "filed": 2, "network": 1, "conversations": 4, "handoff": 1, "messages": 6,
        "low": sum(1 for p in parsed if p["confidence"] < 0.6),
        "fallback": sum(1 for p in parsed if p["name"] == "nlu_fallback"),
    }


def test_supervisors_get_the_figures_as_json_and_csv_and_agents_do_not(stack, console):
    boss = console.login(console.account("boss", "周主管", Role.SUPERVISOR))
    agent = console.login(console.account("agent", "小周"))
    before = figures(stack, boss)
    expected = hold_conversations(stack)
    after = figures(stack, boss)

    def grew(path: str) -> int:
        def get(data):
            for key in path.split("."):
                data = data[key]
            return data

        return get(after) - get(before)

    assert grew("tickets.filed") == expected["filed"]
    assert grew("tickets.by_category.network") == expected["network"]
    assert grew("bot.conversations") == expected["conversations"]
    assert grew("bot.handoff.count") == expected["handoff"]
    assert grew("bot.containment.count") == expected["conversations"] - expected["handoff"]
    assert grew("bot.handoff_requested") == 1 and grew("bot.handoff_cancelled") == 1
    assert grew("bot.messages") == expected["messages"]
    assert grew("bot.fallback.count") == expected["fallback"]
    assert grew("bot.low_confidence_count") == expected["low"]
    assert after["bot"]["available"] is True
    assert sum(count for _, count in after["bot"]["intents"]) == after["bot"]["messages"]
    assert after["tickets"]["filed"] == sum(day["total"] for day in after["tickets"]["by_day"])

    # the channel filter: nothing of these REST conversations is on the web chat
    web = figures(stack, boss, "&channel=webchat")
    rest = figures(stack, boss, "&channel=rest")
    assert rest["bot"]["conversations"] + web["bot"]["conversations"] <= after["bot"]["conversations"]
    assert rest["tickets"]["filed"] >= expected["filed"]

    r = stack.api("GET", f"/stats.csv?{days()}", boss)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert r.headers["Content-Disposition"].startswith('attachment; filename="service-figures_')
    assert r.content.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["section", "metric", "key", "value", "说明"]
    values = {(s, m, k): v for s, m, k, v, _ in rows[1:]}
    assert values[("tickets", "filed", "")] == str(after["tickets"]["filed"])
    assert values[("bot", "conversations", "")] == str(after["bot"]["conversations"])
    assert "受理工单数" in r.content.decode("utf-8-sig")

    for path in ("/stats", "/stats.csv"):
        forbidden = stack.api("GET", f"{path}?{days()}", agent)
        assert forbidden.status_code == 403 and forbidden.json()["error"] == "forbidden"
        assert stack.api("GET", path).status_code == 401
    for query, message in (
        ("from=2026-11-22&to=2026-11-21", "开始日期不能晚于结束日期"),
        ("from=2026-13-01", "开始日期格式应为 YYYY-MM-DD"),
        ("from=2025-01-01&to=2026-11-21", "统计区间最长366天"),
        ("channel=%3Cscript%3E", "渠道名称无效"),
    ):
        bad = stack.api("GET", f"/stats?{query}", boss)
        assert bad.status_code == 400 and message in bad.json()["message"], bad.text
    assert stack.api("GET", "/stats.csv?to=yesterday", boss).status_code == 400



@pytest.mark.browser
def test_a_supervisor_sees_the_dashboard_with_the_conversations_just_held(stack, console, browser):
    boss = console.account("lin", "林主管", Role.SUPERVISOR)
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    console.sign_in(page, boss)
    hold_conversations(stack)  # with the supervisor online, the request for a person is queued
    page.click("#dashboard-link")
    page.wait_for_selector("#dash[aria-busy='false']", timeout=30_000)
    shown = page.evaluate("new URLSearchParams(location.search).toString()")
    expected = stack.api("GET", f"/stats?{shown}", console.tokens[-1]).json()

    assert page.inner_text("[data-metric='tickets.filed'] .tile__value") == str(expected["tickets"]["filed"])
    assert page.inner_text("[data-metric='bot.conversations'] .tile__value") == str(expected["bot"]["conversations"])
    share = expected["bot"]["containment"]["share"]
    assert page.inner_text("[data-metric='bot.containment'] .tile__value") == f"{share * 100:.1f}%"
    for chart in ("chart-days", "chart-categories", "chart-response", "chart-intents", "chart-handoff", "chart-scores"):
        svg = page.locator(f"#{chart} svg[role='img']")
        assert svg.count() == 1 and svg.get_attribute("aria-label"), chart
    assert page.locator("#chart-days svg rect").count() >= 1  # this week's tickets are drawn
    assert page.locator("#agents-table tbody tr").count() >= 1
    if expected["bot"]["low_confidence"]:
        assert page.locator("#low-table tbody tr").count() == len(expected["bot"]["low_confidence"])

    page.select_option("#channel", "webchat")  # the filter reloads the figures
    page.wait_for_function("location.search.includes('channel=webchat')")
    page.wait_for_selector("#dash[aria-busy='false']")
    web = stack.api("GET", "/stats?" + page.evaluate("new URLSearchParams(location.search).toString()"), console.tokens[-1]).json()
    assert page.inner_text("[data-metric='tickets.filed'] .tile__value") == str(web["tickets"]["filed"])
    page.select_option("#channel", "")
    page.wait_for_function("!location.search.includes('channel=')")
    page.wait_for_selector("#dash[aria-busy='false']")

    with page.expect_download() as download:
        page.click("#csv")
    assert download.value.suggested_filename.startswith("service-figures_")
    assert open(download.value.path(), "rb").read().startswith(b"\xef\xbb\xbf")

    page.screenshot(path=SCREENSHOT, full_page=True)
    assert errors == []
    context.close()


@pytest.mark.browser
def test_agents_have_no_dashboard(stack, console, browser):
    agent = console.account("wu", "小吴")
    page = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN").new_page()
    console.sign_in(page, agent)
    assert page.locator("#dashboard-link").is_hidden()
    page.goto(f"{stack.url}/agent/dashboard")
    page.wait_for_selector("#notice:not([hidden])")
    assert "只对主管开放" in page.inner_text("#notice")
    assert page.locator("#dash").is_hidden()
    page.context.close()


def test_the_page_and_its_assets_are_served_locally(stack):
    page = requests.get(f"{stack.url}/agent/dashboard", timeout=10)
    assert page.status_code == 200 and "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert "http://" not in page.text and "https://" not in page.text
    for asset in ("static/dashboard.js", "static/dashboard.css"):
        r = requests.get(f"{stack.url}/agent/{asset}", timeout=10)
        assert r.status_code == 200 and "http://" not in r.text.replace("http://www.w3.org/2000/svg", "")
    assert requests.get(f"{stack.url}/agent/dashboard/", timeout=10, allow_redirects=False).status_code in (301, 302)
