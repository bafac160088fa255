"""Downloading a customer's photo or document from Telegram: ``getFile`` for its path, then
``{api_base}/file/bot<token>/<file_path>``, refused above the attachment size limit both by the size
Telegram announces and by the bytes actually read (the download stops one byte past the limit).

The URL carries the bot token: it is never logged, and a failure is reported as `DownloadFailed`
with a text that names neither (the token is masked by `bot.logs.scrub` too).
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Optional
from urllib.parse import quote

import aiohttp

from bot import logs
from bot.attachments import AttachmentRejected
from channels.hub import Undeliverable
from channels.telegram.api import TelegramApi

logger = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=60, sock_connect=10)
CHUNK = 64 * 1024
_FILE_PATH = re.compile(r"^[A-Za-z0-9_./-]{1,255}$")


class DownloadFailed(Exception):
    """The file could not be fetched from Telegram (the customer is asked to send it again)."""


async def fetch(api: TelegramApi, file_id: str, announced: Optional[int], limit: int) -> bytes:
    """The file's bytes; AttachmentRejected("too_large") above `limit`, DownloadFailed otherwise."""
    if announced is not None and announced > limit:
        raise AttachmentRejected("too_large")
    try:
        found = await api.call("getFile", lambda: api.bot.get_file(file_id))
    except Undeliverable as error:
        raise DownloadFailed(str(error)) from None
    size, path = getattr(found, "file_size", None), getattr(found, "file_path", None) or ""
    if isinstance(size, int) and size > limit:
        raise AttachmentRejected("too_large")
    if not _FILE_PATH.match(path) or ".." in path.split("/"):
        raise DownloadFailed("getFile: no usable file_path")
    url = f"{api.api_base}/file/bot{api.token}/{quote(path)}"
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            async with session.get(url, allow_redirects=False) as answer:
                if answer.status != 200:
                    raise DownloadFailed(f"file download: HTTP {answer.status}")
                if (answer.content_length or 0) > limit:
                    raise AttachmentRejected("too_large")
                data = bytearray()
                async for chunk in answer.content.iter_chunked(CHUNK):
                    data += chunk
                    if len(data) > limit:
                        raise AttachmentRejected("too_large")
                return bytes(data)
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        raise DownloadFailed(logs.scrub(f"file download: {error.__class__.__name__}")) from None
