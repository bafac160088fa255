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
import logging
import os
import time
from typing import Any, Dict, List, Optional

from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.calls import call_problem, read_call
from bot import logs

logger = logging.getLogger(__name__)

def _body_unread(request: Request) -> bool:
    """Whether sanic refused the body before reading it (larger than SANIC_REQUEST_MAX_SIZE). Sanic
    then runs the request middleware again while it answers 413, with an empty body: a check of the
    call's shape there would turn the 413 into a 400."""
    try:
        declared = int(request.headers.get("content-length") or 0)
    except ValueError:
        return False
    return len(request.body or b"") < declared


def create_app(action_package: str, request_max_size: int, cors_origins: Any = None) -> Sanic:
    from rasa_sdk.endpoint import create_app as create_sdk_app

    from actions import metrics
    from actions.common import database
    from bot.errors import IntakeError

    app = create_sdk_app(action_package, cors_origins=cors_origins)
    # Rasa posts the whole conversation since the session started with every action call, and a
    # customer may send 5,000-character messages (about 60 KB each in Rasa's JSON): the public 1 MB
    # limit (SANIC_REQUEST_MAX_SIZE) would stop a long conversation for good. This server only
    # listens to the Rasa processes (loopback, or a NetworkPolicy), so it has a limit of its own.
    app.config.REQUEST_MAX_SIZE = request_max_size  # ACTION_REQUEST_MAX_SIZE

    @app.exception(SanicException)
    async def refused(request: Request, error: SanicException) -> HTTPResponse:
        # rasa_sdk's catch-all handler made sanic's own refusals (wrong method, body too large, no such
        # route) a 500 that echoed the request body back: they keep their 4xx status, as JSON.
        return response.json({"error": str(error)}, status=getattr(error, "status_code", None) or 500)

    @app.middleware("request")
    async def started(request: Request) -> None:
        request.ctx.request_id = logs.start_request(logs.valid_request_id(request.headers.get("X-Request-ID")))
        request.ctx.started = time.perf_counter()
        request.ctx.action = None
        if request.path == "/webhook" and request.method == "POST":
            if _body_unread(request):
                return None  # refused unread (413, SANIC_REQUEST_MAX_SIZE): that answer stands, not a shape check
            raw = read_call(request)
            call = raw or {}
            tracker = call.get("tracker") if isinstance(call.get("tracker"), dict) else {}
            sender, channel = tracker.get("sender_id"), tracker.get("latest_input_channel")
            logs.bind(sender_id=sender if isinstance(sender, str) else None,
                      channel=channel if isinstance(channel, str) else None)
            name = call.get("next_action")
            request.ctx.action = name if isinstance(name, str) and name else "none"
            problem = call_problem(raw)
            if problem is not None:
                request.ctx.action = "invalid"  # never a client's string as a metrics label
                # `action_name`: Rasa reads a 400 as a rejected action and expects the name in it.
                action_name = name if isinstance(name, str) else None
                return response.json({"error": problem, "action_name": action_name}, status=400)

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
    # Logging first, before rasa_sdk (and the modules below) are imported: warnings raised by their
    # imports are logged too. It reads LOG_FORMAT and LOG_LEVEL itself, before the settings are parsed.
    logs.configure()
    from rasa_sdk import utils
    from rasa_sdk.endpoint import create_argument_parser, create_ssl_context
    from rasa_sdk.plugin import plugin_manager

    from actions import services
    from bot.settings import ACTION_SERVER, Settings

    parser: argparse.ArgumentParser = create_argument_parser()
    parser.set_defaults(loglevel=None)  # LOG_LEVEL decides unless -v/-vv/--quiet is given
    args = parser.parse_args(argv)
    try:
        # Parsed once, here; LOG_ID_KEY is checked too (this process logs conversation ids).
        settings = Settings.from_env(server=ACTION_SERVER)
    except ValueError as error:
        raise SystemExit(f"action server not started: {error}") from None
    _sanic_loggers(settings.log_level_libraries)
    logs.configure(args.loglevel)
    logs.install()
    # The one place the actions' services are built (see actions/services.py for why a registry).
    services.install(services.Services(settings))

    app = create_app(args.actions or "actions", settings.action_request_max_size, cors_origins=args.cors)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    ssl_context = create_ssl_context(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    host = settings.sanic_host
    logger.info("action server on %s://%s:%s", "https" if ssl_context else "http", host, args.port)
    app.run(host, args.port, ssl=ssl_context, workers=utils.number_of_sanic_workers(), access_log=False)


if __name__ == "__main__":
    main()
