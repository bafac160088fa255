"""Evidence files leave with the customer's data (a deletion request) and by retention: the rows,
the bytes and the thumbnails, in the directory store and in the database store alike."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.attachments import AttachmentService, DatabaseStore, DirectoryStore
from bot.categories import Category
from bot.errors import NotFound
from bot.privacy import Kind, PrivacyRequests, Retention
from bot.storage.models import AttachmentBlobRow, AttachmentRow
from bot.tickets import Customer, TicketService
from tests.attachment_samples import MINIMAL_PDF, jpeg, png


@pytest.fixture(params=["directory", "database"])
def attachments(request, db, tmp_path, clock) -> AttachmentService:
    store = DirectoryStore(tmp_path / "files") if request.param == "directory" else DatabaseStore(db)
    return AttachmentService(db, store, clock=clock)


def _left(service: AttachmentService, customer: Customer) -> tuple:
    with service.db.transaction() as session:
        rows = session.execute(sa.select(AttachmentRow.id).where(AttachmentRow.channel_user_id == customer.user_id)).scalars().all()
        blobs = session.execute(sa.select(sa.func.count()).select_from(AttachmentBlobRow)).scalar_one()
    return rows, blobs


def test_a_deletion_request_deletes_the_customers_files_and_keeps_others(attachments, clock):
    tickets = TicketService(attachments.db, clock=clock)
    alice, bob = Customer("telegram", "priv-alice"), Customer("telegram", "priv-bob")
    tickets.open_complaint(alice, Category.BILLING, "话费多扣了", "13800138000")
    mine = [attachments.accept(alice, data, source="telegram").attachment for data in (jpeg(), MINIMAL_PDF)]
    third = attachments.accept(alice, png(), source="telegram")  # on the open ticket too
    theirs = attachments.accept(bob, png(), source="telegram").attachment  # held for bob's next complaint
    requests = PrivacyRequests(attachments.db, clock=clock, files=attachments)
    assert requests.summary(alice)["evidence_files"] == 3  # what an access request shows
    request, _ = requests.submit(alice, Kind.DELETE, "phone")
    done = requests.carry_out(request.id, "boss")
    assert done.result["removed"]["evidence"] == 3 and "attachment_ids" not in done.result["removed"]
    for gone in mine + [third.attachment]:
        with pytest.raises(NotFound):
            attachments.get(gone.id)
    assert _left(attachments, alice)[0] == []
    keys = set(attachments.store.keys())
    assert keys == {theirs.id, f"{theirs.id}.thumb"}
    assert attachments.content(theirs.id)


def test_retention_deletes_old_files_and_held_ones_whose_complaint_never_came(attachments, clock, db):
    tickets = TicketService(db, clock=clock)
    carol, dave = Customer("wechat", "ret-carol"), Customer("wechat", "ret-dave")
    number = tickets.open_complaint(carol, Category.NETWORK, "宽带断网", "13800138000")[0].number
    old = attachments.accept(carol, jpeg(), source="wechat").attachment
    clock.now += timedelta(days=100)
    tickets.open_complaint(carol, Category.BILLING, "又多扣钱", "13800138000")
    recent = attachments.accept(carol, png(), source="wechat").attachment
    clock.now += timedelta(days=85)
    stale_held = attachments.accept(dave, jpeg(), source="wechat").attachment
    clock.now += timedelta(days=2)
    fresh_held = attachments.accept(dave, png(), source="wechat").attachment
    counts = Retention(db, None, days=180, clock=clock, files=attachments).purge()
    assert counts["attachments"] == 2  # older than 180 days, and held longer than the hold
    for gone in (old, stale_held):
        with pytest.raises(NotFound):
            attachments.content(gone.id)
    assert attachments.for_ticket(number) == []
    assert {a.id for a in attachments.for_customer(carol) + attachments.for_customer(dave)} == {recent.id, fresh_held.id}
    assert set(attachments.store.keys()) == {recent.id, f"{recent.id}.thumb", fresh_held.id, f"{fresh_held.id}.thumb"}
    assert Retention(db, None, days=180, clock=clock, files=attachments).purge().get("attachments", 0) == 0


def test_without_an_attachment_service_the_configured_store_loses_the_files(db, tmp_path, monkeypatch, clock):
    """The CLI's privacy and purge commands build no attachment service: the environment's store is used."""
    monkeypatch.setenv("ATTACHMENT_STORE", "directory")
    monkeypatch.setenv("ATTACHMENT_DIR", str(tmp_path / "cli-files"))
    service = AttachmentService(db, DirectoryStore(tmp_path / "cli-files"), clock=clock)
    erin, fay = Customer("telegram", "cli-erin"), Customer("telegram", "cli-fay")
    service.accept(erin, jpeg(), source="telegram")
    service.accept(fay, png(), source="telegram")
    requests = PrivacyRequests(db, clock=clock)
    request, _ = requests.submit(erin, Kind.DELETE, "channel")
    requests.carry_out(request.id, "cli:admin")
    assert len(list(service.store.keys())) == 2  # fay's file and thumbnail
    clock.now += timedelta(days=2)
    assert Retention(db, None, days=180, clock=clock).purge()["attachments"] == 1  # fay's, held past the hold
    assert list(service.store.keys()) == []


def test_retention_sweeps_files_no_row_names_once_they_are_an_hour_old(db, tmp_path, clock):
    store = DirectoryStore(tmp_path / "files")
    service = AttachmentService(db, store, clock=clock)
    kept = service.accept(Customer("webchat", "sweep-1"), jpeg(), source="webchat").attachment
    store.put("orphanorphan1234", b"bytes of a row that never committed")
    store.put("orphanorphan1234.thumb", b"its thumbnail")
    store.put("youngorphan12345", b"an upload still in flight")
    (tmp_path / "files" / ".incoming-abc").write_bytes(b"half written")
    hour_ago = time.time() - 3700
    for name in (kept.id, f"{kept.id}.thumb", "orphanorphan1234", "orphanorphan1234.thumb", ".incoming-abc"):
        os.utime(tmp_path / "files" / name, (hour_ago, hour_ago))
    counts = Retention(db, None, days=180, clock=clock, files=service).purge()
    assert counts["orphan_files"] == 3
    assert sorted(p.name for p in (tmp_path / "files").iterdir()) == sorted([kept.id, f"{kept.id}.thumb", "youngorphan12345"])
