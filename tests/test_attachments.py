"""The attachment service: accepting, re-encoding, linking to tickets (or holding), limits, reading,
and both stores (directory and PostgreSQL/SQLite blobs)."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from PIL import Image

from bot.attachments import AttachmentRejected, AttachmentService, DatabaseStore, DirectoryStore
from bot.categories import Category
from bot.errors import InvalidInput, NotFound
from bot.storage.models import AttachmentBlobRow, AttachmentRow
from bot.tickets import Customer, TicketService
from tests.attachment_samples import MINIMAL_PDF, jpeg, photo_with_gps, png, webp


@pytest.fixture(params=["directory", "database"])
def attachments(request, db, tmp_path, clock) -> AttachmentService:
    store = DirectoryStore(tmp_path / "files") if request.param == "directory" else DatabaseStore(db)
    return AttachmentService(db, store, per_ticket=3, per_day=5, clock=clock)


def _file(service: TicketService, customer: Customer, text: str = "宽带断网了") -> str:
    ticket, _ = service.open_complaint(customer, Category.NETWORK, text, "13800138000")
    return ticket.number


def test_a_photo_is_stored_re_encoded_without_exif_and_linked_to_the_open_ticket(attachments, clock):
    tickets = TicketService(attachments.db, clock=clock)
    carol = Customer("telegram", "attach-carol")
    number = _file(tickets, carol)
    original = photo_with_gps(64, 48, orientation=6)
    accepted = attachments.accept(carol, original, source="telegram", filename="bill.jpg", caption="账单截图")
    att = accepted.attachment
    assert accepted.ticket is not None and accepted.ticket.number == number == att.ticket_number
    assert (att.kind, att.mime, att.source, att.caption) == ("image", "image/jpeg", "telegram", "账单截图")
    assert (att.width, att.height) == (48, 64)  # turned upright by its orientation tag
    stored = attachments.content(att.id)
    assert stored != original and len(stored) == att.size and hashlib.sha256(stored).hexdigest() == att.sha256
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG" and image.size == (48, 64)
        exif = image.getexif()
        assert not exif and 0x8825 not in exif and not exif.get_ifd(0x8825)
        assert "exif" not in image.info and "icc_profile" not in image.info and "comment" not in image.info
    assert b"Phone X" not in stored and b"secret comment" not in stored
    with Image.open(io.BytesIO(attachments.content(att.id, thumbnail=True))) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) <= 320
    event = [e for e in accepted.ticket.events if e.kind == "evidence"][-1]
    assert event.detail == f"图片 {att.id} 说明：账单截图"
    assert attachments.get(att.id) == att and attachments.for_ticket(number) == [att]
    assert len(att.id) >= 20 and att.id not in {"1", "2"}


def test_png_webp_and_pdf_keep_their_types_and_a_pdf_has_no_thumbnail(attachments):
    dave = Customer("webchat", "attach-dave")
    kinds = [attachments.accept(dave, data, source="webchat").attachment for data in (png(), webp(), MINIMAL_PDF)]
    assert [(a.kind, a.mime) for a in kinds] == [("image", "image/png"), ("image", "image/webp"), ("pdf", "application/pdf")]
    assert attachments.content(kinds[2].id) == MINIMAL_PDF and kinds[2].width is None
    with pytest.raises(NotFound):
        attachments.content(kinds[2].id, thumbnail=True)
    assert attachments.for_customer(dave) == kinds


def test_held_attachments_are_linked_to_the_next_complaint_within_a_day(attachments, clock):
    tickets = TicketService(attachments.db, clock=clock)
    erin = Customer("wechat", "attach-erin")
    stale = attachments.accept(erin, jpeg(), source="wechat")
    clock.now += timedelta(days=2)
    held = attachments.accept(erin, png(), source="wechat", caption="路由器红灯")
    assert held.ticket is None and held.attachment.ticket_number is None
    number = _file(tickets, erin)
    assert [a.id for a in attachments.for_ticket(number)] == [held.attachment.id]
    assert attachments.get(stale.attachment.id).ticket_number is None
    events = [e.detail for e in tickets.by_number(number).events if e.kind == "evidence"]
    assert events == [f"图片 {held.attachment.id} 说明：路由器红灯"]


def test_limits_per_ticket_and_per_day_leave_nothing_stored(attachments, clock):
    tickets = TicketService(attachments.db, clock=clock)
    fred = Customer("telegram", "attach-fred")
    sizes = iter(range(20, 80))
    _file(tickets, fred)
    for _ in range(3):
        attachments.accept(fred, jpeg(next(sizes)), source="telegram")
    with pytest.raises(AttachmentRejected) as full:
        attachments.accept(fred, jpeg(next(sizes)), source="telegram")
    assert full.value.reason == "ticket_full" and "3" in full.value.text
    tickets.open_complaint(fred, Category.BILLING, "话费多扣了", "13800138000")
    attachments.accept(fred, jpeg(next(sizes)), source="telegram")
    attachments.accept(fred, jpeg(next(sizes)), source="telegram")
    with pytest.raises(AttachmentRejected) as daily:
        attachments.accept(fred, jpeg(next(sizes)), source="telegram")
    assert daily.value.reason == "daily_limit" and "今天" in daily.value.text
    assert len(attachments.for_customer(fred)) == 5
    stored = set(attachments.store.keys())
    assert stored == {k for a in attachments.for_customer(fred) for k in (a.id, f"{a.id}.thumb")}
    clock.now += timedelta(days=1)
    attachments.accept(fred, jpeg(next(sizes)), source="telegram")  # a new day


def test_the_same_file_sent_again_at_once_is_stored_once(attachments, clock):
    tickets = TicketService(attachments.db, clock=clock)
    gina = Customer("wechat", "attach-gina")
    number = _file(tickets, gina)
    first = attachments.accept(gina, png(), source="wechat")
    again = attachments.accept(gina, png(), source="wechat")  # a redelivered message
    assert again.attachment == first.attachment and again.ticket.number == number
    assert len(attachments.for_ticket(number)) == 1
    assert len([e for e in tickets.by_number(number).events if e.kind == "evidence"]) == 1
    assert attachments.accept(gina, png(), source="wechat", caption="再发一次").attachment.id != first.attachment.id
    clock.now += timedelta(minutes=11)
    assert attachments.accept(gina, png(), source="wechat").attachment.id != first.attachment.id


def test_unknown_ids_and_sources_are_refused(attachments):
    with pytest.raises(NotFound):
        attachments.get("no-such-attachment-id")
    with pytest.raises(NotFound):
        attachments.content("../../etc/passwd")
    with pytest.raises(InvalidInput):
        attachments.accept(Customer("rest", "x"), jpeg(), source="email")


def test_database_store_keeps_bytes_in_the_blob_table(db):
    store = DatabaseStore(db)
    store.put("abcdefgh12345678", b"\x00\x01binary\xff")
    assert store.get("abcdefgh12345678") == b"\x00\x01binary\xff"
    store.put("abcdefgh12345678", b"again")
    assert store.get("abcdefgh12345678") == b"again" and list(store.keys()) == ["abcdefgh12345678"]
    store.delete("abcdefgh12345678")
    store.delete("abcdefgh12345678")
    with pytest.raises(NotFound):
        store.get("abcdefgh12345678")
    with db.transaction() as session:
        assert session.query(AttachmentBlobRow).count() == 0 and session.query(AttachmentRow).count() == 0


def test_directory_store_writes_atomically_under_the_key_only(tmp_path):
    store = DirectoryStore(tmp_path / "files")
    store.put("abcdefgh12345678.thumb", b"x" * 10)
    assert [p.name for p in (tmp_path / "files").iterdir()] == ["abcdefgh12345678.thumb"]
    for bad in ("../escape", "a/b", "", "short", "abcdefgh12345678.jpg"):
        with pytest.raises(NotFound):
            store.put(bad, b"x")


def test_the_history_line_reads_naturally_without_ids():
    from bot.tickets.history import render

    assert render("evidence", "图片 kvm2ssvFYIdktNclh5TG9Q 说明：账单截图", {}) == "客户上传了图片，说明：账单截图"
    assert render("evidence", "文件 kvm2ssvFYIdktNclh5TG9Q", {}) == "客户上传了文件"
    assert render("evidence", "photo file_id=AgADBAAD 说明：红灯", {}) == "图片，说明：红灯"  # lines from before
