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

What an update asks for is decided in `channels.telegram.dispatch`; replies and agents' messages go
out through `channels.telegram.delivery`, and every Bot API call through `channels.telegram.api`.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from aiogram import types
from aiogram.bot.api import check_token
from aiogram.utils import exceptions
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import logs
from bot.delivery import Claim
from bot.errors import IntakeError, InvalidInput
from channels.hub import Hub, Undeliverable, attach
from channels.telegram.api import DEFAULT_API_BASE, TelegramApi, _quietly
from channels.telegram.delivery import TelegramCourier
from channels.telegram.dispatch import dispatch
from channels.telegram.shape import _shape_problem

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]
# A redelivery that finds another process handling its update waits this long for it (a dead
# process's claim runs out meanwhile) before Telegram is told to retry later.
HOLD_SECONDS = 20.0
HOLD_POLL = 0.5
# Long polling retries an update whose turn raised this many times before it is recorded and skipped.
POLL_ATTEMPTS = 3
POLL_RETRY_PAUSE = 1.0  # seconds, times the number of tries so far


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
        blueprint = Blueprint("telegram_webhook", __name__)
        api = self.api
        # The app's hub, built when the server starts (channels/hub/setup.py).
        handle = attach(blueprint, [TelegramCourier(api)] if api is not None else []).gated(on_new_message)

        @blueprint.listener("after_server_start")
        async def start(app: Any, loop: Any) -> None:
            hub: Hub = app.ctx.hub
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
                status = await self.process(request.app.ctx.hub, handle, data)
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
            status = await dispatch(self.api, hub, handle, update)
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


class _Busy(Exception):
    """Another process holds a live claim on the update."""


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
