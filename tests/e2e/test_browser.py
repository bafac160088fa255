"""A customer in headless Chromium (Debian's package) completes a complaint through the web chat."""

from __future__ import annotations

import re
import shutil

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 390, "height": 780}, locale="zh-CN")  # a phone
        yield context.new_page()
        context.close()
        browser.close()


def bot_messages(page):
    return page.locator(".msg--bot")


def send(page, text):
    count = bot_messages(page).count()
    page.fill("#input", text)
    page.press("#input", "Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('.msg--bot').length > n", arg=count, timeout=30_000
    )
    page.wait_for_timeout(300)  # let the rest of a multi-message answer arrive


def test_complaint_through_the_web_chat(stack, page):
    page.goto(f"{stack.url}/chat/")
    page.wait_for_selector("text=已连接")
    send(page, "家里宽带一到晚上就断网，<b>好几天了</b>")
    # the customer's own HTML is shown as text, never rendered
    assert page.locator(".msg--user b").count() == 0
    assert "<b>好几天了</b>" in page.locator(".msg--user").last.inner_text()
    send(page, "13812345678")
    page.wait_for_selector(".replies button:has-text('确认提交')")
    count = bot_messages(page).count()
    page.click(".replies button:has-text('确认提交')")
    page.wait_for_function("n => document.querySelectorAll('.msg--bot').length > n", arg=count, timeout=30_000)
    page.wait_for_timeout(500)  # a major complaint is also put through to a person right after
    confirmation = bot_messages(page).nth(count).inner_text()
    assert re.search(r"TS\d{6}-[0-9A-Z]{8}", confirmation), confirmation
    assert "网络运维部" in confirmation

    # a reload keeps the conversation: the history is shown and the session continues
    page.reload()
    page.wait_for_selector("text=已连接")
    assert re.search(r"TS\d{6}-[0-9A-Z]{8}", page.locator("#log").inner_text())
    send(page, "我的投诉处理得怎么样了")
    assert re.search(r"TS\d{6}-[0-9A-Z]{8}", bot_messages(page).last.inner_text())


def test_assets_are_served_locally(stack):
    import requests

    html = requests.get(f"{stack.url}/chat/", timeout=10).text
    assert "http://" not in html and "https://" not in html
    for asset in ("static/chat.js", "static/chat.css", "static/vendor/socket.io.min.js"):
        assert requests.get(f"{stack.url}/chat/{asset}", timeout=10).status_code == 200
    # raw paths: an HTTP client library would normalise the dots away before sending
    import http.client

    for path in ("/chat/static/../webchat.py", "/chat/static/%2e%2e/webchat.py", "/chat/static/..%2fwebchat.py"):
        connection = http.client.HTTPConnection("127.0.0.1", int(stack.url.rsplit(":", 1)[1]), timeout=10)
        connection.request("GET", path)
        answer = connection.getresponse()
        body = answer.read()
        assert answer.status == 404 and b"import" not in body, path
        connection.close()
    redirect = requests.get(f"{stack.url}/chat", allow_redirects=False, timeout=10)
    assert redirect.status_code in (301, 302) and redirect.headers["Location"].endswith("/chat/")
