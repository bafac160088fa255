"""Sending to Telegram customers: the bot's replies within a turn, and agents' messages afterwards.

`TelegramOutput` is the Rasa output channel of one chat: a reply that finally fails is logged (token
and personal data masked) and kept for the agents (see bot/delivery.py) instead of raised.
`TelegramCourier` is the delivery pump's courier for Telegram: one try per round, and a pause for
every chat while Telegram's retry_after runs.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Dict, List, Optional, Text

from aiogram.utils import exceptions

from bot.errors import IntakeError
from bot.handoff import Message
from bot.tickets import Customer
from channels.hub import Hub, Undeliverable, format_message
from channels.telegram.api import TelegramApi, _retryable
from channels.text_output import TextOutput

logger = logging.getLogger(__name__)

MAX_COURIER_PAUSE = 3600.0  # a retry_after beyond an hour is a broken server, not a rate limit


class TelegramOutput(TextOutput):
    """Replies of the bot to one chat; failures are kept for the agents instead of raised."""

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    def __init__(self, api: TelegramApi, hub: Hub, chat_id: int) -> None:
        self.api = api
        self.hub = hub
        self.chat_id = chat_id

    async def _send(self, recipient_id: Text, text: str, buttons: Optional[List[Dict[str, Any]]] = None) -> None:
        try:
            await self.api.send(self.chat_id, text, buttons)
        except Undeliverable as error:
            customer = Customer("telegram", str(recipient_id))
            try:
                await self.hub.run(self.hub.failures.record, customer, text, str(error))
            except IntakeError:
                logger.error("reply to a telegram customer lost: store unavailable too")


class TelegramCourier:
    """Agents' messages to Telegram customers: any process can call the Bot API, so every pending
    message is this process's to claim and send."""

    channel = "telegram"

    def __init__(self, api: TelegramApi, clock: Callable[[], float] = time.monotonic) -> None:
        self.api = api
        self.clock = clock
        self._paused_until = 0.0

    def holds(self, user_id: str) -> bool:
        # While Telegram's retry_after runs, the pump leaves every message pending (unclaimed).
        return user_id.isdigit() and self.clock() >= self._paused_until

    def connected(self) -> None:
        return None

    async def deliver(self, user_id: str, message: Message) -> bool:
        # One try per round of the delivery pump, so a rate limit or an outage never holds up the
        # other channels: a transient failure leaves the message pending for a later round.
        if self.clock() < self._paused_until:
            return False
        try:
            await self.api.send(int(user_id), format_message(message), list(message.buttons) or None, attempts=1)
        except Undeliverable as error:
            cause = error.__cause__
            if isinstance(cause, exceptions.RetryAfter):
                # A 429 names the wait; the pump's next round (a second later) would only earn another
                # one, and Telegram lengthens the wait for bots that keep trying. It does not say which
                # limit was hit (the chat's or the bot's), so every chat waits.
                wait = min(float(cause.timeout), MAX_COURIER_PAUSE)
                self._paused_until = max(self._paused_until, self.clock() + wait)
                logger.warning("telegram rate limit: deliveries paused for %.0f s", wait)
                return False
            if cause is not None and _retryable(cause):
                logger.warning("telegram delivery postponed: %s", error)
                return False
            raise
        return True
