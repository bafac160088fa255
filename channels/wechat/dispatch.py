"""What a claimed WeChat message asks for: a subscription (welcome and the privacy notice), a menu
click, text (or the answer to a numbered choice) for the assistant, a voice message (through
WeChat's own recognition when the account has it on), an image as evidence, or something we cannot
read (a clear answer). Customers over their message limit are told to slow down once in a while.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage

from bot.attachments import AttachmentRejected
from bot.text import MAX_MESSAGE_CHARS
from bot.tickets import Customer
from bot.wechat import WeChatContacts
from channels.hub import Hub, slow_down_text
from channels.wechat.api import WeChatRefused
from channels.wechat.delivery import CHANNEL, WeChatOutput

logger = logging.getLogger(__name__)

WELCOME_TEXT = (
    "您好，欢迎关注！我是在线客服助手。\n"
    "• 咨询：话费、流量、套餐、宽带等问题直接发消息问我；\n"
    "• 投诉：告诉我遇到的故障或不满，我帮您登记工单并告知处理时限；\n"
    "• 查询进度、人工客服：点击下方菜单，或发送“查询进度”“转人工”。\n"
    "投诉时可以直接发送截图或照片，我会作为证据附到工单上。"
)
CONSULT_TEXT = "请直接发消息描述您想咨询的问题，例如“流量怎么收费”“宽带怎么办理”。"
VOICE_TEXT = "抱歉，暂时听不懂语音消息，请用文字描述您的问题。"
NOT_TEXT = "暂时只能处理文字消息（投诉时也可以发送图片作为证据），请用文字描述您的问题。"
EVIDENCE_SAVED = "已将图片作为证据附到工单 {ticket} 上，处理人员可以看到。"
EVIDENCE_HELD = "收到图片，登记投诉时会作为证据一并附到工单上。请用文字描述您遇到的问题。"
TOO_LONG = f"您的消息太长了（超过{MAX_MESSAGE_CHARS}字），请分几条发送。"
EVIDENCE_KIND = "图片"
EVIDENCE_FAILED = "图片没有接收成功，请稍后重新发送。"

# The custom menu (python -m channels.wechat.menu) and what each click means to the assistant.
MENU_KEYS = {"CONSULT": None, "COMPLAIN": "我要投诉", "STATUS": "/check_ticket_status", "HUMAN": "转人工"}
MENU = {
    "button": [
        {"type": "click", "name": "咨询", "key": "CONSULT"},
        {"type": "click", "name": "投诉", "key": "COMPLAIN"},
        {"type": "click", "name": "查询进度", "key": "STATUS"},
        {"type": "click", "name": "人工客服", "key": "HUMAN"},
    ]
}


@dataclass
class Turn:
    """One claimed message and what handles it."""

    hub: Hub
    handle: Callable[[UserMessage], Awaitable[Any]]
    output: WeChatOutput
    contacts: WeChatContacts
    key: str


async def dispatch(turn: Turn, message: Any) -> str:
    """Act on one claimed message (a wechatpy message or event); returns what became of it."""
    openid = str(message.source)
    customer = Customer(CHANNEL, openid)
    output, hub = turn.output, turn.hub
    kind = message.type
    if kind == "event":
        event = str(getattr(message, "event", "")).lower()
        if event.startswith("subscribe"):
            await output.send_text_message(openid, WELCOME_TEXT)
            await hub.first_contact(customer, output)
            return "subscribe"
        if event != "click":
            return "ignored"  # unsubscribe, menu links, template receipts, locations
        if await _limited(hub, customer, output):
            return "limited"
        said = MENU_KEYS.get(str(message.key or ""), None)
        if said is None:
            await output.send_text_message(openid, CONSULT_TEXT)
            return "menu"
        await _to_assistant(turn, openid, said)
        return "menu"
    if await _limited(hub, customer, output):
        return "limited"
    if kind == "text":
        text = str(message.content or "").strip()
        chosen = await hub.run(turn.contacts.choice, openid, text)
        if not text:
            await output.send_text_message(openid, NOT_TEXT)
            return "empty"
        if len(text) > MAX_MESSAGE_CHARS:
            await output.send_text_message(openid, TOO_LONG)
            return "too-long"
        await _to_assistant(turn, openid, chosen or text)
        return "choice" if chosen else "text"
    if kind == "voice":
        recognised = str(message.recognition or "").strip()
        if not recognised:
            await output.send_text_message(openid, VOICE_TEXT)
            return "voice-unrecognised"
        await _to_assistant(turn, openid, recognised[:MAX_MESSAGE_CHARS])
        return "voice"
    if kind == "image":
        return await _evidence(turn, customer, str(message.media_id or ""))
    await output.send_text_message(openid, NOT_TEXT)
    return "not-text"


async def _limited(hub: Hub, customer: Customer, output: WeChatOutput) -> bool:
    refusal = hub.admit(customer)
    if refusal is None:
        return False
    if refusal.notify:
        await output.send_text_message(customer.user_id, slow_down_text(refusal))
    return True


async def _to_assistant(turn: Turn, openid: str, text: str) -> None:
    # The offer of numbered choices holds for one answer: the reply to this message sets the next.
    await turn.hub.run(turn.contacts.offer, openid, [])
    # The message key is the Rasa message id: a turn run again after a crash is the same message to
    # the action server, whose idempotency key then finds the ticket the first run filed.
    await turn.handle(UserMessage(text, turn.output, openid, input_channel=CHANNEL, message_id=f"wechat-{turn.key}"))


async def _evidence(turn: Turn, customer: Customer, media_id: str) -> str:
    """Fetch the image through the media API into the attachment service; the customer hears where
    it went, why it was refused, or that it did not arrive (and may send it again)."""
    hub, output = turn.hub, turn.output
    try:
        if not media_id or len(media_id) > 255:
            raise WeChatRefused("image without a media id")
        data = await output.api.download_media(media_id, hub.attachments.MAX_BYTES)
        accepted = await hub.run(hub.attachments.accept, customer, data, source=CHANNEL)
    except AttachmentRejected as refused:
        await output.send_text_message(customer.user_id, refused.text)
        return "evidence-refused"
    except WeChatRefused as error:
        logger.warning("WeChat image not downloaded: %s", error)
        await output.send_text_message(customer.user_id, EVIDENCE_FAILED)
        return "evidence-failed"
    ticket = accepted.ticket
    routed = await hub.route(customer, f"[{EVIDENCE_KIND}]", output)  # an agent in a live chat sees it
    if not routed:
        text = EVIDENCE_HELD if ticket is None else EVIDENCE_SAVED.format(ticket=ticket.number)
        await output.send_text_message(customer.user_id, text)
    return "evidence" if ticket is not None else "evidence-held"
