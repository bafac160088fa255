"""A fake WeChat API server on a free localhost port (WECHAT_API_BASE points here), and the
webhook side of WeChat: signed (and, in safe mode, encrypted) XML messages as WeChat posts them.

The server records every call, issues access tokens (each fetch invalidates the previous token,
as WeChat does) and answers errors planned per path: 45015 (out of the 48-hour window), 40001
(token invalid), 45009 (rate limit), ... Images customers "sent" are put in `media` (media_id ->
bytes) and served by ``GET /cgi-bin/media/get`` like WeChat's temporary-media API.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import string
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlencode

from aiohttp import web
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from tests.local_server import LocalServer
from tests.polling import wait_for

APP_ID = "wx0123456789abcdef"
APP_SECRET = "fake-app-secret-" + "0" * 16
TOKEN = "fake-webhook-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters
ACCOUNT = "gh_fake_account"
TEMPLATE_ID = "fake-template-result"


@dataclass
class Call:
    at: float
    path: str
    params: Dict[str, Any]
    body: Dict[str, Any]
    errcode: int


@dataclass
class FakeWeChat:
    calls: List[Call] = field(default_factory=list)
    failures: Dict[str, List[int]] = field(default_factory=dict)
    port: int = 0
    media: Dict[str, bytes] = field(default_factory=dict)  # media_id -> the image a customer sent

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: Optional[LocalServer] = None
        self._tokens = itertools.count(1)
        self.valid_token = ""
        self.token_delay = 0.0  # seconds a token request takes (to let processes race for it)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, path: str, errcode: int, times: int = 1) -> None:
        with self._lock:
            self.failures.setdefault(path, []).extend([errcode] * times)

    def recorded(self, path: Optional[str] = None, touser: Optional[str] = None, ok_only: bool = True) -> List[Call]:
        with self._lock:
            found = list(self.calls)
        return [
            c for c in found
            if (path is None or c.path == path) and (touser is None or c.body.get("touser") == touser)
            and (not ok_only or c.errcode == 0)
        ]

    def texts(self, openid: str) -> List[str]:
        return [c.body["text"]["content"] for c in self.recorded("/cgi-bin/message/custom/send", openid)]

    def wait_for(self, predicate, timeout: float = 30.0):
        return wait_for(predicate, timeout, "the expected call to the fake WeChat API")

    # -- the server ---------------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        params = dict(request.query)
        if params.get("appid") != APP_ID or params.get("secret") != APP_SECRET:
            self._record("/cgi-bin/token", params, {}, 40125)
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        await asyncio.sleep(self.token_delay)
        with self._lock:
            self.valid_token = f"token-{next(self._tokens)}-" + "".join(random.choices(string.ascii_letters, k=24))
            token = self.valid_token
        self._record("/cgi-bin/token", params, {}, 0)
        return web.json_response({"access_token": token, "expires_in": 7200})

    async def _api(self, request: web.Request) -> web.Response:
        path = request.path
        params = dict(request.query)
        body = json.loads((await request.read()).decode("utf-8") or "{}")
        with self._lock:
            planned = self.failures.get(path) or []
            errcode = planned.pop(0) if planned else 0
            if not errcode and params.get("access_token") != self.valid_token:
                errcode = 40001
        self._record(path, params, body, errcode)
        return web.json_response({"errcode": errcode, "errmsg": "ok" if not errcode else f"error {errcode}"})

    async def _media(self, request: web.Request) -> web.Response:
        """GET /cgi-bin/media/get: the bytes (as WeChat: with the file's type), or a JSON error."""
        params = dict(request.query)
        with self._lock:
            planned = self.failures.get(request.path) or []
            errcode = planned.pop(0) if planned else 0
            if not errcode and params.get("access_token") != self.valid_token:
                errcode = 40001
            found = self.media.get(params.get("media_id", ""))
        if not errcode and found is None:
            errcode = 40007  # invalid media_id
        self._record(request.path, params, {}, errcode)
        if errcode:
            return web.json_response({"errcode": errcode, "errmsg": f"error {errcode}"})
        return web.Response(body=found, content_type="image/jpeg",
                            headers={"Content-Disposition": 'attachment; filename="media.jpg"'})

    def _record(self, path: str, params: Dict[str, Any], body: Dict[str, Any], errcode: int) -> None:
        with self._lock:
            self.calls.append(Call(time.monotonic(), path, params, body, errcode))

    def start(self) -> "FakeWeChat":
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_get("/cgi-bin/media/get", self._media)
        app.router.add_post("/cgi-bin/{tail:.+}", self._api)
        self._server = LocalServer(app, "fake-wechat").start()
        self.port = self._server.port
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()


# -- what WeChat posts to the webhook -------------------------------------------------------------

_msg_ids = itertools.count(int(time.time()) * 1000)


def new_openid() -> str:
    return "o" + "".join(random.choices(string.ascii_letters + string.digits + "_-", k=27))


def message_xml(openid: str, msg_type: str, created: Optional[int] = None, msg_id: Optional[int] = None, **fields: str) -> str:
    """A message (with a MsgId) or, with msg_type="event", an event (without one)."""
    parts = [
        f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>",
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>",
        f"<CreateTime>{created or int(time.time())}</CreateTime>",
        f"<MsgType><![CDATA[{msg_type}]]></MsgType>",
    ]
    parts += [f"<{name}><![CDATA[{value}]]></{name}>" for name, value in fields.items()]
    if msg_type != "event":
        parts.append(f"<MsgId>{msg_id or next(_msg_ids)}</MsgId>")
    return "<xml>" + "".join(parts) + "</xml>"


def text_xml(openid: str, text: str, **kwargs: Any) -> str:
    return message_xml(openid, "text", Content=text, **kwargs)


def signed_query(token: str = TOKEN, timestamp: Optional[int] = None, nonce: Optional[str] = None) -> Dict[str, str]:
    timestamp_text = str(timestamp or int(time.time()))
    nonce = nonce or "".join(random.choices(string.digits, k=9))
    signer = WeChatSigner()
    signer.add_data(token, timestamp_text, nonce)
    return {"signature": signer.signature, "timestamp": timestamp_text, "nonce": nonce}


def encrypted(xml: str, query: Dict[str, str]) -> Tuple[str, Dict[str, str]]:
    """Safe mode: the message AES-encrypted, with its msg_signature in the query."""
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    envelope = crypto.encrypt_message(xml, query["nonce"], query["timestamp"])
    import xmltodict

    data = xmltodict.parse(envelope)["xml"]
    body = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{data['Encrypt']}]]></Encrypt></xml>"
    return body, {**query, "encrypt_type": "aes", "msg_signature": data["MsgSignature"]}


def webhook_url(base: str, query: Dict[str, str]) -> str:
    return f"{base}/webhooks/wechat/webhook?{urlencode(query)}"
