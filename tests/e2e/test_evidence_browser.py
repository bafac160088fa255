"""A customer attaches a screenshot in the web chat; the agent sees its thumbnail in the console's
transcript and opens it full size; the stored file has lost its EXIF GPS tag; the view is on record.

Also measures the acceptance figure: from the customer's file choice to the thumbnail visible in the
agent's console (printed; run with -s to see it)."""

from __future__ import annotations

import time

import pytest

from tests.e2e.evidence_support import access_rows, has_gps, jpeg_with_gps

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def customer_says(page, text: str) -> None:
    page.fill("#input", text)
    page.press("#input", "Enter")


def test_customer_screenshot_reaches_the_agents_console_without_its_location(stack, console, browser, tmp_path):
    agent_name = console.account("evid-agent", "小赵")
    customer = browser.new_context(viewport={"width": 390, "height": 780}, locale="zh-CN").new_page()
    agent = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    errors: list = []
    customer.on("pageerror", lambda error: errors.append(f"chat: {error}"))
    agent.on("pageerror", lambda error: errors.append(f"console: {error}"))

    token = console.sign_in(agent, agent_name)
    customer.goto(f"{stack.url}/chat/")
    customer.wait_for_selector("text=已连接")
    customer_says(customer, "我要转人工")
    customer.wait_for_selector(".msg--bot:has-text('排在第')", timeout=30_000)
    session_id = stack.handoff_session("webchat", customer.evaluate("JSON.parse(localStorage.getItem('intake.session'))"))
    agent.click("#tab-live")
    item = agent.locator(f".queue-item[data-session-id='{session_id}']")
    item.wait_for(timeout=15_000)
    item.locator(".accept").click()
    agent.wait_for_selector(f"#session[data-session-id='{session_id}']")
    customer.wait_for_selector(".msg:has-text('客服小赵已接入')", timeout=15_000)

    screenshot = tmp_path / "账单截图.jpg"
    screenshot.write_bytes(jpeg_with_gps())
    # The 📎 button, by its accessible name, opens the file chooser.
    with customer.expect_file_chooser() as chooser:
        customer.get_by_role("button", name="发送图片或文件").click()
    started = time.monotonic()
    chooser.value.set_files(str(screenshot))

    # The customer sees the picture in the conversation, then that it was sent to the agent.
    customer.wait_for_selector(".msg--user.msg--file img.msg__thumb", timeout=10_000)
    customer.wait_for_selector(".msg--file.msg--sent .msg__status:has-text('已发送')", timeout=15_000)
    customer.wait_for_selector(".msg--system:has-text('已发送给客服')", timeout=5_000)
    assert customer.evaluate("document.querySelector('img.msg__thumb').naturalWidth") > 0

    # The agent's transcript shows the thumbnail, fetched with the token (a blob: URL), decoded.
    thumb = agent.locator("#transcript .msg--attachment img.attachment__thumb")
    agent.wait_for_function(
        "() => { const i = document.querySelector('#transcript .msg--attachment img.attachment__thumb');"
        " return !!(i && i.src.startsWith('blob:') && i.complete && i.naturalWidth > 0); }",
        timeout=15_000,
    )
    latency = time.monotonic() - started
    print(f"\nupload to thumbnail visible in the console: {latency * 1000:.0f} ms")
    assert latency < 10
    attachment_id = agent.get_attribute("#transcript .msg--attachment", "data-attachment-id")
    assert attachment_id
    # ...beside the line the upload left in the conversation.
    agent.wait_for_selector("#transcript .msg--customer:has-text('[图片] 账单截图.jpg')", timeout=5_000)

    # Full size in a viewer dialog; Esc closes it.
    thumb.click()
    agent.wait_for_function(
        "() => { const i = document.getElementById('attachment-viewer-img');"
        " return document.getElementById('attachment-viewer').open && i.src.startsWith('blob:') && i.naturalWidth >= 640; }",
        timeout=10_000,
    )
    agent.keyboard.press("Escape")
    # Closed, and its object URL released (the dialog's close event comes just after it closed).
    agent.wait_for_function(
        "() => !document.getElementById('attachment-viewer').open"
        " && !document.getElementById('attachment-viewer-img').hasAttribute('src')",
        timeout=5_000,
    )

    # What is stored (read back through the console's route) no longer says where it was taken.
    stored = stack.api("GET", f"/attachments/{attachment_id}", token)
    assert stored.status_code == 200
    assert not has_gps(stored.content) and b"TestPhone" not in stored.content

    # Both views are in the access log.
    targets = {row.target for row in access_rows(stack, agent_name)}
    assert {f"{attachment_id}/thumbnail", f"{attachment_id}/full"} <= targets
    assert errors == []
