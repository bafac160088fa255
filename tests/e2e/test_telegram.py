"""Telegram through the real Rasa and action servers, aiogram talking HTTP to a fake Bot API server."""

from __future__ import annotations

import random
import re
import time

import pytest
import sqlalchemy as sa

from bot.staff import Role
from bot.storage.database import Database
from bot.storage.models import DeliveryFailureRow, InboundUpdateRow
from bot.tickets import Customer, TicketService
from channels.hub import WAITING_RECEIPT
from tests.e2e.conftest import TELEGRAM_SECRET
from tests.attachment_samples import MINIMAL_PDF, photo_with_gps
from tests.fake_telegram import BOT_USERNAME, button_update, content_update, text_update

pytestmark = pytest.mark.e2e

NUMBER = re.compile(r"TS\d{6}-[0-9A-Z]{8}")


def new_user() -> int:
    return random.randint(10_000_000, 2_000_000_000)


def say(stack, update) -> dict:
    r = stack.telegram(update, TELEGRAM_SECRET)
    assert r.status_code == 200, r.text
    return r.json()


def tickets_of(stack, user_id: int):
    db = Database(stack.ticket_db)
    try:
        return TicketService(db).list_for(Customer("telegram", str(user_id)))
    finally:
        db.dispose()


def count(stack, table) -> int:
    db = Database(stack.ticket_db)
    try:
        with db.transaction() as session:
            return session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    finally:
        db.dispose()


def file_complaint(stack, fake, user: int) -> str:
    say(stack, text_update(user, "我家宽带断网三天了，一直连不上"))
    assert "手机号" in fake.texts(user)[-1]
    say(stack, text_update(user, "13812345678"))
    confirm = fake.recorded("sendMessage", user)[-1]
    buttons = [b["callback_data"] for row in confirm.params["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["/affirm", "/deny"]
    say(stack, button_update(user, "/affirm", message_id=7))
    assert fake.recorded("answerCallbackQuery")
    assert any(c.params.get("message_id") == "7" for c in fake.recorded("editMessageReplyMarkup", user))
    number = NUMBER.search(fake.texts(user)[-1])
    assert number, fake.texts(user)
    return number.group(0)


def test_webhook_is_registered_on_start_with_its_secret(stack, fake_telegram):
    # Registered by a listener that runs just after the server starts answering: wait for it.
    deadline = time.monotonic() + 15
    while not fake_telegram.recorded("setWebhook") and time.monotonic() < deadline:
        time.sleep(0.1)
    [registration] = fake_telegram.recorded("setWebhook")
    assert registration.params["secret_token"] == TELEGRAM_SECRET
    assert registration.params["url"].endswith("/webhooks/telegram/webhook")


def test_forged_and_malformed_webhooks_are_refused_and_store_nothing(stack, fake_telegram):
    before = count(stack, InboundUpdateRow)
    update = text_update(new_user(), "你好")
    assert stack.telegram(update).status_code == 403
    assert stack.telegram(update, "wrong-secret").status_code == 403
    import requests

    url = f"{stack.url}/webhooks/telegram/webhook"
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET, "Content-Type": "application/json"}
    assert requests.post(url, data="{not json", headers=headers, timeout=30).status_code == 400
    assert requests.post(url, json={"message": {"text": "no update id"}}, headers=headers, timeout=30).status_code == 400
    assert requests.post(url, json=[1, 2], headers=headers, timeout=30).status_code == 400
    assert count(stack, InboundUpdateRow) == before
    assert fake_telegram.texts(update["message"]["chat"]["id"]) == []


def test_start_help_and_unknown_commands(stack, fake_telegram):
    user = new_user()
    say(stack, text_update(user, "/start"))
    say(stack, text_update(user, "/help"))
    say(stack, text_update(user, "/foo"))
    start, notice, help_text, unknown = fake_telegram.texts(user)
    assert "隐私说明" in start and "/status" in help_text and unknown == help_text
    # First contact: the personal-data notice with its link, once.
    assert "个人信息保护提示" in notice and "/chat/privacy" in notice
    say(stack, text_update(user, "/start"))
    assert "个人信息保护提示" not in fake_telegram.texts(user)[-1]


def test_complaint_button_press_and_status(stack, fake_telegram):
    user = new_user()
    number = file_complaint(stack, fake_telegram, user)
    [ticket] = tickets_of(stack, user)
    assert ticket.number == number and ticket.customer == Customer("telegram", str(user))
    assert ticket.contact_phone == "13812345678"
    say(stack, text_update(user, "/status"))
    assert number in fake_telegram.texts(user)[-1]


def test_photos_become_evidence_and_stickers_get_a_polite_reply(stack, fake_telegram):
    user = new_user()
    fake_telegram.add_file(f"large-{user}", photo_with_gps())
    fake_telegram.add_file(f"doc-{user}", MINIMAL_PDF)
    photo = [{"file_id": f"small-{user}", "file_unique_id": "s", "width": 90, "height": 90},
             {"file_id": f"large-{user}", "file_unique_id": "l", "width": 1280, "height": 960}]
    say(stack, content_update(user, photo=photo))  # before the complaint is filed: held for it
    assert "登记投诉时会作为证据" in fake_telegram.texts(user)[-1]
    number = file_complaint(stack, fake_telegram, user)
    say(stack, content_update(user, photo=photo, caption="光猫的指示灯一直红"))
    assert number in fake_telegram.texts(user)[-1] and "证据" in fake_telegram.texts(user)[-1]
    [ticket] = tickets_of(stack, user)
    evidence = [e for e in ticket.events if e.kind == "evidence"]
    assert len(evidence) == 2 and all(e.detail.startswith("图片 ") for e in evidence) and "指示灯" in evidence[1].detail
    say(stack, content_update(user, document={"file_id": f"doc-{user}", "file_unique_id": "d", "file_name": "bill.pdf"}))
    assert tickets_of(stack, user)[0].events[-1].detail.startswith("文件 ")
    assert not [c for c in fake_telegram.recorded("getFile") if c.params["file_id"] == f"small-{user}"]
    say(stack, content_update(user, sticker={"file_id": "st", "file_unique_id": "st", "width": 512, "height": 512,
                                             "is_animated": False}))
    assert "文字" in fake_telegram.texts(user)[-1]


def test_the_same_update_twice_is_handled_once(stack, fake_telegram):
    user = new_user()
    update = text_update(user, "怎么查话费余额")
    assert say(stack, update)["status"] == "text"
    assert say(stack, update)["status"] == "duplicate"
    notice, answer = fake_telegram.texts(user)  # first contact: the privacy notice, then the answer
    assert "个人信息保护提示" in notice and "个人信息保护提示" not in answer


def test_a_confirmation_redelivered_after_its_turn_died_files_no_second_ticket(stack, fake_telegram):
    """The state a process leaves when it dies after the action server filed the ticket but before
    the turn was saved: the conversation as before the update, the update's claim ran out. Telegram
    redelivers; the update is the same Rasa message, so the action server finds the ticket it filed."""
    user = new_user()
    say(stack, text_update(user, "我家宽带断网三天了，一直连不上"))
    say(stack, text_update(user, "13812345678"))
    tracker = Database(stack.tracker_db)
    try:
        with tracker.transaction() as session:
            saved = session.execute(sa.text("SELECT max(id) FROM events WHERE sender_id = :s"),
                                    {"s": str(user)}).scalar()
        confirm = button_update(user, "/affirm", message_id=7)
        assert say(stack, confirm)["status"] == "button"
        [ticket] = tickets_of(stack, user)
        with tracker.transaction() as session:  # the dead turn saved nothing of its own
            session.execute(sa.text("DELETE FROM events WHERE sender_id = :s AND id > :i"),
                            {"s": str(user), "i": saved})
    finally:
        tracker.dispose()
    tickets = Database(stack.ticket_db)
    try:
        with tickets.transaction() as session:  # and never got to mark the update done
            session.execute(sa.update(InboundUpdateRow).where(InboundUpdateRow.update_key == str(confirm["update_id"]))
                            .values(done_at=None, claimed_until=None))
    finally:
        tickets.dispose()
    assert say(stack, confirm)["status"] == "button"  # handled again, not taken for a duplicate
    assert [t.number for t in tickets_of(stack, user)] == [ticket.number]
    told = [text for text in fake_telegram.texts(user) if "登记成功" in text]
    assert len(told) == 2 and all(ticket.number in text for text in told)


def test_rate_limited_reply_is_delivered_once_after_the_wait(stack, fake_telegram):
    user = new_user()
    fake_telegram.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    say(stack, text_update(user, "/help"))
    attempts = fake_telegram.recorded("sendMessage", user, ok_only=False)
    assert [a.status for a in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 0.9


def test_a_reply_that_finally_fails_is_kept(stack, fake_telegram, console):
    user = new_user()
    before = count(stack, DeliveryFailureRow)
    fake_telegram.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    say(stack, text_update(user, "/help"))
    assert count(stack, DeliveryFailureRow) == before + 1
    assert fake_telegram.texts(user) == []
    boss = console.login(console.account("boss", "主管", Role.SUPERVISOR))
    agent = console.login(console.account("plain", "坐席"))
    assert stack.api("GET", "/delivery-failures", agent).status_code == 403
    failures = stack.api("GET", "/delivery-failures", boss).json()["failures"]
    assert failures[0]["channel"] == "telegram" and "/start" in failures[0]["text"] and "blocked" in failures[0]["error"]
    assert str(user) not in failures[0]["customer"]  # masked


def test_an_agent_message_that_cannot_be_delivered_is_marked_for_the_agent(stack, fake_telegram, console):
    user = new_user()
    token = console.login(console.account("tg3", "小林"))
    say(stack, text_update(user, "转人工"))
    session_id = _session_of(stack, user)
    fake_telegram.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")  # the "accepted" notice
    assert stack.api("POST", f"/sessions/{session_id}/accept", token).status_code == 200

    def failed():
        messages = stack.api("GET", f"/sessions/{session_id}/transcript", token).json()["messages"]
        return [m for m in messages if m["delivery_failed"]]

    [message] = fake_telegram.wait_for(failed)
    assert "已接入" in message["text"]
    stack.api("POST", f"/sessions/{session_id}/close", token)


def test_html_is_escaped_and_long_replies_are_split(stack, fake_telegram, console):
    user = new_user()
    agent = console.account("tg", "小唐")
    token = console.login(agent)
    say(stack, text_update(user, "转人工"))
    session_id = _session_of(stack, user)
    assert stack.api("POST", f"/sessions/{session_id}/accept", token).status_code == 200
    long_text = "<b>注意</b> & 说明\n" + "很长的说明。" * 1000
    assert stack.api("POST", f"/sessions/{session_id}/messages", token, json={"text": long_text[:5000]}).status_code == 201
    sent = fake_telegram.wait_for(lambda: [c for c in fake_telegram.recorded("sendMessage", user) if "注意" in c.params["text"]])
    assert sent[0].params["parse_mode"] == "HTML" and "&lt;b&gt;注意&lt;/b&gt; &amp; 说明" in sent[0].params["text"]
    pieces = fake_telegram.wait_for(
        lambda: [c for c in fake_telegram.recorded("sendMessage", user) if "很长的说明" in c.params["text"]]
        if len([c for c in fake_telegram.recorded("sendMessage", user) if "很长的说明" in c.params["text"]]) >= 2 else None
    )
    assert all(len(c.params["text"]) <= 4096 for c in pieces)
    stack.api("POST", f"/sessions/{session_id}/close", token)


def test_agent_reply_arrives_as_a_telegram_message(stack, fake_telegram, console):
    user = new_user()
    agent = console.account("tg2", "小田")
    token = console.login(agent)
    say(stack, text_update(user, "我要转人工"))
    assert "排在第" in fake_telegram.texts(user)[-1]
    session_id = _session_of(stack, user)
    say(stack, text_update(user, "我的宽带又断了"))  # goes to the agent; the bot only confirms receipt
    assert fake_telegram.texts(user)[-1] == WAITING_RECEIPT
    assert stack.api("POST", f"/sessions/{session_id}/accept", token).status_code == 200
    started = time.monotonic()
    assert stack.api("POST", f"/sessions/{session_id}/messages", token, json={"text": "您好，我是小田"}).status_code == 201
    fake_telegram.wait_for(lambda: any("您好，我是小田" in t for t in fake_telegram.texts(user)), timeout=10)
    print(f"agent reply to sendMessage: {(time.monotonic() - started) * 1000:.0f} ms")
    assert any(t.startswith("客服小田") for t in fake_telegram.texts(user))
    transcript = stack.api("GET", f"/sessions/{session_id}/transcript", token).json()["messages"]
    assert "我的宽带又断了" in [m["text"] for m in transcript]
    stack.api("POST", f"/sessions/{session_id}/release", token)


def test_groups_are_ignored_unless_the_bot_is_addressed(stack, fake_telegram):
    user, group = new_user(), -new_user()
    say(stack, text_update(user, "大家好", chat_type="group", chat_id=group))
    assert fake_telegram.texts(group) == []
    say(stack, text_update(user, f"@{BOT_USERNAME} 我要投诉", chat_type="supergroup", chat_id=group))
    assert "私聊" in fake_telegram.texts(group)[-1]
    assert tickets_of(stack, user) == []


def test_webhook_to_send_message_latency(stack, fake_telegram):
    user = new_user()
    times = []
    for text in ("你好", "怎么查话费余额", "宽带怎么办理", "流量用超了怎么收费", "谢谢"):
        started = time.monotonic()
        say(stack, text_update(user, text))
        times.append(fake_telegram.recorded("sendMessage", user)[-1].at - started)
    times.sort()
    print(f"webhook receipt to sendMessage: median {times[2] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms")
    assert len(fake_telegram.texts(user)) >= 5


def _session_of(stack, user: int) -> int:
    return stack.handoff_session("telegram", str(user))
