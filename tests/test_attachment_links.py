"""Signed attachment links (bot/attachments/signing.py) and the evidence in the backend's push."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from bot.attachments import AttachmentService, DatabaseStore, UrlSigner, url_secret
from bot.categories import Category
from bot.errors import Forbidden
from bot.outbox import OutboxDispatcher, Settings
from bot.privacy.retention import Retention
from bot.storage.models import AttachmentLinkUseRow
from bot.tickets import Customer, TicketService
from tests.attachment_samples import jpeg

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc)


def _parts(url: str):
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    return parts.path.rsplit("/", 1)[-1], query["expires"][0], query["n"][0], query["sig"][0]


def test_a_signature_holds_within_its_lifetime_and_is_refused_after_it_or_when_tampered():
    signer = UrlSigner("s" * 32, "https://example.com/", lifetime=3600)
    url, expires_at = signer.sign("abcdefgh12345678", T0)
    assert url.startswith("https://example.com/api/attachments/abcdefgh12345678?expires=")
    assert expires_at == T0 + timedelta(hours=1)
    attachment_id, expires, nonce, sig = _parts(url)
    assert signer.check(attachment_id, expires, nonce, sig, T0 + timedelta(minutes=59)) == expires_at
    with pytest.raises(Forbidden, match="expired"):
        signer.check(attachment_id, expires, nonce, sig, T0 + timedelta(hours=1, seconds=1))
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    for bad in (("abcdefgh12345679", expires, nonce, sig), (attachment_id, str(int(expires) + 60), nonce, sig),
                (attachment_id, expires, nonce[:-1] + ("0" if nonce[-1] != "0" else "1"), sig), (attachment_id, expires, "", sig),
                (attachment_id, expires, nonce, flipped), (attachment_id, "soon", nonce, sig),
                (attachment_id, expires, nonce, ""), (attachment_id, expires, nonce, "é")):
        with pytest.raises(Forbidden):
            signer.check(*bad, T0)
    with pytest.raises(Forbidden):  # another secret
        UrlSigner("t" * 32, "https://example.com").check(attachment_id, expires, nonce, sig, T0)
    assert signer.sign("abcdefgh12345678", T0)[0] != url  # the same second, another link


def test_a_link_works_once_then_is_refused_and_its_record_goes_when_it_expires(db):
    now = [T0]
    signer = UrlSigner("k" * 32, "https://example.com")
    attachments = AttachmentService(db, DatabaseStore(db), signer, clock=lambda: now[0])
    stored = attachments.accept(Customer("telegram", "once-1"), jpeg(), source="telegram").attachment
    first, _ = signer.sign(stored.id, T0)
    second, _ = signer.sign(stored.id, T0)  # signed in the same second: a link of its own
    assert attachments.check_link(*_parts(first)).id == stored.id
    with pytest.raises(Forbidden, match="already used"):
        attachments.check_link(*_parts(first))
    assert attachments.check_link(*_parts(second), now=T0 + timedelta(minutes=30)).id == stored.id
    with pytest.raises(Forbidden, match="already used"):
        attachments.check_link(*_parts(second), now=T0 + timedelta(minutes=31))
    unused, _ = signer.sign(stored.id, T0)
    with pytest.raises(Forbidden, match="expired"):  # an unused link still expires
        attachments.check_link(*_parts(unused), now=T0 + timedelta(hours=2))

    def count():
        with db.transaction() as session:
            return session.execute(sa.select(sa.func.count()).select_from(AttachmentLinkUseRow)).scalar_one()

    assert count() == 2
    now[0] = T0 + timedelta(minutes=59)
    assert Retention(db, None, days=180, clock=lambda: now[0], files=attachments).purge()["spent_links"] == 0
    now[0] = T0 + timedelta(hours=1, seconds=1)
    assert Retention(db, None, days=180, clock=lambda: now[0], files=attachments).purge()["spent_links"] == 2
    assert count() == 0
    with pytest.raises(Forbidden, match="expired"):  # the record is gone, the expiry still refuses it
        attachments.check_link(*_parts(first), now=now[0])


def test_the_secret_comes_from_the_setting_the_backend_key_or_a_kept_file(tmp_path):
    assert url_secret("explicit-secret-123") == "explicit-secret-123"
    derived = url_secret("", "backend-api-key-0123456789")
    assert derived != "backend-api-key-0123456789" and derived == url_secret("", "backend-api-key-0123456789")
    assert url_secret("", "", "push-secret-0123456789") != derived
    kept = tmp_path / "data" / "attachment-url.key"
    first = url_secret("", keep=kept)
    assert len(first) == 64 and url_secret("", keep=kept) == first and oct(kept.stat().st_mode)[-3:] == "600"


def test_pushed_events_carry_the_ticket_evidence_with_links_signed_when_sent(db):
    tickets = TicketService(db)
    attachments = AttachmentService(db, DatabaseStore(db), UrlSigner("k" * 32, "https://example.com"))
    customer = Customer("telegram", "links-1")
    ticket, _ = tickets.open_complaint(customer, Category.BILLING, "话费多扣了", "13800138000")
    stored = attachments.accept(customer, jpeg(), source="telegram").attachment
    sent = []

    def sender(url, body, headers, timeout):
        sent.append(json.loads(body))
        return True, ""

    dispatcher = OutboxDispatcher(db, Settings("https://example.com/events", "x" * 32), sender=sender,
                                  attachments=attachments.documents)
    dispatcher.drain()
    kinds = [event["kind"] for event in sent if event["ticket"]["number"] == ticket.number]
    assert kinds == ["created", "dispatched", "evidence"]
    for event in sent:
        [link] = event["ticket"]["attachments"]  # the ticket as it is when sent
        assert (link["id"], link["type"], link["kind"], link["size"], link["sha256"]) == (
            stored.id, "image/jpeg", "image", stored.size, stored.sha256)
        attachments.check_link(*_parts(link["url"]))
    assert sent[-1]["detail"] == f"图片 {stored.id}"
