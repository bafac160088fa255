"""Web chat: the chat page at /chat/ and a socket.io endpoint that speaks Rasa's SocketIOInput protocol.

Protocol (compatible with the rasa-webchat widget):
  client -> server  ``session_request`` {session_id}      server -> client ``session_confirm`` session_id
  client -> server  ``user_uttered``   {message, session_id}
  server -> client  ``bot_uttered``    {text, quick_replies?: [{title, payload}]}

Files (screenshots, photos, PDFs) are posted over HTTP to /chat/upload with the same id as the
credential (channels/webchat_upload.py), not over the socket.

The session id is kept by the page in localStorage, so a reload continues the same conversation.
It is issued by the server and is the customer's credential (bot/chat_sessions.py): an id the server
did not issue, that was ended (新对话 sends ``session_request`` {session_id: null, end: old id}) or that
was idle too long is answered with a fresh id.
Differences from Rasa's own SocketIOInput: the room join is awaited (python-socketio 5 made
`enter_room` a coroutine, which the stock channel forgets), and malformed, empty or oversized
messages get a clear answer instead of an exception.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot import logs
from bot.limits import SESSION_REQUEST, address_ref
from bot.errors import IntakeError
from bot.handoff import Message
from bot.tickets import Customer
from bot.text import MAX_MESSAGE_CHARS
from channels import webchat_upload
from channels.hub import attach, slow_down_text

logger = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
_SESSION_ID = re.compile(r"^[0-9a-f]{32}$")

TOO_LONG = f"您的消息太长了（超过{MAX_MESSAGE_CHARS}字），请分几条发送，或只描述最关键的情况。"
EMPTY = "您好像发送了一条空消息。请用文字描述您的问题，我来帮您处理。"
NOT_TEXT = "暂时只能处理文字消息，请用文字描述您的问题。"
GREETING_PAYLOAD = "/greet"
UNAVAILABLE = "系统暂时无法连接，请稍后刷新页面重试。"
RESTARTED = "之前的对话已结束，已为您开始新的对话。"

_CONTENT_TYPES = {".js": "application/javascript", ".css": "text/css", ".html": "text/html", ".svg": "image/svg+xml"}


def _valid_session_id(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and _SESSION_ID.match(value) else None


class WebChatInput(InputChannel):
    """Serves the chat page and the socket.io endpoint."""

    @classmethod
    def name(cls) -> Text:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("socketio_path", "/socket.io"),
            credentials.get("cors_allowed_origins"),
        )

    def __init__(
        self,
        user_message_evt: Text = "user_uttered",
        bot_message_evt: Text = "bot_uttered",
        socketio_path: Text = "/socket.io",
        cors_allowed_origins: Optional[List[Text]] = None,
    ) -> None:
        self.user_message_evt = user_message_evt
        self.bot_message_evt = bot_message_evt
        self.socketio_path = socketio_path
        # None: only pages served from this server may connect (a rasa-webchat widget elsewhere
        # needs its origin listed in credentials.yml).
        self.cors_allowed_origins = cors_allowed_origins
        self.sio: Optional[AsyncServer] = None

    def url_prefix(self) -> Text:
        # An absolute prefix: the page lives at /chat/ rather than /webhooks/webchat/.
        return "/chat"

    def get_output_channel(self) -> Optional[SocketIOOutput]:
        return SocketIOOutput(self.sio, self.bot_message_evt) if self.sio else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=self.cors_allowed_origins)
        self.sio = sio
        blueprint = SocketBlueprint(sio, self.socketio_path, "webchat", __name__)
        # The app's hub, built when the server starts (channels/hub/setup.py).
        hub = attach(blueprint, [WebChatCourier(sio, self.bot_message_evt, self.name())])
        # While a human has the conversation, messages go to the agent instead of the bot.
        on_new_message = hub.gated(on_new_message)

        @blueprint.route("/", methods=["GET"])
        async def page(request: Request) -> HTTPResponse:
            if not request.path.endswith("/"):
                # relative asset links need the trailing slash
                return response.redirect(request.path + "/")
            return await response.file(STATIC / "index.html", headers=_security_headers(request.host))

        # Screenshots and PDFs come over HTTP, not the socket (channels/webchat_upload.py).
        webchat_upload.register(blueprint, hub, sio, self.bot_message_evt, _valid_session_id)

        @blueprint.route("/privacy", methods=["GET"])
        async def privacy(request: Request) -> HTTPResponse:
            # What is collected and why (个人信息保护法); linked from the first-contact notice.
            days = request.app.ctx.settings.transcript_retention_days
            page = (STATIC / "privacy.html").read_text(encoding="utf-8").replace("{{days}}", str(days))
            return response.html(page, headers=_security_headers())

        @blueprint.route("/health", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/static/<path:path>", methods=["GET"])
        async def static(_: Request, path: str) -> HTTPResponse:
            target = (STATIC / path).resolve()
            if STATIC.resolve() not in target.parents or not target.is_file() or target.suffix not in _CONTENT_TYPES:
                return response.json({"error": "not found"}, status=404)
            return await response.file(target, mime_type=_CONTENT_TYPES[target.suffix])

        @sio.on("connect")
        async def connect(sid: Text, environ: Dict[str, Any], auth: Any = None) -> None:
            # The limits count per address; the socket keeps a pseudonym of it, not the address.
            request = environ.get("sanic.request")
            address = (request.remote_addr or request.ip) if request is not None else environ.get("REMOTE_ADDR")
            await sio.save_session(sid, {"address": address_ref(address)})

        @sio.on("session_request")
        async def session_request(sid: Text, data: Any = None, *_: Any) -> None:
            # No argument or extra ones (a hand-written client): answered like a malformed payload.
            session = await sio.get_session(sid)
            refusal = hub.admit_event(SESSION_REQUEST, sid, session.get("address"))
            if refusal is not None:
                # A page reconnects a few times a minute at most; a script rotating ids is stopped here.
                if refusal.notify:
                    await sio.emit("error_message", {"text": slow_down_text(refusal)}, room=sid)
                return
            data = data if isinstance(data, dict) else {}
            requested = _valid_session_id(data.get("session_id"))
            previous = session.get("session_id")
            try:
                if requested is None:
                    # 新对话: the conversation this page had is ended, so its id opens nothing any more
                    # (named by the page, or the one this socket was in).
                    for ended in {previous, _valid_session_id(data.get("end"))} - {None}:
                        await hub.run(hub.chat_sessions.end, ended)
                        await sio.close_room(ended)
                session_id, resumed = await hub.run(hub.chat_sessions.start, requested)
            except IntakeError:
                await sio.emit("error_message", {"text": UNAVAILABLE}, room=sid)
                return
            await self._join(sio, sid, session, session_id)
            # Replay what an agent or the system said since the last message this page shows (it
            # may have been pushed to a connection that was already dead); the page drops repeats.
            last_seen = data.get("last_message_id")
            if resumed and isinstance(last_seen, int) and not isinstance(last_seen, bool) and 0 <= last_seen < 2**63:
                try:
                    missed = await hub.run(hub.handoff.messages_for_customer, Customer(self.name(), session_id), last_seen)
                except IntakeError:
                    missed = []
                for message in missed:
                    await sio.emit(self.bot_message_evt, message_payload(message), room=sid)
            hub.pulse.fire()  # and deliver what is still pending

        @sio.on(self.user_message_evt)
        async def handle_message(sid: Text, data: Any = None, *_: Any) -> None:
            logs.start_request()  # one id per message, not one per socket
            session = await sio.get_session(sid)
            session_id = session.get("session_id")
            if not session_id:
                await sio.emit("error_message", {"text": "会话未建立，请刷新页面后重试。"}, room=sid)
                return
            # The conversation may have been ended meanwhile (新对话 in another tab) or gone idle:
            # the message then opens a new one instead of reaching the old one.
            try:
                if not await hub.run(hub.chat_sessions.resume, session_id):
                    session_id, _ = await hub.run(hub.chat_sessions.start, None)
                    session = await self._join(sio, sid, session, session_id)
                    await sio.emit("error_message", {"text": RESTARTED}, room=sid)
            except IntakeError:
                pass  # the store is down: the gate and the bot say so; the id was valid when joined
            # Messages belong to the session this socket joined in session_request.
            output = SocketIOOutput(sio, self.bot_message_evt)
            text = data.get("message") if isinstance(data, dict) else None
            if text is None and isinstance(data, dict):
                # The rasa-webchat widget opens a conversation with its `initPayload`, null unless
                # configured: that is a greeting, not a message we could not read.
                text = GREETING_PAYLOAD
            if not isinstance(text, str):
                await output.send_text_message(session_id, NOT_TEXT)
                return
            text = text.strip()
            if not text:
                await output.send_text_message(session_id, EMPTY)
                return
            if len(text) > MAX_MESSAGE_CHARS:
                await output.send_text_message(session_id, TOO_LONG)
                return
            address = session.get("address")
            refusal = hub.admit(Customer(self.name(), session_id), address)
            if refusal is not None:
                if refusal.notify:
                    await output.send_text_message(session_id, slow_down_text(refusal))
                return
            await on_new_message(
                UserMessage(text, output, session_id, input_channel=self.name(), metadata={"address_ref": address})
            )

        return blueprint

    @staticmethod
    async def _join(sio: AsyncServer, sid: Text, session: Dict[str, Any], session_id: str) -> Dict[str, Any]:
        """Move the socket into the conversation's room and tell the page its id."""
        previous = session.get("session_id")
        if previous and previous != session_id:
            await sio.leave_room(sid, previous)
        await sio.enter_room(sid, session_id)
        session = {**session, "session_id": session_id}
        await sio.save_session(sid, session)
        await sio.emit("session_confirm", session_id, room=sid)
        return session


class WebChatCourier:
    """Pushes agents' messages to the browser tabs of a web chat session connected to this process."""

    def __init__(self, sio: AsyncServer, event: Text, channel: Text) -> None:
        self.sio = sio
        self.event = event
        self.channel = channel

    def holds(self, user_id: str) -> bool:
        rooms = self.sio.manager.rooms.get("/", {})
        return bool(rooms.get(user_id))

    def connected(self) -> List[str]:
        # Every socket also sits in a room named after its sid; chat sessions are 32 hex digits.
        return [room for room, members in self.sio.manager.rooms.get("/", {}).items() if members and _valid_session_id(room)]

    async def deliver(self, user_id: str, message: Message) -> bool:
        await self.sio.emit(self.event, message_payload(message), room=user_id)
        return True


def message_payload(message: Message) -> Dict[str, Any]:
    """A bot_uttered payload for a message from the handoff (the id lets the page drop repeats)."""
    payload: Dict[str, Any] = {"text": message.text, "message_id": message.id}
    if message.buttons:
        payload["quick_replies"] = [dict(b) for b in message.buttons]
    if message.sender == "agent":
        payload["agent"] = message.agent_name or message.agent
    return payload


_HOST = re.compile(r"^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$")


def _security_headers(host: str = "") -> Dict[str, str]:
    # No other site may frame the chat (clickjacking: a hidden 删除我的个人信息 under a decoy button), and
    # the page talks only to its own origin (blob: images are the page's own previews of what the
    # customer is uploading). 'self' covers the socket there in current browsers (CSP
    # Level 3), Safari only since 16: the page's own host is named for ws:/wss: as well, never any host.
    sockets = f" ws://{host} wss://{host}" if host and _HOST.match(host) else ""
    return {
        "Content-Security-Policy": f"default-src 'self'; connect-src 'self'{sockets}; img-src 'self' data: blob:; "
                                   "frame-ancestors 'none'",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
