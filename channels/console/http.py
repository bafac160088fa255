"""What every console route shares at the HTTP level: one table from domain errors to status codes
and Chinese messages, request-body parsing with the 64 KiB cap, the bearer token, the page's security
headers and where the console's static files live.

Bodies of errors are always ``{"error", "message"}`` (plus the fields a 409 or 429 names).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.errors import (
    Conflict,
    Forbidden,
    IntakeError,
    InvalidInput,
    NotFound,
    RateLimited,
    StoreUnavailable,
    Taken,
    Unauthenticated,
    WrongState,
)
from bot.text import MAX_MESSAGE_CHARS

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


def error_response(error: IntakeError) -> HTTPResponse:
    if isinstance(error, RateLimited):
        return json_error(429, "too_many_attempts", f"登录失败次数过多，请{error.retry_after}秒后再试", retry_after=error.retry_after)
    if isinstance(error, Unauthenticated):
        return json_error(401, "unauthenticated")
    if isinstance(error, WrongState):
        return json_error(409, "wrong_state", "会话或工单的状态已经变化（可能已被接入、转交或结束），请刷新后再试")
    if isinstance(error, Forbidden):
        return json_error(403, "forbidden")
    if isinstance(error, Taken):
        return json_error(
            409, "taken", f"该会话已由{error.agent_name}接入", agent=error.agent, agent_name=error.agent_name, owner=error.owner
        )
    if isinstance(error, Conflict):
        return json_error(409, "conflict")
    if isinstance(error, NotFound):
        return json_error(404, "not_found")
    if isinstance(error, InvalidInput):
        return json_error(400, "invalid", f"请求有误：{error}")
    if isinstance(error, StoreUnavailable):
        return json_error(503, "unavailable")
    return json_error(400, "invalid")


def read_body(request: Request) -> Dict[str, Any]:
    if len(request.body or b"") > MAX_BODY_BYTES:
        raise TooLong("request body")
    try:
        body = json.loads(request.body or b"{}")
    # RecursionError: JSON nested thousands deep (under the 64 KiB limit) is refused, not a 500.
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidInput("body is not JSON")
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


class TooLong(InvalidInput):
    """A body or a field over its limit: answered 413 (an InvalidInput, so 400 where nothing maps it)."""


def bearer(request: Request) -> Optional[str]:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def security_headers() -> Dict[str, str]:
    return {
        "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


Handler = Callable[..., Awaitable[HTTPResponse]]
