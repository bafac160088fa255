"""WeChat Official Account: the same assistant in WeChat, registered as ``wechat``; the webhook is
``/webhooks/wechat/webhook`` (README "WeChat"). Configured by bot/settings.py (WECHAT_*); off, and
the webhook answering 503, while WECHAT_APP_ID is empty.

* GET is WeChat's verification handshake: the signature of token, timestamp and nonce, then the
  ``echostr`` echoed. POST carries a message, in plaintext or, with WECHAT_AES_KEY, in safe mode
  (AES, with its own message signature). A bad signature or a timestamp older than five minutes is
  answered 403 and changes nothing.
* **The 5-second rule.** WeChat waits five seconds and then retries. The message is stored and
  claimed (bot/wechat/inbox.py) and answered ``success`` at once; the turn runs afterwards and its
  replies go out through the customer-service message API. A repeat (same MsgId, or FromUserName +
  CreateTime for events) is answered ``success`` and dropped. The claim is a lease renewed while
  the turn runs: a message whose process died is taken over by WeChat's retry or by the sweep
  every few seconds (at-least-once).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import datetime, timezone
from xml.parsers.expat import ExpatError
from typing import Any, Awaitable, Callable, Dict, Optional, Set, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature

from bot import logs
from bot.errors import IntakeError
from bot.settings import Settings
from bot.wechat import AccessTokens, InboxClaim, WeChatContacts, WeChatInbox
from channels.hub import Hub, attach, setup_hub
from channels.wechat.api import WeChatApi
from channels.wechat.delivery import WeChatCourier, WeChatOutput
from channels.wechat.dispatch import Turn, dispatch
from channels.wechat.shape import message_key, shape_problem

logger = logging.getLogger(__name__)

MAX_AGE_SECONDS = 300  # a signed request older (or further in the future) than this is refused
MAX_BODY = 64 * 1024
SWEEP_SECONDS = 5.0
PRUNE_SECONDS = 3600.0


class WeChatInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls()  # everything comes from bot/settings.py when the server starts

    def get_output_channel(self) -> Optional[OutputChannel]:
        return None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("wechat_webhook", __name__)
        handle = attach(blueprint).gated(on_new_message)

        @blueprint.listener("before_server_start")
        async def wire(app: Any, loop: Any) -> None:
            hub = setup_hub(app)
            settings: Settings = app.ctx.settings
            app.ctx.wechat = WeChat(settings, hub, handle) if settings.wechat_app_id else None

        @blueprint.listener("after_server_start")
        async def start(app: Any, loop: Any) -> None:
            if app.ctx.wechat is not None:
                app.ctx.wechat.start()

        @blueprint.listener("before_server_stop")
        async def stop(app: Any, loop: Any) -> None:
            if app.ctx.wechat is not None:
                await app.ctx.wechat.stop()

        @blueprint.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok" if request.app.ctx.wechat else "not configured"})

        @blueprint.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            channel: Optional[WeChat] = request.app.ctx.wechat
            if channel is None:
                return response.json({"error": "wechat channel not configured"}, status=503)
            if not channel.signed(request):
                return response.text("forbidden", status=403)
            return response.text(request.args.get("echostr", ""))

        @blueprint.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            channel: Optional[WeChat] = request.app.ctx.wechat
            if channel is None:
                return response.json({"error": "wechat channel not configured"}, status=503)
            if not channel.signed(request):
                logger.warning("wechat webhook call with a bad signature or timestamp from %s", request.remote_addr or request.ip)
                return response.text("forbidden", status=403)
            if len(request.body or b"") > MAX_BODY:
                return response.text("too large", status=413)
            try:
                xml = channel.open(request)
            except InvalidSignatureException:
                return response.text("forbidden", status=403)
            except (InvalidAppIdException, ExpatError, ValueError, TypeError, KeyError, IndexError):
                return response.text("malformed", status=400)
            try:
                return response.text(await channel.receive(xml))
            except _Malformed as error:
                return response.text(f"malformed: {error}", status=400)
            except IntakeError:
                return response.text("temporarily unavailable", status=503)  # nothing claimed: WeChat retries

        return blueprint


class _Malformed(ValueError):
    pass


class WeChat:
    """The channel of one process: its API client, the inbox, and the turns running in background."""

    def __init__(self, settings: Settings, hub: Hub, handle: Callable[[UserMessage], Awaitable[Any]]) -> None:
        self.settings = settings
        self.hub = hub
        self.handle = handle
        self.token = settings.wechat_token
        logs.redact(settings.wechat_token)
        logs.redact(settings.wechat_aes_key)
        self.crypto = (
            WeChatCrypto(settings.wechat_token, settings.wechat_aes_key, settings.wechat_app_id)
            if settings.wechat_aes_key else None
        )
        self.inbox = WeChatInbox(hub.db)
        self.contacts = WeChatContacts(hub.db)
        self.api = WeChatApi(
            settings.wechat_app_id, settings.wechat_app_secret, AccessTokens(hub.db, settings.wechat_app_id), hub.run,
            settings.wechat_api_base,
        )
        self.output = WeChatOutput(self.api, self.contacts, hub.failures, hub.run)
        hub.register(WeChatCourier(self.api, self.contacts, hub.failures, hub.run, settings.wechat_template_result))
        self.holder = uuid.uuid4().hex
        self.sweep_seconds = SWEEP_SECONDS
        self._tasks: Set[asyncio.Task] = set()
        self._sweeper: Optional[asyncio.Task] = None

    def start(self) -> None:
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def stop(self) -> None:
        for task in [self._sweeper, *self._tasks]:
            if task is not None:
                task.cancel()
        await self.api.close()

    # -- the request ----------------------------------------------------------------------

    def signed(self, request: Request) -> bool:
        args = request.args
        signature, timestamp, nonce = args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", "")
        if not (signature and timestamp.isdigit() and nonce) or abs(time.time() - int(timestamp)) > MAX_AGE_SECONDS:
            return False
        try:
            check_signature(self.token, signature, timestamp, nonce)
        except InvalidSignatureException:
            return False
        return True

    def open(self, request: Request) -> str:
        """The message's XML: decrypted (and its message signature checked) in safe mode."""
        body = (request.body or b"").decode("utf-8")
        if self.crypto is None:
            return body
        args = request.args
        if args.get("encrypt_type", "") != "aes":
            raise InvalidSignatureException()  # safe mode takes encrypted messages only
        return self.crypto.decrypt_message(body, args.get("msg_signature", ""), args.get("timestamp", ""), args.get("nonce", ""))

    async def receive(self, xml: str) -> str:
        """Claim the message and start its turn; WeChat gets its answer at once."""
        try:
            message = parse_message(xml)
        except Exception as error:  # noqa: BLE001 - xmltodict and wechatpy raise assorted errors on bad XML
            raise _Malformed(error.__class__.__name__) from None
        problem = shape_problem(message)
        if problem is not None:
            raise _Malformed(problem)
        key = message_key(message)
        logs.bind(channel="wechat", sender_id=str(message.source))
        logs.personal(str(message.source))
        claim = await self.hub.run(self.inbox.take, key, str(message.source), xml, self.holder)
        if claim is not InboxClaim.TAKEN:
            return "success"  # a repeat: done, or running right now in some process
        await self.hub.run(self.contacts.seen, str(message.source), _created(message))
        self._spawn(key, message)
        return "success"

    def _spawn(self, key: str, message: Any) -> None:
        task = asyncio.get_running_loop().create_task(self._turn(key, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _turn(self, key: str, message: Any) -> None:
        with logs.context(sender_id=str(message.source), channel="wechat"):
            logs.personal(str(message.source))
            keeper = asyncio.get_running_loop().create_task(self._keep(key))
            started = time.monotonic()
            try:
                turn = Turn(self.hub, self.handle, self.output, self.contacts, key)
                status = await dispatch(turn, message)
            except asyncio.CancelledError:
                keeper.cancel()
                raise  # the claim runs out; the sweep of another (or the next) process runs it again
            except Exception as error:  # noqa: BLE001 - given back for the sweep, up to a few attempts
                keeper.cancel()
                logger.exception("wechat message %s failed", key)
                try:
                    await self.hub.run(self.inbox.release, key, self.holder, error.__class__.__name__)
                except IntakeError:
                    pass
                return
            keeper.cancel()
            try:
                await self.hub.run(self.inbox.done, key)
            except IntakeError as error:
                logger.warning("wechat message %s handled but not marked done: %s", key, error.__class__.__name__)
            logger.info("wechat message %s %s in %.0f ms", key, status, (time.monotonic() - started) * 1000)

    async def _keep(self, key: str) -> None:
        every = self.inbox.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            try:
                if not await self.hub.run(self.inbox.renew, key, self.holder):
                    logger.warning("claim on wechat message %s lost", key)
                    return
            except IntakeError as error:
                logger.warning("claim on wechat message %s not renewed: %s", key, error.__class__.__name__)

    async def _sweep_forever(self) -> None:
        """Run again what no process finished: messages whose claim ran out."""
        next_prune = time.monotonic() + PRUNE_SECONDS
        while True:
            await asyncio.sleep(self.sweep_seconds)
            try:
                for found in await self.hub.run(self.inbox.stale, self.holder):
                    logger.warning("wechat message %s run again (attempt %d)", found.key, found.attempts)
                    self._spawn(found.key, parse_message(found.payload))
                if time.monotonic() >= next_prune:
                    next_prune = time.monotonic() + PRUNE_SECONDS
                    await self.hub.run(self.inbox.prune)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - keep sweeping through database hiccups
                logger.warning("wechat sweep skipped: %s", error.__class__.__name__)


def _created(message: Any) -> Optional[datetime]:
    try:
        return datetime.fromtimestamp(int(message.time), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
