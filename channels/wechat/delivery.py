"""Sending to WeChat customers: the bot's replies after the webhook answered, and agents' messages
and notices (results, surveys) afterwards, all through the customer-service message API (客服消息).

WeChat has no inline keyboard: buttons become a numbered list (or, when titles are numbers
themselves, a list of titles to answer with), and the offer is kept so that the customer's "1"
means the button's payload (bot/wechat/contacts.py). Customer-service messages reach a customer
only within 48 hours of their last message: a notice after that goes out as a template message
(模板消息) when WECHAT_TEMPLATE_RESULT is set, and is otherwise recorded as not deliverable (for the
agents and on the ticket), never silently dropped.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Text


from bot.delivery import FailedDeliveries
from bot.errors import IntakeError
from bot.handoff import Message
from bot.tickets import Customer
from bot.wechat import WeChatContacts, numbered
from channels.hub import Undeliverable, format_message
from channels.text_output import TextOutput
from channels.wechat.api import WeChatApi, WeChatRefused

logger = logging.getLogger(__name__)

CHANNEL = "wechat"
RATE_LIMIT_PAUSE = 60.0  # seconds every delivery waits after a 45009 (WeChat names no wait)
CHOOSE_NUMBER = "请回复数字选择："
CHOOSE_TITLE = "请直接回复以下内容之一："
OUT_OF_WINDOW = "客户超过48小时未发消息，微信客服消息无法送达"
NO_TEMPLATE = "（未配置模板消息 WECHAT_TEMPLATE_RESULT），请电话联系客户"


def render(text: str, buttons: Optional[Sequence[Dict[str, Any]]]) -> str:
    """The text with its buttons as choices the customer can answer in words."""
    titles = [str(b.get("title") or "") for b in buttons or () if b.get("title") and b.get("payload")]
    if not titles:
        return text
    if numbered(list(buttons or ())):
        choices = "\n".join(f"{n}. {title}" for n, title in enumerate(titles, 1))
        return f"{text}\n\n{CHOOSE_NUMBER}\n{choices}"
    return f"{text}\n\n{CHOOSE_TITLE}\n" + " / ".join(titles)


class WeChatOutput(TextOutput):
    """Replies of the bot to one customer; failures are kept for the agents instead of raised."""

    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    def __init__(self, api: WeChatApi, contacts: WeChatContacts, failures: FailedDeliveries,
                 run: Callable[..., Awaitable[Any]]) -> None:
        self.api = api
        self.contacts = contacts
        self.failures = failures
        self.run = run

    async def _send(self, recipient_id: Text, text: str, buttons: Optional[List[Dict[str, Any]]] = None) -> None:
        try:
            await self.api.send_text(str(recipient_id), render(text, buttons))
            if buttons:
                await self.run(self.contacts.offer, str(recipient_id), buttons)
        except Undeliverable as error:
            try:
                await self.run(self.failures.record, Customer(CHANNEL, str(recipient_id)), text, str(error))
            except IntakeError:
                logger.error("reply to a wechat customer lost: store unavailable too")


class WeChatCourier:
    """Agents' messages and notices for WeChat customers: any process can call the API, so every
    pending message is this process's to claim and send; one try per round of the pump."""

    channel = CHANNEL

    def __init__(
        self, api: WeChatApi, contacts: WeChatContacts, failures: FailedDeliveries, run: Callable[..., Awaitable[Any]],
        template_id: str = "", clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self.contacts = contacts
        self.failures = failures
        self.run = run
        self.template_id = template_id
        self.clock = clock
        self._paused_until = 0.0

    def holds(self, user_id: str) -> bool:
        return bool(user_id) and self.clock() >= self._paused_until

    def connected(self) -> None:
        return None

    async def deliver(self, user_id: str, message: Message) -> bool:
        if self.clock() < self._paused_until:
            return False
        if not await self.run(self.contacts.in_window, user_id):
            return await self._outside_window(user_id, message)
        try:
            await self.api.send_text(user_id, render(format_message(message), message.buttons), attempts=1)
        except WeChatRefused as error:
            if error.out_of_window:  # WeChat's own clock says the 48 hours are over
                return await self._outside_window(user_id, message)
            if error.code == 45009:
                self._paused_until = self.clock() + RATE_LIMIT_PAUSE
                logger.warning("wechat rate limit: deliveries paused for %.0f s", RATE_LIMIT_PAUSE)
                return False
            if error.transient:
                logger.warning("wechat delivery postponed: %s", error)
                return False
            raise
        if message.buttons:
            await self.run(self.contacts.offer, user_id, list(message.buttons))
        return True

    async def _outside_window(self, user_id: str, message: Message) -> bool:
        """Results and surveys go out as a template message; anything else (an agent's chat message)
        is recorded as not deliverable, for the agents and on the customer's ticket."""
        if self.template_id and message.sender == "system":
            try:
                await self.api.send_template(user_id, self.template_id, render(message.text, message.buttons), attempts=1)
            except WeChatRefused as error:
                if error.transient:
                    return False
                raise
            if message.buttons:
                await self.run(self.contacts.offer, user_id, list(message.buttons))
            return True
        reason = OUT_OF_WINDOW + ("" if self.template_id else NO_TEMPLATE)
        try:
            await self.run(self.failures.record, Customer(CHANNEL, user_id), message.text, reason)
        except IntakeError:
            pass  # the message itself is marked failed by the pump all the same
        raise Undeliverable(reason)
