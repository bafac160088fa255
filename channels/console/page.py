"""The console page at /agent/, its static files, and the OpenAPI document of its API. No login:
the page itself asks for one, and the files hold no data.
"""

from __future__ import annotations

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.console.context import ConsoleContext
from channels.console.http import CONTENT_TYPES, ROUTES_DOC, STATIC, json_error, security_headers


def register(bp: Blueprint, ctx: ConsoleContext) -> None:
    """Add the page, static-file and OpenAPI routes."""

    @bp.route("/", methods=["GET"])
    async def page(request: Request) -> HTTPResponse:
        if not request.path.endswith("/"):
            return response.redirect(request.path + "/")
        return await response.file(STATIC / "index.html", headers=security_headers())

    @bp.route("/static/<path:path>", methods=["GET"])
    async def static(_: Request, path: str) -> HTTPResponse:
        target = (STATIC / path).resolve()
        if STATIC.resolve() not in target.parents or not target.is_file() or target.suffix not in CONTENT_TYPES:
            return json_error(404, "not_found")
        return await response.file(target, mime_type=CONTENT_TYPES[target.suffix])

    @bp.route("/api/openapi.json", methods=["GET"])
    async def openapi(_: Request) -> HTTPResponse:
        return await response.file(ROUTES_DOC, mime_type="application/json")
