"""Telegram: the same assistant in a messaging app, through aiogram (Bot API types and calls).

Registered as ``telegram``: the webhook is ``/webhooks/telegram/webhook``. Configuration comes from
credentials.yml (``${VAR}`` substitution, see scripts/env.sh for the variables):

    access_token    the bot token from @BotFather (never committed, never logged)
    webhook_url     public HTTPS URL of the webhook; when set, the webhook is registered on start
    webhook_secret  checked against X-Telegram-Bot-Api-Secret-Token on every webhook call (403 otherwise)
    api_base        Bot API server (default Telegram's; tests and private Bot API servers set their own)
    mode            ``webhook`` (default) or ``polling`` (getUpdates; for operators without a public URL)

Without a token the channel stays off: its webhook answers 503 and nothing is started.

Updates are claimed by update_id in the database with a lease that is renewed while the turn runs,
and marked done only when the turn completed: a redelivery of a handled update is answered as a
duplicate, one of an update whose process died mid-turn is handled again (at-least-once; the update
is the Rasa message_id, so the action server files its ticket once), and one that arrives while
another process is still handling the update waits for it or is told to come back (503).

Private chats only: in groups the bot answers only when addressed, and then only to ask for a
private chat. Replies are HTML-escaped and split to Telegram's length limit; bot
buttons become inline keyboards whose presses come back as the button payload. Rate limits (429 with
retry_after) and server errors are retried with backoff; a reply that finally fails is logged (token
and personal data masked) and kept for the agents (see bot/delivery.py).
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import time
import uuid
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

import aiohttp
from aiogram import Bot, types
from aiogram.bot.api import TelegramAPIServer
from aiogram.utils import exceptions
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import logs
from bot.delivery import Claim
from bot.errors import IntakeError, InvalidInput
from bot.handoff import Message
from bot.text import MAX_MESSAGE_CHARS
from bot.tickets import Customer
from bot.urls import outbound_url
from channels.hub import Hub, Undeliverable, format_message, get_hub, slow_down_text

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.telegram.org"
CHUNK = 3500  # characters per message, well below Telegram's 4,096 (which counts UTF-16 units after escaping)
CALLBACK_DATA_LIMIT = 64
MAX_ATTEMPTS = 5
MAX_RETRY_AFTER = 60.0
MAX_COURIER_PAUSE = 3600.0  # a retry_after beyond an hour is a broken server, not a rate limit
ALLOWED_UPDATES = ["message", "callback_query"]
# A redelivery that finds another process handling its update waits this long for it (a dead
# process's claim runs out meanwhile) before Telegram is told to retry later.
HOLD_SECONDS = 20.0
HOLD_POLL = 0.5
# Long polling retries an update whose turn raised this many times before it is recorded and skipped.
POLL_ATTEMPTS = 3
POLL_RETRY_PAUSE = 1.0  # seconds, times the number of tries so far

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
GROUP_TEXT = "为了保护您的隐私，请私聊我办理业务（点击我的头像，选择“发消息”）。"
TOO_LONG = f"您的消息太长了（超过{MAX_MESSAGE_CHARS}字），请分几条发送。"

_PHOTO, _DOCUMENT = "照片", "文件"
_NOT_TEXT_KINDS = (
    "sticker", "voice", "audio", "video", "video_note", "animation", "location", "venue", "contact", "poll", "dice", "game",
)


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


class TelegramOutput(OutputChannel):
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

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self._send(recipient_id, text)

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self._send(recipient_id, text, buttons)

    async def send_quick_replies(
        self, recipient_id: Text, text: Text, quick_replies: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self._send(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self._send(recipient_id, image)


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


class TelegramInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(
            token=str(credentials.get("access_token") or ""),
            webhook_url=str(credentials.get("webhook_url") or ""),
            webhook_secret=str(credentials.get("webhook_secret") or ""),
            api_base=str(credentials.get("api_base") or DEFAULT_API_BASE),
            mode=str(credentials.get("mode") or "webhook"),
        )

    def __init__(
        self, token: str = "", webhook_url: str = "", webhook_secret: str = "", api_base: str = DEFAULT_API_BASE,
        mode: str = "webhook",
    ) -> None:
        if mode not in ("webhook", "polling"):
            raise ValueError(f"telegram mode must be 'webhook' or 'polling', not {mode!r}")
        self.token = token.strip()
        self.webhook_url = webhook_url.strip()
        self.webhook_secret = webhook_secret.strip()
        self.mode = mode
        self.api: Optional[TelegramApi] = None
        if self.token:
            try:
                from aiogram.bot.api import check_token

                check_token(self.token)
            except exceptions.ValidationError:
                raise ValueError("TELEGRAM_BOT_TOKEN is not a bot token (expected digits:characters)") from None
            self.api = TelegramApi(self.token, api_base)
        if self.webhook_secret:
            logs.redact(self.webhook_secret)
        self._poller: Optional[asyncio.Task] = None

    def get_output_channel(self) -> Optional[OutputChannel]:
        return None  # replies go to the chat of each update

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hub = get_hub()
        blueprint = Blueprint("telegram_webhook", __name__)
        handle = hub.gated(on_new_message)
        api = self.api
        if api is not None:
            hub.register(TelegramCourier(api))

        @blueprint.listener("after_server_start")
        async def start(app: Any, loop: Any) -> None:
            await hub.start()
            if api is None:
                return
            if self.mode == "polling":
                self._poller = asyncio.get_running_loop().create_task(self._poll(hub, handle))
            elif self.webhook_url:
                await self._register_webhook()

        @blueprint.listener("before_server_stop")
        async def stop(app: Any, loop: Any) -> None:
            if self._poller is not None:
                self._poller.cancel()
            if api is not None:
                await api.close()

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if api else "not configured", "mode": self.mode})

        @blueprint.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if api is None:
                return response.json({"error": "telegram channel not configured"}, status=503)
            if self.mode != "webhook":
                return response.json({"error": "this bot uses long polling"}, status=404)
            given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
            if not self.webhook_secret or not _same(given, self.webhook_secret):
                logger.warning("telegram webhook call with a wrong or missing secret from %s", request.remote_addr or request.ip)
                return response.json({"error": "forbidden"}, status=403)
            try:
                data = json.loads(request.body or b"")
            except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: JSON nested absurdly deep
                return response.json({"error": "body is not JSON"}, status=400)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int) or isinstance(data.get("update_id"), bool):
                return response.json({"error": "not a Telegram update"}, status=400)
            try:
                status = await self.process(hub, handle, data)
            except _Malformed as error:
                return response.json({"error": f"malformed update: {error}"}, status=400)
            except _Busy:
                # Another process is still on it: Telegram comes back later and then finds it done.
                return response.json({"error": "update is being handled; retry later"}, status=503)
            except InvalidInput as error:  # e.g. a file id the store cannot take: the update's fault, not an outage
                return response.json({"error": f"malformed update: {error}"}, status=400)
            except IntakeError:
                # The store is down: Telegram retries the update later, and nothing was claimed.
                return response.json({"error": "temporarily unavailable"}, status=503)
            return response.json({"status": status})

        return blueprint

    # -- updates --------------------------------------------------------------------------

    async def process(self, hub: Hub, handle: Callable[[UserMessage], Awaitable[Any]], data: Dict[str, Any]) -> str:
        """Handle one update; returns what became of it (for the webhook's answer and the logs)."""
        assert self.api is not None
        received = time.monotonic()
        problem = _shape_problem(data)
        if problem is not None:
            raise _Malformed(problem)
        try:
            update = types.Update.to_object(data)
        except Exception as error:  # aiogram raises assorted errors on shapes it does not expect
            raise _Malformed(error.__class__.__name__) from error
        update_id = str(update.update_id)
        logs.bind(channel=self.name())
        sender = update.message.from_user if update.message else (update.callback_query.from_user if update.callback_query else None)
        if sender is not None:
            # Customers' names come with every update: whatever is logged while it is handled masks them.
            logs.personal(sender.first_name, sender.last_name, sender.username, sender.full_name)
        holder = uuid.uuid4().hex
        held_until = time.monotonic() + HOLD_SECONDS
        while True:
            claim = await hub.run(hub.inbound.claim, self.name(), update_id, holder)
            if claim is Claim.DONE:
                return "duplicate"
            if claim is Claim.TAKEN:
                break
            if time.monotonic() >= held_until:
                raise _Busy(update_id)
            await asyncio.sleep(HOLD_POLL)
        keeper = asyncio.get_running_loop().create_task(self._keep_claim(hub, update_id, holder))
        try:
            status = await self._dispatch(hub, handle, update)
        except BaseException:  # also a cancelled request (Telegram hung up): let a redelivery try again
            keeper.cancel()
            try:
                await asyncio.shield(hub.run(hub.inbound.release, self.name(), update_id, holder))
            except IntakeError:
                pass  # the claim runs out by itself
            raise
        keeper.cancel()
        try:
            await hub.run(hub.inbound.done, self.name(), update_id)
        except IntakeError as error:  # answered all the same; a redelivery after the lease runs it again
            logger.warning("telegram update %s handled but not marked done: %s", update_id, error.__class__.__name__)
        logger.debug("telegram update %s %s in %.0f ms", update_id, status, (time.monotonic() - received) * 1000)
        return status

    async def _keep_claim(self, hub: Hub, update_id: str, holder: str) -> None:
        """Renew the claim while the turn runs: only a process that died (or stalled for a whole
        lease) loses it, however long the turn takes."""
        every = hub.inbound.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            try:
                if not await hub.run(hub.inbound.renew, self.name(), update_id, holder):
                    logger.warning("claim on telegram update %s lost; a redelivery may handle it again", update_id)
                    return
            except IntakeError as error:
                logger.warning("claim on telegram update %s not renewed: %s", update_id, error.__class__.__name__)

    async def _dispatch(self, hub: Hub, handle: Callable[[UserMessage], Awaitable[Any]], update: types.Update) -> str:
        api = self.api
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
            if await self._limited(hub, str(query.from_user.id), TelegramOutput(api, hub, message.chat.id)):
                return "limited"
            await self._to_assistant(hub, handle, query.data, query.from_user.id, message.chat.id, update.update_id)
            return "button"
        message = update.message
        if message is None or message.from_user is None or message.chat is None:
            return "ignored"  # edited messages, channel posts, etc.
        chat_id = message.chat.id
        output = TelegramOutput(api, hub, chat_id)
        sender = str(message.from_user.id)
        if message.chat.type != "private":
            if await self._addressed(message):
                await output.send_text_message(sender, GROUP_TEXT)
                return "group-redirected"
            return "ignored"
        if await self._limited(hub, sender, output):
            return "limited"
        if message.text is not None:
            text = message.text.strip()
            command = text.split()[0].split("@")[0].lower() if text.startswith("/") else None
            if command == "/start":
                await output.send_text_message(sender, START_TEXT)
                await hub.first_contact(Customer(self.name(), sender), output)
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
            await self._to_assistant(hub, handle, text, message.from_user.id, chat_id, update.update_id)
            return "text"
        if message.photo or message.document:
            return await self._evidence(hub, handle, message, output, sender)
        await output.send_text_message(sender, NOT_TEXT)
        return "not-text"

    async def _limited(self, hub: Hub, sender: str, output: "TelegramOutput") -> bool:
        """Over the customer's message limit: the update is done (a retry would only add to the
        flood), and the customer is told once in a while, not once per message."""
        refusal = hub.admit(Customer(self.name(), sender))
        if refusal is None:
            return False
        if refusal.notify:
            await output.send_text_message(sender, slow_down_text(refusal))
        return True

    async def _to_assistant(
        self, hub: Hub, handle: Callable[[UserMessage], Awaitable[Any]], text: str, user_id: int, chat_id: int,
        update_id: int,
    ) -> None:
        output = TelegramOutput(self.api, hub, chat_id)
        # The update is the message's id: a redelivery after a crash is the same message to the action
        # server, whose idempotency key then finds the ticket the first try filed.
        await handle(
            UserMessage(text, output, str(user_id), input_channel=self.name(), metadata={"chat_id": chat_id},
                        message_id=f"telegram-{chat_id}-{update_id}")
        )

    async def _evidence(
        self, hub: Hub, handle: Callable[[UserMessage], Awaitable[Any]], message: types.Message, output: TelegramOutput,
        sender: str,
    ) -> str:
        if message.photo:
            kind, file_id = _PHOTO, message.photo[-1].file_id  # the largest size
        else:
            kind, file_id = _DOCUMENT, message.document.file_id
        customer = Customer(self.name(), sender)
        caption = (message.caption or "").strip()
        ticket = await hub.run(hub.tickets.add_evidence, customer, kind, file_id, caption)
        # An agent talking to the customer sees it in the live chat too.
        routed = await hub.route(customer, f"[{kind}] {caption}".strip(), output)
        if ticket is None:
            if not routed:
                await output.send_text_message(sender, EVIDENCE_HELD.format(kind=kind))
            return "evidence-held"
        if not routed:
            await output.send_text_message(sender, EVIDENCE_SAVED.format(kind=kind, ticket=ticket.number))
        return "evidence"

    async def _addressed(self, message: types.Message) -> bool:
        me = await self.api.me()
        if message.reply_to_message is not None and message.reply_to_message.from_user is not None:
            if message.reply_to_message.from_user.id == me.id:
                return True
        text = message.text or message.caption or ""
        return bool(me.username) and f"@{me.username}".lower() in text.lower()

    async def _register_webhook(self) -> None:
        api = self.api
        payload = {"url": self.webhook_url, "allowed_updates": json.dumps(ALLOWED_UPDATES)}
        if self.webhook_secret:
            payload["secret_token"] = self.webhook_secret
        try:
            # aiogram 2.15 predates secret_token in set_webhook: the raw call carries it.
            await api.call("setWebhook", lambda: api.bot.request("setWebhook", payload))
            logger.info("telegram webhook registered at %s", self.webhook_url)
        except Undeliverable as error:
            logger.error("telegram webhook not registered: %s", error)

    async def _poll(self, hub: Hub, handle: Callable[[UserMessage], Awaitable[Any]]) -> None:
        """Long polling (getUpdates) for bots without a public webhook URL."""
        api = self.api
        await _quietly(api.call("deleteWebhook", api.bot.delete_webhook))
        offset: Optional[int] = None
        failures: Dict[int, int] = {}
        logger.info("telegram long polling started")
        while True:
            try:
                updates = await api.bot.get_updates(offset=offset, timeout=25, allowed_updates=ALLOWED_UPDATES)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - keep polling through outages
                logger.warning("getUpdates failed (%s); retrying", error.__class__.__name__)
                await asyncio.sleep(3)
                continue
            for update in updates:
                try:
                    with logs.context():
                        await self.process(hub, handle, update.to_python())
                except asyncio.CancelledError:
                    raise
                except (IntakeError, _Busy) as error:
                    # The store is down (or another poller is on it): do not confirm this update;
                    # getUpdates returns it again.
                    logger.warning("telegram update %s not taken (%s); retrying", update.update_id, error.__class__.__name__)
                    await asyncio.sleep(3)
                    break
                except Exception as error:  # noqa: BLE001 - retried a few times, then recorded and skipped
                    failures[update.update_id] = tries = failures.get(update.update_id, 0) + 1
                    if tries < POLL_ATTEMPTS:
                        logger.exception(
                            "telegram update %s failed (try %d of %d)", update.update_id, tries, POLL_ATTEMPTS
                        )
                        await asyncio.sleep(POLL_RETRY_PAUSE * tries)
                        break  # not confirmed: getUpdates returns it again
                    logger.exception("telegram update %s failed %d times; skipped", update.update_id, tries)
                    try:
                        reason = f"failed {tries} times: {error.__class__.__name__}"
                        await hub.run(hub.inbound.give_up, self.name(), str(update.update_id), reason)
                    except IntakeError:
                        await asyncio.sleep(3)
                        break
                failures.pop(update.update_id, None)
                offset = update.update_id + 1


class _Malformed(ValueError):
    pass


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) < value < 2**63


def _is_file_id(value: Any) -> bool:
    # What TicketService.add_evidence takes (1 to 255 characters); refused here, before the update is claimed.
    return isinstance(value, str) and 0 < len(value.strip()) and len(value) <= 255


def _shape_problem(data: Dict[str, Any]) -> Optional[str]:
    """What makes an update unusable, found before aiogram reads it. aiogram builds its objects from
    any JSON without checking types, so a string where a message belongs, a number as the text or a
    non-integer id used to fail deep inside the turn (a 500) or be sent on to the Bot API."""
    if not _is_id(data.get("update_id")):
        return "update_id out of range"
    query = data.get("callback_query")
    if query is not None:
        if not isinstance(query, dict) or not isinstance(query.get("id"), str):
            return "callback_query needs a string id"
        if not isinstance(query.get("from"), dict) or not _is_id(query["from"].get("id")):
            return "callback_query.from needs an integer id"
        if not isinstance(query.get("data"), (str, type(None))):
            return "callback_query.data is not a string"
        if query.get("message") is not None:
            return _message_problem(query["message"], "callback_query.message")
    if data.get("message") is not None:
        return _message_problem(data["message"], "message")
    return None


def _message_problem(message: Any, where: str) -> Optional[str]:
    if not isinstance(message, dict):
        return f"{where} is not an object"
    for key in ("from", "chat"):
        part = message.get(key)
        if part is not None and (not isinstance(part, dict) or not _is_id(part.get("id"))):
            return f"{where}.{key} needs an integer id"
    user = message.get("from") or {}
    if not all(isinstance(user.get(key), (str, type(None))) for key in ("first_name", "last_name", "username")):
        return f"{where}.from has a name that is not a string"
    if message.get("chat") is not None and not isinstance(message["chat"].get("type"), str):
        return f"{where}.chat.type is not a string"
    for key in ("text", "caption"):
        if not isinstance(message.get(key), (str, type(None))):
            return f"{where}.{key} is not a string"
    photo, document = message.get("photo"), message.get("document")
    if photo is not None and not (
        isinstance(photo, list) and all(isinstance(p, dict) and _is_file_id(p.get("file_id")) for p in photo)
    ):
        return f"{where}.photo is not a list of photo sizes"
    if document is not None and not (isinstance(document, dict) and _is_file_id(document.get("file_id"))):
        return f"{where}.document has no file id"
    reply = message.get("reply_to_message")
    if reply is not None and (not isinstance(reply, dict) or not isinstance(reply.get("from"), (dict, type(None)))):
        return f"{where}.reply_to_message is not a message"
    return None


class _Busy(Exception):
    """Another process holds a live claim on the update."""


def _same(given: str, expected: str) -> bool:
    import hmac

    return hmac.compare_digest(given.encode(), expected.encode())


async def _quietly(call: Awaitable[Any]) -> None:
    try:
        await call
    except Undeliverable as error:
        logger.warning("%s", error)
