"""Telegram evidence: photos and documents fetched with getFile and the file download from the fake
Bot API (real HTTP), checked by the attachment service, and answered in Chinese."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiogram import types

from bot.categories import Category
from bot.handoff import WorkingHours
from bot.tickets import Customer
from channels.hub import Hub
from channels.telegram import TelegramApi
from channels.telegram.dispatch import dispatch
from tests.attachment_samples import MINIMAL_PDF, photo_with_gps
from tests.fake_telegram import TOKEN, FakeTelegram, content_update

USER = 4_200_001


@pytest.fixture
def fake():
    server = FakeTelegram().start()
    yield server
    server.stop()


def _send(fake: FakeTelegram, hub: Hub, update: dict) -> str:
    async def run() -> str:
        api = TelegramApi(TOKEN, fake.base, sleep=lambda _: asyncio.sleep(0))
        try:
            async def handle(_message):
                raise AssertionError("evidence never goes to the assistant")

            return await dispatch(api, hub, handle, types.Update.to_object(update))
        finally:
            await api.close()

    return asyncio.run(run())


def _photo(file_id: str, size=None) -> list:
    small = {"file_id": f"{file_id}-small", "file_unique_id": "s", "width": 90, "height": 90}
    large = {"file_id": file_id, "file_unique_id": "l", "width": 1280, "height": 960}
    if size is not None:
        large["file_size"] = size
    return [small, large]


def test_photos_and_documents_are_downloaded_into_the_store_and_linked(fake, db, caplog):
    caplog.set_level(logging.DEBUG)
    hub = Hub(db, WorkingHours())
    customer = Customer("telegram", str(USER))
    fake.add_file("photo-large", photo_with_gps())
    fake.add_file("bill-pdf", MINIMAL_PDF)
    assert _send(fake, hub, content_update(USER, photo=_photo("photo-large"), caption="光猫红灯")) == "evidence-held"
    assert "登记投诉时会作为证据" in fake.texts(USER)[-1]
    assert [c.params["file_id"] for c in fake.recorded("getFile")] == ["photo-large"]  # the largest size
    assert len(fake.recorded("download")) == 1
    ticket, _ = hub.tickets.open_complaint(customer, Category.NETWORK, "宽带断网三天了", "13812345678")
    document = {"file_id": "bill-pdf", "file_unique_id": "d", "file_name": "bill.jpg", "file_size": len(MINIMAL_PDF)}
    assert _send(fake, hub, content_update(USER, document=document)) == "evidence"
    assert ticket.number in fake.texts(USER)[-1] and "证据" in fake.texts(USER)[-1]
    found = hub.attachments.for_ticket(ticket.number)
    assert [(a.kind, a.source, a.caption) for a in found] == [("image", "telegram", "光猫红灯"), ("pdf", "telegram", "")]
    assert hub.attachments.content(found[1].id) == MINIMAL_PDF
    assert b"GPS" not in hub.attachments.content(found[0].id)
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name != "aiohttp.access")  # not the fake's own log
    assert TOKEN.split(":")[1] not in ours


def test_refused_and_failed_files_are_answered_and_leave_nothing(fake, db):
    hub = Hub(db, WorkingHours())
    customer = Customer("telegram", str(USER + 1))
    hub.tickets.open_complaint(customer, Category.BILLING, "话费多扣了", "13812345678")
    fake.add_file("page", b"<html><script>alert(1)</script></html>")
    fake.add_file("big-announced", b"x", announced=5 * 1024 * 1024 + 1)
    fake.add_file("big-really", b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024), announced=1000)
    fake.add_file("broken", b"", download_status=500)
    document = {"file_id": "page", "file_unique_id": "p", "file_name": "bill.jpg"}
    assert _send(fake, hub, content_update(USER + 1, document=document)) == "evidence-refused"
    assert "JPG" in fake.texts(USER + 1)[-1]
    big = {"file_id": "big-announced", "file_unique_id": "b", "file_name": "a.pdf", "file_size": 5 * 1024 * 1024 + 1}
    assert _send(fake, hub, content_update(USER + 1, document=big)) == "evidence-refused"
    assert "5MB" in fake.texts(USER + 1)[-1]
    assert not [c for c in fake.recorded("getFile") if c.params["file_id"] == "big-announced"]  # refused up front
    assert _send(fake, hub, content_update(USER + 1, photo=_photo("big-really"))) == "evidence-refused"
    assert "5MB" in fake.texts(USER + 1)[-1]
    assert _send(fake, hub, content_update(USER + 1, photo=_photo("broken"))) == "evidence-failed"
    assert "没有接收成功" in fake.texts(USER + 1)[-1]
    assert _send(fake, hub, content_update(USER + 1, photo=_photo("never-registered"))) == "evidence-failed"
    assert hub.attachments.for_customer(customer) == [] and list(hub.attachments.store.keys()) == []
