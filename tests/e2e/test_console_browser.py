"""A customer in the web chat and an agent in the console, two headless Chromium contexts, talk both ways."""

from __future__ import annotations

import time

import pytest
import requests

from bot.staff import Role

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'



def webchat_session_id(stack, customer_page) -> int:
    return stack.handoff_session("webchat", customer_page.evaluate("JSON.parse(localStorage.getItem('intake.session'))"))


def customer_says(page, text: str) -> None:
    page.fill("#input", text)
    page.press("#input", "Enter")


def test_customer_and_agent_talk_both_ways(stack, console, browser):
    agent_name = console.account("chen", "小陈")
    # CSP bypassed: the escaping alone must keep customer markup inert (the CSP is a second wall).
    customer = browser.new_context(viewport={"width": 390, "height": 780}, locale="zh-CN", bypass_csp=True).new_page()
    agent = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", bypass_csp=True).new_page()
    errors = []
    agent.on("pageerror", lambda error: errors.append(str(error)))

    agent.goto(f"{stack.url}/agent/")
    agent.fill("#username", agent_name)
    agent.fill("#password", "wrong-password")
    agent.click("#login-submit")
    agent.wait_for_selector("#login-error:not(:empty)")
    agent.fill("#password", f"{agent_name}-pw")
    agent.click("#login-submit")
    agent.wait_for_selector("#app:not([hidden])")
    assert "小陈" in agent.locator("#me").inner_text()
    console.tokens.append(agent.evaluate("localStorage.getItem('agent.token')"))

    customer.goto(f"{stack.url}/chat/")
    customer.wait_for_selector("text=已连接")
    customer_says(customer, "我要转人工")
    customer.wait_for_selector(".msg--bot:has-text('排在第')", timeout=30_000)
    session_id = webchat_session_id(stack, customer)

    # the queue updates live: no reload on the agent's side
    agent.click("#tab-live")
    item = agent.locator(f".queue-item[data-session-id='{session_id}']")
    item.wait_for(timeout=15_000)
    item.locator(".accept").click()
    agent.wait_for_selector(f"#session[data-session-id='{session_id}']")
    customer.wait_for_selector(".msg:has-text('客服小陈已接入')", timeout=15_000)

    started = time.monotonic()
    customer_says(customer, "宽带从昨晚开始就上不了网")
    agent.wait_for_selector("#transcript .msg--customer:has-text('宽带从昨晚开始就上不了网')", timeout=15_000)
    latency = time.monotonic() - started
    print(f"customer message to agent screen: {latency * 1000:.0f} ms")
    assert latency < 10

    # a canned reply comes with the agent's name filled in
    agent.select_option("#canned", label="问候")
    greeting = agent.input_value("#reply-text")
    assert "客服小陈" in greeting and "{" not in greeting, greeting
    agent.fill("#reply-text", "您好，我是小陈，正在为您查询线路")
    agent.press("#reply-text", "Enter")
    reply = customer.locator(".msg--agent:has-text('正在为您查询线路')")
    reply.wait_for(timeout=15_000)
    assert "小陈" in reply.inner_text()

    # customer text is shown as text in the console: nothing in it runs
    customer_says(customer, XSS)
    agent.wait_for_selector("#transcript .msg--customer:has-text('window.__xss=1')", timeout=15_000)
    assert agent.locator("#transcript img").count() == 0
    assert agent.locator("#transcript script").count() == 0
    agent.wait_for_timeout(500)
    assert agent.evaluate("window.__xss") is None and customer.evaluate("window.__xss") is None
    assert XSS in agent.locator("#transcript .msg--customer").last.inner_text()

    # hand back to the bot; the bot answers again
    agent.click("#btn-release")
    agent.click("#confirm-ok")  # ending a chat asks first
    customer.wait_for_selector(".msg:has-text('人工服务已结束')", timeout=15_000)
    count = customer.locator(".msg--bot").count()
    customer_says(customer, "怎么查话费余额")
    customer.wait_for_function("n => document.querySelectorAll('.msg--bot').length > n", arg=count, timeout=30_000)
    assert errors == []


def test_console_assets_are_local_and_locked_down(stack):
    page = requests.get(f"{stack.url}/agent/", timeout=10)
    assert page.status_code == 200 and "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert "http://" not in page.text and "https://" not in page.text
    for asset in ("static/agent.js", "static/agent.css"):
        assert requests.get(f"{stack.url}/agent/{asset}", timeout=10).status_code == 200
    assert requests.get(f"{stack.url}/agent/static/../agent.py", timeout=10).status_code == 404
    assert requests.get(f"{stack.url}/agent/api/openapi.json", timeout=10).json()["openapi"].startswith("3.")


def test_privacy_notice_in_web_chat_and_a_request_carried_out_in_the_console(stack, console, browser):
    boss = console.account("zhou", "周主管", Role.SUPERVISOR)
    customer = browser.new_context(viewport={"width": 390, "height": 780}, locale="zh-CN").new_page()
    supervisor = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    errors = []
    supervisor.on("pageerror", lambda error: errors.append(str(error)))

    customer.goto(f"{stack.url}/chat/")
    customer.wait_for_selector("text=已连接")
    customer_says(customer, "你好")
    notice = customer.locator(".msg--bot:has-text('个人信息保护提示')")
    notice.wait_for(timeout=30_000)
    assert "/chat/privacy" in notice.inner_text()
    customer_says(customer, "请删除我的个人信息")
    customer.wait_for_selector(".msg--bot:has-text('确认后我们会在15个工作日内处理')", timeout=30_000)
    customer.click("button:has-text('确认申请')")  # the explicit yes, as a button
    customer.wait_for_selector(".msg--bot:has-text('已记录您的删除个人信息申请')", timeout=30_000)

    supervisor.goto(f"{stack.url}/agent/")
    supervisor.fill("#username", boss)
    supervisor.fill("#password", f"{boss}-pw")
    supervisor.click("#login-submit")
    supervisor.wait_for_selector("#app:not([hidden])")
    console.tokens.append(supervisor.evaluate("localStorage.getItem('agent.token')"))
    item = supervisor.locator(".privacy-item").filter(has_text="删除个人信息").first
    item.wait_for(timeout=15_000)
    item.locator(".privacy-execute").click()
    supervisor.fill("#reason-text", "网页在线申请")
    supervisor.click("#reason-submit")
    supervisor.wait_for_selector("#notice-text:has-text('已删除')", timeout=15_000)
    # The open web chat page receives the confirmation at once (socket push).
    customer.wait_for_selector(".msg:has-text('已处理完成')", timeout=15_000)
    # The access log panel shows who did it.
    supervisor.click("#access-section summary")
    supervisor.wait_for_selector(f"#access-log .access-item:has-text('{boss}')", timeout=15_000)
    assert errors == []
