"""The backend gets the evidence: the pushed ticket event and the read API carry each attachment's
type, size, SHA-256 and a signed, expiring link; the link downloads the stored bytes as an
attachment while it is valid, and is refused once expired, tampered with, or its file deleted."""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import sqlalchemy as sa

from bot.attachments import AttachmentService, DatabaseStore, UrlSigner, url_secret
from bot.storage.database import Database
from bot.storage.models import AttachmentBlobRow, AttachmentRow
from bot.tickets import Customer
from tests.attachment_samples import MINIMAL_PDF, photo_with_gps
from tests.e2e.conftest import BACKEND_API_KEY

pytestmark = pytest.mark.e2e


def _local(stack, url: str) -> str:
    """The signed link on the test stack's port (PUBLIC_BASE_URL is not set there)."""
    parts = urlsplit(url)
    return f"{stack.url}{parts.path}?{parts.query}"


def test_the_backend_gets_signed_links_that_work_until_they_expire(stack, backend):
    sender = uuid.uuid4().hex
    stack.say(sender, "这个月话费多扣了五十块")
    stack.say(sender, f"139{random.randint(10_000_000, 99_999_999)}")
    reply = stack.texts(stack.say(sender, "确认"))
    number = next(word for word in reply.replace("：", " ").split() if word.startswith("TS"))
    db = Database(stack.ticket_db)  # the production profile keeps files in the database: the server sees them
    try:
        service = AttachmentService(db, DatabaseStore(db))
        photo = service.accept(Customer("rest", sender), photo_with_gps(), source="webchat", caption="账单").attachment
        pdf = service.accept(Customer("rest", sender), MINIMAL_PDF, source="webchat").attachment
        pulled = requests.get(f"{stack.url}/api/tickets/{number}", headers={"X-API-Key": BACKEND_API_KEY}, timeout=30)
        assert pulled.status_code == 200
        links = pulled.json()["attachments"]
        assert [(a["id"], a["type"], a["kind"], a["size"], a["sha256"]) for a in links] == [
            (photo.id, "image/jpeg", "image", photo.size, photo.sha256), (pdf.id, "application/pdf", "pdf", pdf.size, pdf.sha256)]
        assert all(a["url"].startswith("http://localhost:") and a["expires_at"] for a in links)
        got = requests.get(_local(stack, links[0]["url"]), timeout=30)
        assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == photo.sha256
        again = requests.get(_local(stack, links[0]["url"]), timeout=30)  # a link works once
        assert again.status_code == 403 and again.json()["error"] == "forbidden"
        assert got.headers["Content-Type"] == "image/jpeg"
        assert got.headers["Content-Disposition"] == f'attachment; filename="{photo.id}.jpg"'
        assert got.headers["X-Content-Type-Options"] == "nosniff" and got.headers["Content-Security-Policy"] == "sandbox"
        assert requests.get(_local(stack, links[1]["url"]), timeout=30).content == MINIMAL_PDF
        # Tampered: another id, a later expiry, another nonce, a changed signature, none at all; each
        # refused without spending the genuine link, which a fresh pull signs anew.
        repulled = requests.get(f"{stack.url}/api/tickets/{number}", headers={"X-API-Key": BACKEND_API_KEY}, timeout=30)
        url = _local(stack, repulled.json()["attachments"][0]["url"])
        assert url != _local(stack, links[0]["url"])
        query = parse_qs(urlsplit(url).query)
        expires, nonce, sig = query["expires"][0], query["n"][0], query["sig"][0]
        base = f"{stack.url}/api/attachments"
        for bad in (f"{base}/{pdf.id}?expires={expires}&n={nonce}&sig={sig}",
                    f"{base}/{photo.id}?expires={int(expires) + 3600}&n={nonce}&sig={sig}",
                    f"{base}/{photo.id}?expires={expires}&n={nonce}0&sig={sig}",
                    f"{base}/{photo.id}?expires={expires}&sig={sig}",
                    f"{base}/{photo.id}?expires={expires}&n={nonce}&sig={'0' * 64}", f"{base}/{photo.id}"):
            refused = requests.get(bad, timeout=30)
            assert refused.status_code == 403 and refused.json()["error"] == "forbidden", bad
        assert requests.get(url, timeout=30).status_code == 200
        # Expired: signed with the server's own secret (derived from BACKEND_API_KEY) two hours ago.
        signer = UrlSigner(url_secret("", BACKEND_API_KEY), stack.url)
        old, _ = signer.sign(photo.id, datetime.now(timezone.utc) - timedelta(hours=2))
        fresh, _ = signer.sign(photo.id, datetime.now(timezone.utc))
        assert requests.get(fresh, timeout=30).status_code == 200
        assert requests.get(old, timeout=30).status_code == 403
        # The push carries them too, signed when sent.
        deadline = time.monotonic() + 20
        pushed = []
        while time.monotonic() < deadline and not pushed:
            pushed = [e for e in backend.received() if e["ticket"]["number"] == number and e["kind"] == "evidence"
                      and len(e["ticket"]["attachments"]) == 2]
            time.sleep(0.2)
        assert pushed, [e["kind"] for e in backend.received() if e["ticket"]["number"] == number]
        assert pushed[-1]["ticket"]["attachments"][0]["sha256"] == photo.sha256
        assert requests.get(_local(stack, pushed[-1]["ticket"]["attachments"][0]["url"]), timeout=30).status_code == 200
        # Deleted: a valid link answers 404.
        with db.transaction() as session:
            session.execute(sa.delete(AttachmentBlobRow).where(AttachmentBlobRow.key.in_([photo.id, f"{photo.id}.thumb"])))
            session.execute(sa.delete(AttachmentRow).where(AttachmentRow.id == photo.id))
        gone = requests.get(fresh, timeout=30)
        assert gone.status_code == 404 and gone.json()["error"] == "not_found"
    finally:
        db.dispose()
