"""The Bot API, through aiogram: one `TelegramApi` per process, with the retries every call needs.

Rate limits (429 with retry_after) and server or network errors are retried with backoff; a call that
finally fails raises `Undeliverable` with a text that is safe to store and show (the token masked).
Long replies are split to Telegram's length limit and HTML-escaped; bot buttons become inline
keyboards whose presses come back as the button payload.
"""

from __future__ import annotations

import asyncio
import html
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional

import aiohttp
from aiogram import Bot, types
from aiogram.bot.api import TelegramAPIServer
from aiogram.utils import exceptions

from bot import logs
from bot.settings import DEFAULT_TELEGRAM_API_BASE
from bot.urls import outbound_url
from channels.hub import Undeliverable

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = DEFAULT_TELEGRAM_API_BASE
CHUNK = 3500  # characters per message, well below Telegram's 4,096 (which counts UTF-16 units after escaping)
CALLBACK_DATA_LIMIT = 64
MAX_ATTEMPTS = 5
MAX_RETRY_AFTER = 60.0


def split_text(text: str, limit: int = CHUNK) -> List[str]:
    """Pieces of at most `limit` characters, cut at line breaks where possible."""
    text = text or ""
    pieces: List[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    if text or not pieces:
        pieces.append(text)
    return pieces


def _retryable(error: BaseException) -> bool:
    if isinstance(error, (exceptions.RetryAfter, exceptions.RestartingTelegram, exceptions.NetworkError)):
        return True
    if isinstance(error, (aiohttp.ClientError, asyncio.TimeoutError)):
        return True
    # 5xx surface as a bare TelegramAPIError; 4xx as its subclasses (BadRequest, Unauthorized, ...).
    return type(error) is exceptions.TelegramAPIError


class TelegramApi:
    """The Bot API through aiogram, with retries. One per process; created lazily on the server loop."""

    def __init__(self, token: str, api_base: str = DEFAULT_API_BASE, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self.token = token
        # The token travels in every request's path: never in clear text across a network.
        self.api_base = outbound_url(api_base or DEFAULT_API_BASE, "TELEGRAM_API_BASE", plain_http="refuse").rstrip("/")
        self._sleep = sleep
        self._bot: Optional[Bot] = None
        self._me: Optional[types.User] = None
        logs.redact(token)

    @property
    def bot(self) -> Bot:
        if self._bot is None:
            self._bot = Bot(token=self.token, server=TelegramAPIServer.from_base(self.api_base), timeout=40)
        return self._bot

    async def close(self) -> None:
        if self._bot is not None:
            await self._bot.session.close()  # Bot.close() is deprecated in aiogram 2 (it will call the API)
            self._bot = None

    async def call(self, what: str, factory: Callable[[], Awaitable[Any]], attempts: int = MAX_ATTEMPTS) -> Any:
        """Call with retries on 429 (after retry_after) and server/network errors (backoff).
        Raises Undeliverable when it finally fails."""
        delay = 0.5
        for attempt in range(1, attempts + 1):
            try:
                return await factory()
            except Exception as error:  # noqa: BLE001 - classified below
                if not _retryable(error) or attempt == attempts:
                    # The text is stored and shown to agents: never with the token in a URL.
                    raise Undeliverable(logs.scrub(f"{what}: {error.__class__.__name__}: {error}")[:255]) from error
                wait = min(float(error.timeout), MAX_RETRY_AFTER) if isinstance(error, exceptions.RetryAfter) else delay
                logger.warning("Bot API %s failed (%s), retry %d in %.1f s", what, error.__class__.__name__, attempt, wait)
                await self._sleep(wait)
                delay *= 2
        raise AssertionError("unreachable")

    async def me(self) -> types.User:
        if self._me is None:
            self._me = await self.call("getMe", self.bot.get_me)
        return self._me

    async def send(
        self, chat_id: int, text: str, buttons: Optional[List[Dict[str, Any]]] = None, attempts: int = MAX_ATTEMPTS
    ) -> None:
        pieces = split_text(text)
        for index, piece in enumerate(pieces):
            markup = _keyboard(buttons) if buttons and index == len(pieces) - 1 else None
            await self.call(
                "sendMessage",
                lambda piece=piece, markup=markup: self.bot.send_message(
                    chat_id, html.escape(piece, quote=False) or "…", parse_mode="HTML",
                    reply_markup=markup, disable_web_page_preview=True,
                ),
                attempts,
            )


def _keyboard(buttons: List[Dict[str, Any]]) -> Optional[types.InlineKeyboardMarkup]:
    rows = []
    for button in buttons:
        title, payload = str(button.get("title") or ""), str(button.get("payload") or "")
        if not title or not payload or len(payload.encode()) > CALLBACK_DATA_LIMIT:
            logger.warning("button %r left out: Telegram allows %d bytes of callback data", title, CALLBACK_DATA_LIMIT)
            continue
        rows.append([types.InlineKeyboardButton(text=title, callback_data=payload)])
    return types.InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


async def _quietly(call: Awaitable[Any]) -> None:
    try:
        await call
    except Undeliverable as error:
        logger.warning("%s", error)
