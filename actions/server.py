"""The action server: rasa_sdk's server with our logging, request ids, metrics and readiness.

    python -m actions.server --actions actions --port 5055      (same options as python -m rasa_sdk)

Routes, besides rasa_sdk's ``POST /webhook`` and ``GET /actions``:

``GET /health``   liveness: the process serves HTTP (rasa_sdk's own, 200 always).
``GET /readyz``   readiness: 200 when the ticket store answers, else 503 with the failing check.
``GET /metrics``  Prometheus metrics of this process (actions/metrics.py).

Logging is ours from the first line (bot/logs.py: LOG_FORMAT, LOG_LEVEL); every request gets an id
(the client's ``X-Request-ID`` or a new one, returned in the response) and an action call's log lines
carry the conversation it belongs to.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import time
import zlib
from typing import Any, Dict, List, Optional

from sanic import Sanic, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import logs

logger = logging.getLogger(__name__)


def _action_call(request: Request) -> Optional[Dict[str, Any]]:
    """The action call in the body of a webhook request, as rasa_sdk reads it (None if unreadable)."""
    try:
        if request.headers.get("Content-Encoding") == "deflate":
            body = json.loads(zlib.decompress(request.body))
        else:
            body = request.json  # parsed once: rasa_sdk's handler gets the same cached object
    except (ValueError, zlib.error, InvalidUsage):
        return None
    return body if isinstance(body, dict) else None


def create_app(action_package: str, cors_origins: Any = None) -> Sanic:
    from rasa_sdk.endpoint import create_app as create_sdk_app

    from actions import metrics
    from actions.common import database
    from bot.errors import IntakeError

    app = create_sdk_app(action_package, cors_origins=cors_origins)

    @app.middleware("request")
    async def started(request: Request) -> None:
        request.ctx.request_id = logs.start_request(logs.valid_request_id(request.headers.get("X-Request-ID")))
        request.ctx.started = time.perf_counter()
        request.ctx.action = None
        if request.path == "/webhook" and request.method == "POST":
            call = _action_call(request) or {}
            tracker = call.get("tracker") if isinstance(call.get("tracker"), dict) else {}
            sender, channel = tracker.get("sender_id"), tracker.get("latest_input_channel")
            logs.bind(sender_id=sender if isinstance(sender, str) else None,
                      channel=channel if isinstance(channel, str) else None)
            name = call.get("next_action")
            request.ctx.action = name if isinstance(name, str) and name else "none"

    @app.middleware("response")
    async def finished(request: Request, answer: HTTPResponse) -> None:
        if answer is None:
            return
        answer.headers["X-Request-ID"] = getattr(request.ctx, "request_id", "") or ""
        action = getattr(request.ctx, "action", None)
        if action is not None:
            # Only names the executor knows become label values (404: it does not know this one).
            label = "unknown" if answer.status == 404 else action
            metrics.ACTION_CALLS.labels(label, metrics.outcome_of(answer.status)).inc()
            metrics.ACTION_SECONDS.labels(label).observe(time.perf_counter() - request.ctx.started)

    @app.get("/readyz")
    async def readyz(_: Request) -> HTTPResponse:
        def ping() -> None:
            database().ping()

        checks: Dict[str, str] = {}
        try:
            await asyncio.get_running_loop().run_in_executor(None, ping)
            checks["ticket_store"] = "ok"
        except IntakeError:
            checks["ticket_store"] = "unreachable"
        ready = all(value == "ok" for value in checks.values())
        body = {"status": "ready" if ready else "not ready", "checks": checks, "pid": os.getpid()}
        return response.json(body, status=200 if ready else 503)

    @app.get("/metrics")
    async def prometheus(_: Request) -> HTTPResponse:
        return response.raw(metrics.exposition(), content_type=metrics.CONTENT_TYPE)

    return app


def _sanic_loggers(level: str) -> None:
    """Sanic's own loggers at the libraries' level (as rasa_sdk sets them), through our handler."""
    for name in ("sanic.root", "sanic.error", "sanic.access"):
        logging.getLogger(name).setLevel(level)
        logging.getLogger(name).propagate = False


def main(argv: Optional[List[str]] = None) -> None:
    logs.configure()  # before rasa_sdk is imported: warnings raised by its imports are logged too
    from rasa_sdk import utils
    from rasa_sdk.endpoint import create_argument_parser, create_ssl_context
    from rasa_sdk.plugin import plugin_manager

    parser: argparse.ArgumentParser = create_argument_parser()
    parser.set_defaults(loglevel=None)  # LOG_LEVEL decides unless -v/-vv/--quiet is given
    args = parser.parse_args(argv)
    _sanic_loggers(os.environ.get("LOG_LEVEL_LIBRARIES", "ERROR"))
    logs.configure(args.loglevel)

    app = create_app(args.actions or "actions", cors_origins=args.cors)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    ssl_context = create_ssl_context(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    host = os.environ.get("SANIC_HOST", "0.0.0.0")
    logger.info("action server on %s://%s:%s", "https" if ssl_context else "http", host, args.port)
    app.run(host, args.port, ssl=ssl_context, workers=utils.number_of_sanic_workers(), access_log=False)


if __name__ == "__main__":
    main()
