"""Helpers of the evidence tests: test pictures (one with an EXIF GPS tag), a web chat conversation
over the real socket, uploads to /chat/upload, and the access log of the stack's store."""

from __future__ import annotations

import io
import time
from typing import List, Optional
from urllib.parse import quote

import requests
import socketio
import sqlalchemy as sa

from bot.storage.database import Database
from bot.storage.models import AccessLogRow

GPS_IFD = 0x8825  # ExifTags.IFD.GPSInfo


def jpeg_with_gps(width: int = 640, height: int = 400) -> bytes:
    """A 'screenshot' (a JPEG) whose EXIF names where it was taken; a different picture every call
    (the service stores the same file from the same customer once)."""
    import random

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), tuple(random.randrange(150, 256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, width - 20, 80), fill=(11, 92, 173))
    draw.rectangle((20, 120, width // 2, 160), fill=(200, 60, 60))
    exif = Image.Exif()
    exif[0x010F] = "TestPhone"  # Make
    exif[GPS_IFD] = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 30.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif)
    data = out.getvalue()
    assert has_gps(data)  # the test's premise: the tag is really in the upload
    return data


def has_gps(data: bytes) -> bool:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return bool(image.getexif().get_ifd(GPS_IFD)) or GPS_IFD in image.getexif()


def pdf_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (200, 100), (255, 255, 255)).save(out, "PDF")
    return out.getvalue()


def open_conversation(url: str, messages: List[str] = (), wait: float = 30.0, until: str = "") -> str:
    """A web chat conversation over the real socket: its issued id (the upload's credential), after
    the bot answered each message (and, with `until`, said that). The socket is closed again (the id
    stays valid)."""
    client = socketio.Client()
    confirmed: list = []
    replies: list = []
    client.on("session_confirm", confirmed.append)
    client.on("bot_uttered", replies.append)
    client.connect(url, transports=["polling"], socketio_path="/socket.io")
    try:
        client.emit("session_request", {"session_id": None})
        _until(lambda: confirmed, wait)
        for message in messages:
            before = len(replies)
            client.emit("user_uttered", {"message": message, "session_id": confirmed[0]})
            _until(lambda before=before: len(replies) > before, wait)
            time.sleep(0.3)
        if until:
            _until(lambda: any(until in (r or {}).get("text", "") for r in replies), wait)
    finally:
        client.eio.disconnect(abort=True)
    return confirmed[0]


def _until(condition, wait: float) -> None:
    deadline = time.monotonic() + wait
    while not condition():
        assert time.monotonic() < deadline, "no answer from the server"
        time.sleep(0.05)


def upload(url: str, session_id: Optional[str], data, content_type: str = "image/jpeg", name: str = "截图.jpg",
           headers: Optional[dict] = None) -> requests.Response:
    sent = {"Content-Type": content_type, "X-File-Name": quote(name)}
    if session_id is not None:
        sent["X-Chat-Session"] = session_id
    sent.update(headers or {})
    return requests.post(f"{url}/chat/upload", data=data, headers=sent, timeout=60)


def access_rows(stack, actor: str) -> List[AccessLogRow]:
    """The staff member's reads of attachments, from the stack's access log."""
    from channels.console.attachments import AUDIT_ACTION

    action = AUDIT_ACTION
    db = Database(stack.ticket_db)
    try:
        with db.transaction() as session:
            rows = session.execute(
                sa.select(AccessLogRow).where(AccessLogRow.actor == actor, AccessLogRow.action == action)
            ).scalars().all()
            session.expunge_all()
            return list(rows)
    finally:
        db.dispose()


def is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text or "")
