"""WeChat evidence: image messages fetched through the fake media API (real HTTP) into the
attachment service, with the token refreshed when WeChat refuses it, and clear answers otherwise."""

from __future__ import annotations

import asyncio

import pytest

from bot.categories import Category
from bot.delivery import FailedDeliveries
from bot.handoff import WorkingHours
from bot.tickets import Customer
from bot.wechat import AccessTokens, WeChatContacts
from channels.hub import Hub
from channels.wechat.api import WeChatApi
from channels.wechat.delivery import WeChatOutput
from channels.wechat.dispatch import Turn, _evidence
from tests import fake_wechat as wx
from tests.attachment_samples import jpeg, photo_with_gps


@pytest.fixture
def fake():
    server = wx.FakeWeChat().start()
    yield server
    server.stop()


def _image(fake, hub: Hub, openid: str, media_id: str) -> str:
    async def run() -> str:
        contacts = WeChatContacts(hub.db)
        api = WeChatApi(wx.APP_ID, wx.APP_SECRET, AccessTokens(hub.db, wx.APP_ID), hub.run, fake.base,
                        sleep=lambda _: asyncio.sleep(0))
        output = WeChatOutput(api, contacts, FailedDeliveries(hub.db), hub.run)
        try:
            return await _evidence(Turn(hub, None, output, contacts, "k"), Customer("wechat", openid), media_id)
        finally:
            await api.close()

    return asyncio.run(run())


def test_an_image_is_fetched_through_the_media_api_and_linked(fake, db):
    hub = Hub(db, WorkingHours())
    openid = wx.new_openid()
    customer = Customer("wechat", openid)
    fake.media["m-held"] = photo_with_gps()
    fake.media["m-open"] = jpeg()
    assert _image(fake, hub, openid, "m-held") == "evidence-held"
    assert "登记投诉时" in fake.texts(openid)[-1]
    ticket, _ = hub.tickets.open_complaint(customer, Category.NETWORK, "宽带断网三天了", "13812345678")
    fake.fail_next("/cgi-bin/media/get", 40001)  # the token was refused once: fetched again
    assert _image(fake, hub, openid, "m-open") == "evidence"
    assert ticket.number in fake.texts(openid)[-1]
    found = hub.attachments.for_ticket(ticket.number)
    assert [(a.kind, a.source) for a in found] == [("image", "wechat"), ("image", "wechat")]
    assert [c.params["media_id"] for c in fake.recorded("/cgi-bin/media/get")] == ["m-held", "m-open"]
    assert b"GPS" not in hub.attachments.content(found[0].id)


def test_refused_and_missing_images_are_answered_and_leave_nothing(fake, db):
    hub = Hub(db, WorkingHours())
    openid = wx.new_openid()
    fake.media["m-html"] = b"<html><body>not an image</body></html>"
    fake.media["m-big"] = b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024)
    assert _image(fake, hub, openid, "m-html") == "evidence-refused"
    assert _image(fake, hub, openid, "m-big") == "evidence-refused"
    assert _image(fake, hub, openid, "m-unknown") == "evidence-failed"  # errcode 40007
    assert _image(fake, hub, openid, "") == "evidence-failed"
    said = fake.texts(openid)
    assert "JPG" in said[0] and "5MB" in said[1] and said[2] == said[3] == "图片没有接收成功，请稍后重新发送。"
    assert hub.attachments.for_customer(Customer("wechat", openid)) == [] and list(hub.attachments.store.keys()) == []
