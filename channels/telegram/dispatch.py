"""What a customer's update asks for, once it is claimed: a command, a button press, text for the
assistant, a photo or file as evidence, or (in a group) the request to talk in private.

Private chats only: in groups the bot answers only when addressed, and then only to ask for a
private chat. Customers over their message limit are told to slow down once in a while.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

from aiogram import types
from rasa.core.channels.channel import UserMessage

from bot.attachments import AttachmentRejected
from bot.text import MAX_MESSAGE_CHARS
from bot.tickets import Customer
from channels.hub import Hub, slow_down_text
from channels.telegram import files
from channels.telegram.api import TelegramApi, _quietly
from channels.telegram.delivery import TelegramOutput

logger = logging.getLogger(__name__)

CHANNEL = "telegram"

START_TEXT = (
    "您好，我是在线客服助手。\n"
    "• 咨询：话费、流量、套餐、宽带等问题直接问我；\n"
    "• 投诉：告诉我遇到的故障或不满，我帮您登记工单并告知处理时限；\n"
    "• 查询进度：发送 /status 查看您的工单；\n"
    "• 人工服务：发送“转人工”。\n"
    "投诉时可以直接发送截图或照片，我会作为证据附到工单上。\n\n"
    "隐私说明：为处理您的咨询和投诉，我们会记录对话内容、您的 Telegram 账号标识和您提供的联系电话，"
    "仅用于处理您的问题。"
)
HELP_TEXT = (
    "可以这样使用我：\n"
    "• 直接用文字描述问题，例如“宽带断网了”“这个月话费多扣了”；\n"
    "• /status 查看工单进度；\n"
    "• 发送“转人工”联系人工客服；\n"
    "• /start 查看服务说明和隐私说明。"
)
NOT_TEXT = "暂时只能处理文字消息（投诉时也可以发送照片或截图作为证据），请用文字描述您的问题。"
EVIDENCE_SAVED = "已将{kind}作为证据附到工单 {ticket} 上，处理人员可以看到。"
EVIDENCE_HELD = "收到{kind}，登记投诉时会作为证据一并附到工单上。请用文字描述您遇到的问题。"
EVIDENCE_FAILED = "{kind}没有接收成功，请稍后重新发送。"
GROUP_TEXT = "为了保护您的隐私，请私聊我办理业务（点击我的头像，选择“发消息”）。"
TOO_LONG = f"您的消息太长了（超过{MAX_MESSAGE_CHARS}字），请分几条发送。"

_PHOTO, _DOCUMENT = "照片", "文件"


async def dispatch(
    api: TelegramApi, hub: Hub, handle: Callable[[UserMessage], Awaitable[Any]], update: types.Update
) -> str:
    """Act on one claimed update; returns what became of it (for the webhook's answer and the logs)."""
    if update.callback_query is not None:
        query = update.callback_query
        await _quietly(api.call("answerCallbackQuery", lambda: api.bot.answer_callback_query(query.id)))
        message = query.message
        if message is None or message.chat.type != "private" or not query.data or query.from_user is None:
            return "ignored"
        # The keyboard has been used: take it away so an old button cannot be pressed again.
        await _quietly(
            api.call(
                "editMessageReplyMarkup",
                lambda: api.bot.edit_message_reply_markup(message.chat.id, message.message_id, reply_markup=None),
            )
        )
        if await _limited(hub, str(query.from_user.id), TelegramOutput(api, hub, message.chat.id)):
            return "limited"
        await _to_assistant(api, hub, handle, query.data, query.from_user.id, message.chat.id, update.update_id)
        return "button"
    message = update.message
    if message is None or message.from_user is None or message.chat is None:
        return "ignored"  # edited messages, channel posts, etc.
    chat_id = message.chat.id
    output = TelegramOutput(api, hub, chat_id)
    sender = str(message.from_user.id)
    if message.chat.type != "private":
        if await _addressed(api, message):
            await output.send_text_message(sender, GROUP_TEXT)
            return "group-redirected"
        return "ignored"
    if await _limited(hub, sender, output):
        return "limited"
    if message.text is not None:
        text = message.text.strip()
        command = text.split()[0].split("@")[0].lower() if text.startswith("/") else None
        if command == "/start":
            await output.send_text_message(sender, START_TEXT)
            await hub.first_contact(Customer(CHANNEL, sender), output)
            return "start"
        if command == "/help":
            await output.send_text_message(sender, HELP_TEXT)
            return "help"
        if command == "/status":
            text = "/check_ticket_status"
        elif command is not None:
            await output.send_text_message(sender, HELP_TEXT)
            return "unknown-command"
        if not text:
            await output.send_text_message(sender, NOT_TEXT)
            return "empty"
        if len(text) > MAX_MESSAGE_CHARS:
            await output.send_text_message(sender, TOO_LONG)
            return "too-long"
        await _to_assistant(api, hub, handle, text, message.from_user.id, chat_id, update.update_id)
        return "text"
    if message.photo or message.document:
        return await _evidence(api, hub, message, output, sender)
    await output.send_text_message(sender, NOT_TEXT)
    return "not-text"

async def _limited(hub: Hub, sender: str, output: "TelegramOutput") -> bool:
    """Over the customer's message limit: the update is done (a retry would only add to the
    flood), and the customer is told once in a while, not once per message."""
    refusal = hub.admit(Customer(CHANNEL, sender))
    if refusal is None:
        return False
    if refusal.notify:
        await output.send_text_message(sender, slow_down_text(refusal))
    return True

async def _to_assistant(
    api: TelegramApi, hub: Hub, handle: Callable[[UserMessage], Awaitable[Any]], text: str, user_id: int, chat_id: int,
    update_id: int,
) -> None:
    output = TelegramOutput(api, hub, chat_id)
    # The update is the message's id: a redelivery after a crash is the same message to the action
    # server, whose idempotency key then finds the ticket the first try filed.
    await handle(
        UserMessage(text, output, str(user_id), input_channel=CHANNEL, metadata={"chat_id": chat_id},
                    message_id=f"telegram-{chat_id}-{update_id}")
    )

async def _evidence(
    api: TelegramApi, hub: Hub, message: types.Message, output: TelegramOutput, sender: str,
) -> str:
    """Download the photo (its largest size) or document and hand it to the attachment service;
    the customer hears where it went, why it was refused, or that it did not arrive."""
    if message.photo:
        kind, item, name = _PHOTO, message.photo[-1], ""
    else:
        kind, item, name = _DOCUMENT, message.document, message.document.file_name or ""
    customer = Customer(CHANNEL, sender)
    caption = (message.caption or "").strip()
    try:
        data = await files.fetch(api, item.file_id, item.file_size, hub.attachments.MAX_BYTES)
        accepted = await hub.run(hub.attachments.accept, customer, data, source=CHANNEL, filename=name, caption=caption)
    except AttachmentRejected as refused:
        await output.send_text_message(sender, refused.text)
        return "evidence-refused"
    except files.DownloadFailed as error:
        logger.warning("evidence not downloaded: %s", error)
        await output.send_text_message(sender, EVIDENCE_FAILED.format(kind=kind))
        return "evidence-failed"
    ticket = accepted.ticket
    # An agent talking to the customer sees it in the live chat too.
    routed = await hub.route(customer, f"[{kind}] {caption}".strip(), output)
    if ticket is None:
        if not routed:
            await output.send_text_message(sender, EVIDENCE_HELD.format(kind=kind))
        return "evidence-held"
    if not routed:
        await output.send_text_message(sender, EVIDENCE_SAVED.format(kind=kind, ticket=ticket.number))
    return "evidence"

async def _addressed(api: TelegramApi, message: types.Message) -> bool:
    me = await api.me()
    if message.reply_to_message is not None and message.reply_to_message.from_user is not None:
        if message.reply_to_message.from_user.id == me.id:
            return True
    text = message.text or message.caption or ""
    return bool(me.username) and f"@{me.username}".lower() in text.lower()
