"""WeChat's server API, as the channel uses it: the access token (fetched with AppID/AppSecret,
shared by every process through `bot.wechat.AccessTokens`), customer-service messages (客服消息),
template messages (模板消息), the custom menu, and customers' images (临时素材, `download_media`).

Calls go out with aiohttp on the server's loop; the token fetch is a plain blocking call made in
the worker thread that holds the shared token's lock. A token WeChat refuses (40001, 40014, 42001)
is dropped once for every process and the call is repeated with a fresh one; busy (-1) and rate
limited (45009) calls and network errors are retried with backoff; a call that finally fails raises
`WeChatRefused` (an `Undeliverable`) with WeChat's errcode and a text safe to store and show (the
token and secret masked).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple
from urllib.parse import urlencode

import aiohttp
import requests

from bot import logs
from bot.attachments import AttachmentRejected
from bot.settings import DEFAULT_WECHAT_API_BASE
from bot.urls import outbound_url
from bot.wechat import AccessTokens
from channels.hub import Undeliverable

logger = logging.getLogger(__name__)

TOKEN_INVALID = frozenset({40001, 40014, 42001})
TRANSIENT = frozenset({-1, 45009})  # system busy, rate limit
OUT_OF_WINDOW = frozenset({45015, 45047})  # 48 hours since the customer's last message; too many in a row
MAX_ATTEMPTS = 4
TIMEOUT = aiohttp.ClientTimeout(total=10)
TEXT_BYTES = 2000  # WeChat's customer-service text limit is 2,048 bytes of UTF-8


class WeChatRefused(Undeliverable):
    """WeChat answered with an errcode (or could not be reached: code None)."""

    def __init__(self, text: str, code: Optional[int] = None) -> None:
        super().__init__(text)
        self.code = code

    @property
    def transient(self) -> bool:
        return self.code is None or self.code in TRANSIENT

    @property
    def out_of_window(self) -> bool:
        return self.code in OUT_OF_WINDOW


def fetch_token(api_base: str, app_id: str, secret: str) -> Tuple[str, int]:
    """(access_token, expires_in) from /cgi-bin/token; blocking (called in a worker thread)."""
    query = urlencode({"grant_type": "client_credential", "appid": app_id, "secret": secret})
    try:
        answer = requests.get(f"{api_base.rstrip('/')}/cgi-bin/token?{query}", timeout=10).json()
    except (requests.RequestException, ValueError) as error:
        raise WeChatRefused(logs.scrub(f"token: {error.__class__.__name__}")) from None
    token = answer.get("access_token") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token:
        code = answer.get("errcode") if isinstance(answer, dict) else None
        raise WeChatRefused(f"token: errcode {code}", code if isinstance(code, int) else None)
    logs.redact(token)
    return token, int(answer.get("expires_in") or 7200)


def split_text(text: str, limit: int = TEXT_BYTES) -> List[str]:
    """Pieces of at most `limit` bytes of UTF-8, cut at line breaks where possible."""
    pieces: List[str] = []
    current = ""
    for line in (text or "").split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate.encode()) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        while len(line.encode()) > limit:
            cut = limit // 3  # three bytes per Chinese character: always within the limit
            pieces.append(line[:cut])
            line = line[cut:]
        current = line
    pieces.append(current)
    return [p for p in pieces if p] or [""]


class WeChatApi:
    """One per process; the session is created lazily on the server's loop."""

    def __init__(
        self, app_id: str, secret: str, tokens: AccessTokens, run: Callable[..., Awaitable[Any]],
        api_base: str = DEFAULT_WECHAT_API_BASE, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.app_id = app_id
        self.secret = secret
        self.tokens = tokens
        self.run = run  # the hub's: blocking calls off the loop
        self.api_base = outbound_url(api_base or DEFAULT_WECHAT_API_BASE, "WECHAT_API_BASE", plain_http="refuse").rstrip("/")
        self._sleep = sleep
        self._session: Optional[aiohttp.ClientSession] = None
        logs.redact(secret)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _fetch(self) -> Tuple[str, int]:
        return fetch_token(self.api_base, self.app_id, self.secret)

    async def call(self, path: str, payload: Dict[str, Any], attempts: int = MAX_ATTEMPTS) -> Dict[str, Any]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        body = json.dumps(payload, ensure_ascii=False).encode()  # WeChat shows \\u escapes literally
        delay = 0.5
        for attempt in range(1, attempts + 1):
            token = await self.run(self.tokens.current, self._fetch)
            try:
                async with self._session.post(
                    f"{self.api_base}{path}?access_token={token}", data=body,
                    headers={"Content-Type": "application/json; charset=utf-8"},
                ) as answer:
                    data = json.loads(await answer.read() or b"{}")
                code = int(data.get("errcode") or 0) if isinstance(data, dict) else None
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
                refused = WeChatRefused(logs.scrub(f"{path}: {error.__class__.__name__}"))
            else:
                if code == 0:
                    return data
                refused = WeChatRefused(logs.scrub(f"{path}: errcode {code} {str(data.get('errmsg', ''))[:80]}"), code)
                if code in TOKEN_INVALID:
                    await self.run(self.tokens.invalidate, token)  # once for every process
                    if attempt < attempts:
                        continue
            if not (refused.transient or refused.code in TOKEN_INVALID) or attempt == attempts:
                raise refused
            logger.warning("WeChat %s failed (%s), retry %d in %.1f s", path, refused, attempt, delay)
            await self._sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    async def download_media(self, media_id: str, limit: int, attempts: int = MAX_ATTEMPTS) -> bytes:
        """A customer's image from the temporary-media API (``GET /cgi-bin/media/get``, as wechatpy's
        ``WeChatMedia.download``): the bytes, or WeChat's JSON error (retried like `call`). More than
        `limit` bytes raise AttachmentRejected("too_large"); the download stops there."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        delay = 0.5
        for attempt in range(1, attempts + 1):
            token = await self.run(self.tokens.current, self._fetch)
            query = urlencode({"access_token": token, "media_id": media_id})
            try:
                async with self._session.get(f"{self.api_base}/cgi-bin/media/get?{query}", allow_redirects=False) as answer:
                    if (answer.content_length or 0) > limit:
                        raise AttachmentRejected("too_large")
                    data = bytearray()
                    async for chunk in answer.content.iter_chunked(64 * 1024):
                        data += chunk
                        if len(data) > limit:
                            raise AttachmentRejected("too_large")
                    kind = answer.content_type or ""
                    status = answer.status
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                refused = WeChatRefused(logs.scrub(f"media/get: {error.__class__.__name__}"))
            else:
                if status == 200 and not kind.startswith(("application/json", "text/")):
                    return bytes(data)
                try:
                    found = json.loads(bytes(data) or b"{}")
                    code = int(found.get("errcode") or -1) if isinstance(found, dict) else None
                except ValueError:
                    code = None
                refused = WeChatRefused(f"media/get: HTTP {status} errcode {code}", code)
                if code in TOKEN_INVALID:
                    await self.run(self.tokens.invalidate, token)
                    if attempt < attempts:
                        continue
            if not refused.transient or attempt == attempts:
                raise refused
            logger.warning("WeChat media/get failed (%s), retry %d in %.1f s", refused, attempt, delay)
            await self._sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    async def send_text(self, openid: str, text: str, attempts: int = MAX_ATTEMPTS) -> None:
        for piece in split_text(text):
            await self.call(
                "/cgi-bin/message/custom/send",
                {"touser": openid, "msgtype": "text", "text": {"content": piece or "…"}}, attempts,
            )

    async def send_template(self, openid: str, template_id: str, text: str, attempts: int = MAX_ATTEMPTS) -> None:
        """A template message (allowed outside the 48 hours): the text goes into its first/remark fields."""
        await self.call(
            "/cgi-bin/message/template/send",
            {"touser": openid, "template_id": template_id, "data": {"first": {"value": text[:200]}, "remark": {"value": ""}}},
            attempts,
        )

    async def create_menu(self, menu: Dict[str, Any]) -> None:
        await self.call("/cgi-bin/menu/create", menu)
