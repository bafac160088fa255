"""Web chat evidence upload: ``POST /chat/upload``, a screenshot, photo or PDF from the chat page.

Why a separate HTTP route and not the socket: a file of up to 5 MB would hold the socket (and every
message behind it) for the whole upload, and the page wants upload progress, which XMLHttpRequest
gives. The credential is the same issued conversation id the socket uses (bot/chat_sessions.py),
sent in the ``X-Chat-Session`` header (never in the URL: URLs end up in proxy logs). The body is the
raw file (``Content-Type`` its type, ``X-File-Name`` its name, percent-encoded).

The app caps request bodies at 1 MB (SANIC_REQUEST_MAX_SIZE) and that cap stays: this route is a
streamed one, which Sanic exempts from it, and it stops reading itself past the attachment limit
(413). The upload counts as a message against the customer's limits (`hub.admit`). What is accepted
is decided by the attachment service (magic bytes, re-encoding, limits: bot/attachments); its
refusal comes back as 422 with the sentence for the customer. The upload is then announced in the
conversation: during a live chat it goes to the agent's transcript like a message, otherwise the
bot's confirmation goes to the conversation's socket room (every open tab of it).
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Optional
from urllib.parse import unquote

from rasa.core.channels.socketio import SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import logs
from bot.attachments import AttachmentRejected
from bot.errors import IntakeError
from bot.limits import address_ref
from bot.tickets import Customer
from channels.hub import slow_down_text

logger = logging.getLogger(__name__)

CHANNEL = "webchat"
SESSION_HEADER = "x-chat-session"
NAME_HEADER = "x-file-name"
MAX_NAME = 120

NO_SESSION = "会话已失效，请刷新页面后再发送文件。"
TOO_LARGE = "文件太大了，请发送 5 MB 以内的图片（JPEG、PNG、WebP）或 PDF 文件。"
EMPTY_FILE = "文件是空的，请重新选择。"
UNAVAILABLE = "系统暂时无法接收文件，请稍后再试。"
SAVED = "已收到您的{what}，已附到工单 {ticket}。处理人员会查看。"
HELD = "已收到您的{what}。请接着描述您遇到的问题，登记投诉时会把它一并附到工单上。"
TO_AGENT = "{what}已发送给客服。"
TO_AGENT_SAVED = "{what}已发送给客服，并已附到工单 {ticket}。"
# What the agent's transcript shows for the upload (the console puts the thumbnail beside it).
TRANSCRIPT_LINE = {"image": "[图片] {name}", "pdf": "[PDF 文件] {name}"}


def _what(kind: str) -> str:
    return "截图" if kind == "image" else "文件"


def _filename(request: Request) -> str:
    raw = request.headers.get(NAME_HEADER) or ""
    try:
        name = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        name = ""
    # A name is shown to staff: no path, no control characters, bounded.
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in name if ch.isprintable())[:MAX_NAME]


def _refuse(status: int, error: str, text: str) -> HTTPResponse:
    return response.json({"error": error, "message": text}, status=status, headers={"Cache-Control": "no-store"})


async def _read_body(request: Request, limit: int) -> Optional[bytes]:
    """The body, or None once it passes `limit` (reading stops there: nothing more is buffered)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return None
    chunks = []
    size = 0
    while True:
        chunk = await request.stream.read()
        if chunk is None:
            break
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def register(
    blueprint: Blueprint, hub: Any, sio: Any, bot_event: str, valid_session_id: Callable[[Any], Optional[str]]
) -> None:
    """Add ``POST /upload`` to the web chat's blueprint (`hub` is its `HubRef`, `sio` its socket
    server; `valid_session_id` the socket's shape check of a conversation id)."""

    @blueprint.route("/upload", methods=["POST"], stream=True)
    async def upload(request: Request) -> HTTPResponse:
        logs.start_request()
        session_id = valid_session_id((request.headers.get(SESSION_HEADER) or "").strip())
        try:
            known = session_id is not None and await hub.run(hub.chat_sessions.resume, session_id)
        except IntakeError:
            return _refuse(503, "unavailable", UNAVAILABLE)
        if not known:
            return _refuse(403, "forbidden", NO_SESSION)
        customer = Customer(CHANNEL, session_id)
        refusal = hub.admit(customer, address_ref(request.remote_addr or request.ip))
        if refusal is not None:
            return _refuse(429, "rate_limited", slow_down_text(refusal))
        data = await _read_body(request, hub.attachments.MAX_BYTES)
        if data is None:
            return _refuse(413, "too_large", TOO_LARGE)
        if not data:
            return _refuse(422, "rejected", EMPTY_FILE)
        name = _filename(request)
        try:
            accepted = await hub.run(lambda: hub.attachments.accept(customer, data, source=CHANNEL, filename=name))
        except AttachmentRejected as rejected:
            logger.info("web chat upload rejected: %s", rejected.reason)
            return _refuse(422, "rejected", rejected.text)
        except IntakeError:
            return _refuse(503, "unavailable", UNAVAILABLE)
        attachment, ticket = accepted.attachment, accepted.ticket
        what = _what(attachment.kind)
        output = SocketIOOutput(sio, bot_event)
        line = TRANSCRIPT_LINE.get(attachment.kind, "[文件] {name}").format(name=name or attachment.mime).strip()
        # During a handoff the upload is a message for the agent (the bot stays silent). Only then is
        # the line routed: outside one, the gate would read it as a possible survey answer.
        try:
            in_handoff = await hub.run(hub.handoff.session_for, customer) is not None
        except IntakeError:
            in_handoff = False
        routed = in_handoff and await hub.route(customer, line, output)
        if routed:
            text = TO_AGENT_SAVED.format(what=what, ticket=ticket.number) if ticket is not None else TO_AGENT.format(what=what)
            announced = "agent"
        else:
            text = SAVED.format(what=what, ticket=ticket.number) if ticket is not None else HELD.format(what=what)
            announced = "chat"
            await output.send_text_message(session_id, text)
        return response.json(
            {
                "id": attachment.id,
                "kind": attachment.kind,
                "ticket": ticket.number if ticket is not None else None,
                "text": text,
                "announced": announced,
            },
            status=201,
            headers={"Cache-Control": "no-store"},
        )
