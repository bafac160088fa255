"""A fake Telegram Bot API server on a free localhost port: the methods the channel calls, recorded.

aiogram talks to it over real HTTP (``api_base`` points here). Failures can be planned per method
(e.g. one 429 with retry_after, then success), and updates can be queued for getUpdates.
Files customers "sent" are registered with `add_file`: ``getFile`` answers with their path and
size, and ``GET /file/bot<token>/<path>`` serves their bytes (recorded as method ``download``).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from aiohttp import web

from tests.local_server import LocalServer
from tests.polling import wait_for

TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijklmn"
BOT_ID = 123456789
BOT_USERNAME = "intake_test_bot"


@dataclass
class Call:
    at: float
    method: str
    params: Dict[str, Any]
    status: int


@dataclass
class FakeTelegram:
    calls: List[Call] = field(default_factory=list)
    failures: Dict[str, List[Dict[str, Any]]] = field(default_factory=dict)
    updates: List[Dict[str, Any]] = field(default_factory=list)
    port: int = 0
    files: Dict[str, Dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: Optional[LocalServer] = None
        self._message_id = 1000

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- planning and reading ---------------------------------------------------------------

    def fail_next(self, method: str, status: int, description: str = "", retry_after: Optional[int] = None) -> None:
        with self._lock:
            self.failures.setdefault(method, []).append(
                {"status": status, "description": description or f"error {status}", "retry_after": retry_after}
            )

    def add_file(self, file_id: str, data: bytes, announced: Optional[int] = None, download_status: int = 200) -> None:
        """A file the Bot API knows: getFile announces `announced` (default: the real size) and the
        download answers `download_status` (200: the bytes)."""
        with self._lock:
            path = f"documents/file_{len(self.files) + 1}.bin"
            self.files[file_id] = {"data": data, "path": path, "size": len(data) if announced is None else announced,
                                   "status": download_status}

    def queue_update(self, update: Dict[str, Any]) -> None:
        with self._lock:
            self.updates.append(update)

    def recorded(self, method: Optional[str] = None, chat_id: Optional[int] = None, ok_only: bool = True) -> List[Call]:
        with self._lock:
            found = list(self.calls)
        return [
            c
            for c in found
            if (method is None or c.method == method)
            and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))
            and (not ok_only or c.status == 200)
        ]

    def texts(self, chat_id: int) -> List[str]:
        return [c.params.get("text", "") for c in self.recorded("sendMessage", chat_id)]

    def wait_for(self, predicate, timeout: float = 20.0):
        return wait_for(predicate, timeout, "the expected call to the fake Bot API")

    # -- the server ---------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        if token != TOKEN:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        if request.content_type == "application/json":
            params = await request.json()
        else:
            params = dict(await request.post())
        for key in ("reply_markup", "allowed_updates"):
            if isinstance(params.get(key), str):
                try:
                    params[key] = json.loads(params[key])
                except ValueError:
                    pass
        with self._lock:
            planned = self.failures.get(method) or []
            failure = planned.pop(0) if planned else None
        if failure is not None:
            body: Dict[str, Any] = {"ok": False, "error_code": failure["status"], "description": failure["description"]}
            if failure["retry_after"] is not None:
                body["parameters"] = {"retry_after": failure["retry_after"]}
            self._record(method, params, failure["status"])
            return web.json_response(body, status=failure["status"])
        self._record(method, params, 200)
        return web.json_response({"ok": True, "result": self._result(method, params)})

    def _record(self, method: str, params: Dict[str, Any], status: int) -> None:
        with self._lock:
            self.calls.append(Call(time.monotonic(), method, params, status))

    def _result(self, method: str, params: Dict[str, Any]) -> Any:
        if method == "getMe":
            return {"id": BOT_ID, "is_bot": True, "first_name": "在线客服", "username": BOT_USERNAME}
        if method == "sendMessage":
            with self._lock:
                self._message_id += 1
                message_id = self._message_id
            chat_id = int(params["chat_id"])
            return {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "在线客服"},
                "text": params.get("text", ""),
            }
        if method == "getFile":
            with self._lock:
                found = self.files.get(str(params.get("file_id")))
            if found is None:
                return {"file_id": params.get("file_id"), "file_unique_id": "gone"}  # no path: cannot download
            return {"file_id": params["file_id"], "file_unique_id": "u" + found["path"][-6:],
                    "file_size": found["size"], "file_path": found["path"]}
        if method == "getUpdates":
            # As Telegram: an update is returned until a call's offset confirms it.
            offset = int(params.get("offset") or 0)
            with self._lock:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                return list(self.updates)
        return True

    async def _download(self, request: web.Request) -> web.Response:
        token, path = request.match_info["token"], request.match_info["path"]
        if token != TOKEN:
            return web.Response(status=401)
        with self._lock:
            found = next((f for f in self.files.values() if f["path"] == path), None)
        self._record("download", {"path": path}, 404 if found is None else found["status"])
        if found is None:
            return web.Response(status=404)
        if found["status"] != 200:
            return web.Response(status=found["status"])
        return web.Response(body=found["data"], content_type="application/octet-stream")

    def start(self) -> "FakeTelegram":
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._server = LocalServer(app, "fake-telegram").start()
        self.port = self._server.port
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()


_update_id = int(time.time()) % 100000 * 1000


def next_update_id() -> int:
    global _update_id
    _update_id += 1
    return _update_id


def text_update(user_id: int, text: str, chat_type: str = "private", chat_id: Optional[int] = None, **extra) -> Dict:
    message = {
        "message_id": next_update_id() % 100000,
        "date": int(time.time()),
        "chat": {"id": chat_id or user_id, "type": chat_type},
        "from": {"id": user_id, "is_bot": False, "first_name": "测试", "language_code": "zh-hans"},
        "text": text,
    }
    message.update(extra)
    return {"update_id": next_update_id(), "message": message}


def content_update(user_id: int, **content) -> Dict:
    update = text_update(user_id, "")
    del update["message"]["text"]
    update["message"].update(content)
    return update


def button_update(user_id: int, data: str, message_id: int = 1) -> Dict:
    return {
        "update_id": next_update_id(),
        "callback_query": {
            "id": str(next_update_id()),
            "from": {"id": user_id, "is_bot": False, "first_name": "测试"},
            "chat_instance": "1",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": user_id, "type": "private"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "在线客服"},
                "text": "请确认",
            },
        },
    }
