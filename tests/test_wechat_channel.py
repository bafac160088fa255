"""The WeChat channel's parts on a real SQLite store and a real fake WeChat API over HTTP: the inbox
(at-least-once), contacts (48-hour window, numbered choices), the API's error handling, the courier
outside the window, plaintext-mode signatures, settings and log masking."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from bot import logs
from bot.delivery import FailedDeliveries
from bot.handoff import Message
from bot.settings import DEFAULT_WECHAT_API_BASE, Settings
from bot.storage.database import Database
from bot.wechat import AccessTokens, InboxClaim, WeChatContacts, WeChatInbox
from channels.hub import Undeliverable
from channels.wechat.api import WeChatApi, WeChatRefused, split_text
from channels.wechat.delivery import WeChatCourier, render
from channels.wechat.input import WeChat
from channels.wechat.shape import message_key, shape_problem
from tests import fake_wechat as wx

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'wx.db'}")
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def fake():
    server = wx.FakeWeChat().start()
    yield server
    server.stop()


def test_inbox_runs_a_message_once_and_again_when_its_process_died(db):
    clock = Clock()
    inbox = WeChatInbox(db, clock)
    assert inbox.take("msg-1", "o1", "<xml/>", "a") is InboxClaim.TAKEN
    assert inbox.take("msg-1", "o1", "<xml/>", "b") is InboxClaim.BUSY  # WeChat's retry during the turn
    assert inbox.stale("b") == []  # the lease is alive
    clock.now += timedelta(seconds=31)  # process "a" died: nobody renewed the lease
    [again] = inbox.stale("b")
    assert (again.key, again.payload, again.attempts) == ("msg-1", "<xml/>", 2)
    assert inbox.stale("c") == []  # claimed by "b" now
    assert inbox.renew("msg-1", "b") and not inbox.renew("msg-1", "a")
    inbox.done("msg-1")
    assert inbox.take("msg-1", "o1", "<xml/>", "d") is InboxClaim.DONE
    clock.now += timedelta(minutes=5)
    assert inbox.stale("e") == []


def test_inbox_gives_up_after_repeated_failures_but_keeps_the_record(db):
    clock = Clock()
    inbox = WeChatInbox(db, clock)
    inbox.take("msg-2", "o1", "<xml/>", "a")
    for holder in ("b", "c"):
        inbox.release("msg-2", "a" if holder == "b" else "b", "RuntimeError")
        assert [m.key for m in inbox.stale(holder)] == ["msg-2"]
    inbox.release("msg-2", "c", "RuntimeError")
    assert inbox.stale("d") == []  # a fourth attempt: given up, recorded as done with its error
    assert inbox.take("msg-2", "o1", "<xml/>", "e") is InboxClaim.DONE


def test_contacts_window_and_numbered_choices(db):
    clock = Clock()
    contacts = WeChatContacts(db, clock)
    assert not contacts.in_window("o1")
    contacts.seen("o1")
    assert contacts.in_window("o1")
    clock.now += timedelta(hours=48)
    assert not contacts.in_window("o1")
    contacts.seen("o1", clock.now - timedelta(hours=60))  # an old message does not move the window back
    contacts.seen("o1")
    assert contacts.in_window("o1")
    contacts.offer("o1", [{"title": "是的", "payload": "/affirm"}, {"title": "不是", "payload": "/deny"}])
    assert contacts.choice("o1", "2") == "/deny" and contacts.choice("o1", "１") == "/affirm"
    assert contacts.choice("o1", "3") is None and contacts.choice("o1", "是的") == "/affirm"
    # the ways people write a pick: with punctuation, 选/第, Chinese numerals; a sentence is not a pick
    for answer in ("1.", "1、", " 选1 ", "第1个", "第一个", "一", "１。"):
        assert contacts.choice("o1", answer) == "/affirm", answer
    assert contacts.choice("o1", "第二个") == "/deny"
    assert contacts.choice("o1", "1个月前就坏了") is None and contacts.choice("o1", "12") is None
    survey = [{"title": f"{n}分", "payload": f"/rate_{n}"} for n in (5, 4, 3, 2, 1)]
    contacts.offer("o1", survey)
    assert contacts.choice("o1", "1") is None  # "1" is not "5分": titles that are numbers are not numbered
    assert contacts.choice("o1", "4分") == "/rate_4"
    assert "1. 5分" not in render("打分", survey) and "5分 / 4分" in render("打分", survey)
    assert render("确认吗", [{"title": "是", "payload": "/affirm"}]).endswith("1. 是")
    contacts.offer("o1", [])
    assert contacts.choice("o1", "1") is None


def test_message_keys_and_shapes():
    from wechatpy import parse_message

    text = parse_message(wx.text_xml("oUser", "你好", msg_id=42))
    event = parse_message(wx.message_xml("oUser", "event", created=1700000000, Event="subscribe"))
    assert message_key(text) == "msg-42" and message_key(event).startswith("evt-") and "oUser" not in message_key(event)
    assert message_key(event) == message_key(parse_message(wx.message_xml("oUser", "event", created=1700000000, Event="subscribe")))
    click = parse_message(wx.message_xml("oUser", "event", created=1700000000, Event="CLICK", EventKey="STATUS"))
    assert message_key(click) != message_key(event)  # two events in one second are two events
    assert shape_problem(text) is None and shape_problem(event) is None
    assert shape_problem(parse_message(wx.text_xml("o<script>", "x"))) is not None
    assert shape_problem(parse_message(wx.message_xml("oUser", "text", created="soon", Content="x"))) is not None


def test_api_refreshes_a_refused_token_once_retries_rate_limits_and_reports_the_window(db, fake):
    async def run(method, *args):
        return method(*args)

    async def no_sleep(_):
        return None

    tokens = AccessTokens(db, wx.APP_ID)
    api = WeChatApi(wx.APP_ID, wx.APP_SECRET, tokens, run, fake.base, sleep=no_sleep)

    async def scenario():
        try:
            await api.send_text("oA", "你好")
            fake.fail_next("/cgi-bin/message/custom/send", 40001)
            await api.send_text("oA", "令牌失效后重发")
            fake.fail_next("/cgi-bin/message/custom/send", 45009, times=2)
            await api.send_text("oA", "限流后重发")
            fake.fail_next("/cgi-bin/message/custom/send", 45015)
            with pytest.raises(WeChatRefused) as refused:
                await api.send_text("oA", "超过48小时")
            return refused.value
        finally:
            await api.close()

    error = asyncio.run(scenario())
    assert error.out_of_window and not error.transient
    assert fake.texts("oA") == ["你好", "令牌失效后重发", "限流后重发"]
    assert tokens.fetches() == 2  # the first token, and one more after 40001
    assert wx.APP_SECRET not in str(error) and fake.valid_token not in str(error)


def test_courier_outside_the_window_uses_the_template_for_notices_and_records_the_rest(db, fake):
    async def run(method, *args):
        return method(*args)

    contacts = WeChatContacts(db)
    api = WeChatApi(wx.APP_ID, wx.APP_SECRET, AccessTokens(db, wx.APP_ID), run, fake.base)
    survey = Message(1, None, T0, "system", None, "请打分", buttons=({"title": "5分", "payload": "/rate_5"},))
    chat = Message(2, 7, T0, "agent", "wang", "还在吗", agent_name="小王")

    async def scenario(template):
        courier = WeChatCourier(api, contacts, FailedDeliveries(db), run, template)
        try:
            return await courier.deliver("oOld", survey), await courier.deliver("oOld", chat)
        except Undeliverable as error:
            return str(error)
        finally:
            await api.close()

    assert "48小时" in asyncio.run(scenario(""))  # the survey without a template: not deliverable
    assert "48小时" in asyncio.run(scenario(wx.TEMPLATE_ID))  # the notice went out; the chat message did not
    [template] = fake.recorded("/cgi-bin/message/template/send", "oOld")
    assert template.body["template_id"] == wx.TEMPLATE_ID and "5分" in template.body["data"]["first"]["value"]
    assert fake.texts("oOld") == []
    assert [f.text for f in FailedDeliveries(db).recent()] == ["还在吗", "请打分"]


def test_plaintext_mode_checks_the_signature_and_the_timestamp():
    channel = WeChat.__new__(WeChat)
    channel.token, channel.crypto = wx.TOKEN, None
    xml = wx.text_xml("oUser", "你好")

    def request(query):
        return SimpleNamespace(args=query, body=xml.encode())

    good = wx.signed_query()
    assert channel.signed(request(good)) and channel.open(request(good)) == xml
    assert not channel.signed(request({**good, "signature": "0" * 40}))
    assert not channel.signed(request(wx.signed_query(timestamp=1_600_000_000)))
    assert not channel.signed(request(wx.signed_query(token="another")))
    assert not channel.signed(request({k: v for k, v in good.items() if k != "nonce"}))


def test_settings_and_masking():
    assert Settings.from_env({}).wechat_app_id == ""  # off by default
    base = {"WECHAT_APP_ID": wx.APP_ID, "WECHAT_APP_SECRET": "s", "WECHAT_TOKEN": "t"}
    assert Settings.from_env(base).wechat_api_base == DEFAULT_WECHAT_API_BASE
    with pytest.raises(ValueError, match="WECHAT_AES_KEY"):
        Settings.from_env({**base, "WECHAT_AES_KEY": "short"})
    with pytest.raises(ValueError, match="WECHAT_API_BASE"):
        Settings.from_env({**base, "WECHAT_API_BASE": "http://example.com"})
    with pytest.raises(ValueError, match="WECHAT_TOKEN"):
        Settings.from_env({"WECHAT_APP_ID": wx.APP_ID})
    openid = wx.new_openid()
    assert openid not in logs.scrub(f"reply to wechat:{openid} failed")


def test_split_text_stays_within_wechats_byte_limit():
    pieces = split_text("第一行\n" + "很长的说明。" * 1000)
    assert len(pieces) > 1 and all(len(p.encode()) <= 2000 for p in pieces)
    assert "".join(pieces).replace("\n", "") == ("第一行" + "很长的说明。" * 1000)


def test_erasing_a_wechat_customer_deletes_the_channels_records_of_them(db):
    from bot.clock import utcnow
    from bot.privacy.anonymise import anonymise
    from bot.tickets import Customer

    WeChatContacts(db).seen("oGone")
    WeChatInbox(db).take("msg-9", "oGone", "<xml>我的电话13812345678</xml>", "a")
    WeChatContacts(db).seen("oStays")
    with db.transaction() as session:
        anonymise(session, Customer("wechat", "oGone"), utcnow(), "supervisor")
    assert not WeChatContacts(db).in_window("oGone") and WeChatContacts(db).in_window("oStays")
    assert WeChatInbox(db).take("msg-9", "oGone", "<xml/>", "b") is InboxClaim.TAKEN  # the old copy is gone


def test_safe_mode_opens_only_correctly_signed_encrypted_messages():
    from wechatpy.crypto import WeChatCrypto
    from wechatpy.exceptions import InvalidSignatureException

    channel = WeChat.__new__(WeChat)
    channel.token, channel.crypto = wx.TOKEN, WeChatCrypto(wx.TOKEN, wx.AES_KEY, wx.APP_ID)
    xml = wx.text_xml("oUser", "你好")
    body, query = wx.encrypted(xml, wx.signed_query())
    assert channel.open(SimpleNamespace(args=query, body=body.encode())) == xml
    for bad in ({**query, "msg_signature": "0" * 40}, {k: v for k, v in query.items() if k != "encrypt_type"}):
        with pytest.raises(InvalidSignatureException):
            channel.open(SimpleNamespace(args=bad, body=body.encode()))
    with pytest.raises(InvalidSignatureException):  # plaintext is not accepted in safe mode
        channel.open(SimpleNamespace(args={**wx.signed_query()}, body=xml.encode()))


def test_menu_cli_creates_the_four_buttons_with_the_shared_token(tmp_path, fake, monkeypatch):
    from channels.wechat import menu

    url = f"sqlite:///{tmp_path / 'menu.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert menu.main() == 2  # the channel is off without an AppID
    for name, value in (("WECHAT_APP_ID", wx.APP_ID), ("WECHAT_APP_SECRET", wx.APP_SECRET), ("WECHAT_TOKEN", wx.TOKEN),
                        ("WECHAT_API_BASE", fake.base)):
        monkeypatch.setenv(name, value)
    assert menu.main() == 0
    [created] = fake.recorded("/cgi-bin/menu/create")
    assert [b["name"] for b in created.body["button"]] == ["咨询", "投诉", "查询进度", "人工客服"]
    db = Database(url)
    try:
        assert AccessTokens(db, wx.APP_ID).fetches() == 1  # kept for the servers, not a token of its own
    finally:
        db.dispose()
