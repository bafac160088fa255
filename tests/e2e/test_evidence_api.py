"""Evidence over HTTP: the web chat's upload route (credential, limits, hostile files) and the
console's attachment routes (who may fetch, headers, the access log), against the real stack."""

from __future__ import annotations

import io
import uuid

import pytest
import requests

from bot.chat_sessions import ChatSessions
from bot.staff import Role
from bot.storage.database import Database
from tests.polling import wait_for
from tests.e2e.evidence_support import (
    access_rows, has_gps, is_chinese, jpeg_with_gps, open_conversation, pdf_bytes, upload,
)

pytestmark = pytest.mark.e2e

MB = 1024 * 1024


def test_upload_refuses_unknown_sessions_oversized_and_hostile_files(stack):
    # The hub migrates the store once the server is up: a first request may come before (503).
    wait_for(lambda: upload(stack.url, uuid.uuid4().hex, b"x").status_code != 503, what="the store migrated")
    # No credential, a made-up one, and one that is no id at all: 403 with a sentence for the customer.
    for session_id in (None, uuid.uuid4().hex, "../../etc/passwd"):
        r = upload(stack.url, session_id, jpeg_with_gps())
        assert r.status_code == 403, r.text
        assert is_chinese(r.json()["message"])

    ended = open_conversation(stack.url)
    db = Database(stack.ticket_db)
    try:
        ChatSessions(db).end(ended)  # 新对话 on the page ends the old conversation
    finally:
        db.dispose()
    r = upload(stack.url, ended, jpeg_with_gps())
    assert r.status_code == 403 and is_chinese(r.json()["message"])

    session_id = open_conversation(stack.url)
    # Over 5 MB: refused without reading it all (413), announced by its length or found while streaming.
    big = b"\xff\xd8\xff" + b"\0" * (5 * MB)
    r = upload(stack.url, session_id, big)
    assert r.status_code == 413, r.text
    assert "5 MB" in r.json()["message"] and is_chinese(r.json()["message"])
    r = upload(stack.url, session_id, iter([big[i:i + 256 * 1024] for i in range(0, len(big), 256 * 1024)]))
    assert r.status_code == 413, r.text  # chunked: no Content-Length, the stream is cut at the limit

    # Bigger than the app's 1 MB body cap and within 5 MB: the streamed route takes it.
    from PIL import Image

    noisy = io.BytesIO()
    Image.effect_noise((1400, 1400), 80).convert("RGB").save(noisy, "PNG")
    assert 1 * MB < len(noisy.getvalue()) < 5 * MB
    r = upload(stack.url, session_id, noisy.getvalue(), "image/png", "speedtest.png")
    assert r.status_code == 201, r.text

    # Hostile files: the attachment service's refusal, as a Chinese sentence (422).
    for body, kind in (
        (b"<html><script>alert(1)</script></html>", "text/html"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png"),  # a PNG signature and nothing else
        (b"MZ\x90\x00" + b"\0" * 200, "image/jpeg"),        # a program calling itself a picture
    ):
        r = upload(stack.url, session_id, body, kind, "x.jpg")
        assert r.status_code == 422, (kind, r.text)
        assert is_chinese(r.json()["message"]), r.text
    # An empty file is no evidence.
    r = upload(stack.url, session_id, b"", "image/jpeg")
    assert r.status_code == 422 and is_chinese(r.json()["message"])


def test_agents_fetch_attachments_of_their_customers_only(stack, console):
    holder = console.account("evid-holder", "小林")
    stranger = console.account("evid-stranger", "小吴")
    boss = console.account("evid-boss", "吴主管", Role.SUPERVISOR)
    holder_token, stranger_token, boss_token = console.login(holder), console.login(stranger), console.login(boss)

    session_id = open_conversation(stack.url, ["我要转人工"], until="排在第")
    handoff = stack.handoff_session("webchat", session_id)
    assert stack.api("POST", f"/sessions/{handoff}/accept", holder_token).status_code == 200

    r = upload(stack.url, session_id, jpeg_with_gps(), name="账单截图.jpg")
    assert r.status_code == 201, r.text
    sent = r.json()
    assert sent["kind"] == "image" and sent["id"] and is_chinese(sent["text"])
    assert sent["announced"] == "agent"  # in a live chat the agent gets it, the bot stays silent
    attachment = sent["id"]

    # The transcript shows the upload line and lists the attachment to place by time.
    transcript = stack.api("GET", f"/sessions/{handoff}/transcript", holder_token).json()
    assert any("[图片] 账单截图.jpg" in m["text"] for m in transcript["messages"])
    listed = [a for a in transcript["attachments"] if a["id"] == attachment]
    assert listed and listed[0]["thumbnail_url"] == f"/attachments/{attachment}/thumbnail"

    full = stack.api("GET", f"/attachments/{attachment}", holder_token)
    assert full.status_code == 200
    assert full.headers["Content-Type"] == listed[0]["mime"]
    assert full.headers["X-Content-Type-Options"] == "nosniff"
    assert full.headers["Cache-Control"] == "private, no-store"
    assert not has_gps(full.content)
    thumb = stack.api("GET", f"/attachments/{attachment}/thumbnail", holder_token)
    assert thumb.status_code == 200 and thumb.headers["Content-Type"] == "image/jpeg"
    from PIL import Image

    with Image.open(io.BytesIO(thumb.content)) as image:
        assert max(image.size) <= 320

    # Not this agent's customer: the same answer as no such file; a supervisor may.
    for path in (f"/attachments/{attachment}", f"/attachments/{attachment}/thumbnail"):
        assert stack.api("GET", path, stranger_token).status_code == 404
        assert stack.api("GET", path).status_code == 401
    assert stack.api("GET", "/attachments/no-such-attachment", boss_token).status_code == 404
    assert stack.api("GET", f"/attachments/{attachment}", boss_token).status_code == 200

    # Every view is on record, the full-size one apart from the thumbnail; the stranger read nothing.
    targets = {row.target for row in access_rows(stack, holder)}
    assert {f"{attachment}/full", f"{attachment}/thumbnail"} <= targets
    assert access_rows(stack, stranger) == []
    assert {row.target for row in access_rows(stack, boss)} == {f"{attachment}/full"}

    # A PDF: a download, never shown inline, and no thumbnail.
    r = upload(stack.url, session_id, pdf_bytes(), "application/pdf", "发票.pdf")
    assert r.status_code == 201, r.text
    pdf = r.json()["id"]
    got = stack.api("GET", f"/attachments/{pdf}", holder_token)
    assert got.status_code == 200 and got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("attachment")
    assert stack.api("GET", f"/attachments/{pdf}/thumbnail", holder_token).status_code == 404


def test_upload_page_assets_and_csp(stack):
    page = requests.get(f"{stack.url}/chat/", timeout=10)
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "blob:" in csp.split("img-src", 1)[1].split(";", 1)[0]
    html = page.content.decode("utf-8")
    assert 'aria-label="发送图片或文件"' in html and "static/chat_upload.js" in html
    assert requests.get(f"{stack.url}/chat/static/chat_upload.js", timeout=10).status_code == 200


def test_a_file_held_before_the_complaint_is_on_the_ticket_once_filed(stack, console):
    from bot.categories import Category
    from bot.tickets import Customer, TicketService

    stranger = console.login(console.account("evid-other"))
    boss = console.login(console.account("evid-lead", "郑主管", Role.SUPERVISOR))
    session_id = open_conversation(stack.url)

    # No complaint yet and no agent: held for the next complaint, the bot says so in the chat.
    r = upload(stack.url, session_id, jpeg_with_gps(), name="测速.jpg")
    assert r.status_code == 201, r.text
    held = r.json()
    assert held["ticket"] is None and held["announced"] == "chat" and "登记投诉" in held["text"]
    assert stack.api("GET", f"/attachments/{held['id']}/thumbnail", stranger).status_code == 404
    assert stack.api("GET", f"/attachments/{held['id']}/thumbnail", boss).status_code == 200

    db = Database(stack.ticket_db)
    try:
        ticket, _ = TicketService(db).open_complaint(
            Customer("webchat", session_id), Category.NETWORK, "宽带每天晚上九点以后网速很慢", None
        )
    finally:
        db.dispose()
    # Filed: the ticket view lists it; a later file goes straight onto the ticket.
    r = upload(stack.url, session_id, jpeg_with_gps(), name="第二张.jpg")
    assert r.status_code == 201 and r.json()["ticket"] == ticket.number and ticket.number in r.json()["text"]
    shown = stack.api("GET", f"/tickets/{ticket.number}", boss).json()["ticket"]
    assert {a["id"] for a in shown["attachments"]} == {held["id"], r.json()["id"]}
    assert all(a["ticket"] == ticket.number for a in shown["attachments"])
    # Lists and searches do not carry them.
    found = stack.api("GET", "/tickets", boss, params={"kind": "number", "q": ticket.number}).json()["tickets"]
    assert found and "attachments" not in found[0]
    # The ticket is as closed to the stranger as its files are.
    assert stack.api("GET", f"/attachments/{held['id']}", stranger).status_code == 404
