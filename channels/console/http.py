"""What every console route shares at the HTTP level: the console's Chinese messages for the domain
errors (their status codes come from `channels.http`), request-body parsing with the 64 KiB cap,
the bearer token, the page's security headers and where the console's static files live.

Bodies of errors are always ``{"error", "message"}`` (plus the fields a 409 or 429 names).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.errors import IntakeError, InvalidInput, RateLimited, Taken, WrongState
from bot.text import MAX_MESSAGE_CHARS
from channels.console.error_texts import FIELDS, chinese
from channels.http import Message, TooLong, error_fields, message_of, status_of

STATIC = Path(__file__).parents[1] / "static" / "agent"
ROUTES_DOC = STATIC / "openapi.json"
MAX_BODY_BYTES = 64 * 1024

CONTENT_TYPES = {".js": "application/javascript", ".css": "text/css", ".json": "application/json", ".svg": "image/svg+xml"}

MESSAGES = {
    400: "请求有误",
    401: "登录已失效，请重新登录",
    403: "您无权处理这个会话",
    404: "没有找到",
    409: "操作冲突，请刷新后重试",
    413: "内容太长",
    429: "尝试次数过多，请稍后再试",
    503: "系统暂时不可用，请稍后重试",
}


def json_error(status: int, code: str, message: Optional[str] = None, **extra: Any) -> HTTPResponse:
    return response.json({"error": code, "message": message or MESSAGES.get(status, "出错了"), **extra}, status=status)


ERROR_MESSAGES: Dict[type, Message] = {
    RateLimited: lambda e: f"登录失败次数过多，请{e.retry_after}秒后再试",
    WrongState: "会话或工单的状态已经变化（可能已被接入、转交或结束），请刷新后再试",
    Taken: lambda e: f"该会话已由{e.agent_name}接入",
    InvalidInput: lambda e: f"请求有误：{chinese(str(e))}",
    TooLong: lambda e: f"内容太长（{FIELDS.get(str(e), '请求')}），请控制在{MAX_MESSAGE_CHARS}字以内",
}
"""The console's text for a domain error; the classes not named here say MESSAGES[status]."""


def error_response(error: IntakeError) -> HTTPResponse:
    status, code = status_of(error)
    return json_error(status, code, message_of(error, ERROR_MESSAGES), **error_fields(error))


def read_body(request: Request) -> Dict[str, Any]:
    if len(request.body or b"") > MAX_BODY_BYTES:
        raise TooLong("request body")
    try:
        body = json.loads(request.body or b"{}")
    # RecursionError: JSON nested thousands deep (under the 64 KiB limit) is refused, not a 500.
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidInput("body is not JSON") from None
    if not isinstance(body, dict):
        raise InvalidInput("body must be a JSON object")
    return body


def read_string(body: Dict[str, Any], key: str, required: bool = True, limit: int = MAX_MESSAGE_CHARS) -> str:
    value = body.get(key, "")
    if not isinstance(value, str):
        raise InvalidInput(f"'{key}' must be a string")
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"'{key}' is required")
    if len(value) > limit:
        raise TooLong(key)
    return value


def bearer(request: Request) -> Optional[str]:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def security_headers() -> Dict[str, str]:
    return {
        # blob: images are customers' attachments, fetched with the token (static/agent/attachments.js).
        "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; frame-ancestors 'none'",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


Handler = Callable[..., Awaitable[HTTPResponse]]
