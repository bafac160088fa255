"""Health, readiness and metrics of one Rasa server process, for load balancers, orchestrators and
Prometheus; and what every request of the process gets: a request id and our logging.

``GET /healthz``  liveness: the process serves HTTP (200 always).
``GET /readyz``   readiness: 200 when the model is loaded, the ticket store and the tracker store
                  answer and (with REDIS_URL) the wake-up bus is reachable; 503 with the failing
                  checks otherwise. Rasa falls back to an in-memory tracker store when its SQL store
                  cannot be reached at start: that process is not ready (conversations would not
                  survive it and other processes would not see them).
``GET /metrics``  Prometheus metrics of this process and gauges of the ticket store (channels/metrics.py).

Every request gets an id: the client's ``X-Request-ID`` when it is a short token, else a new one. It
is in every log line written while the request is handled and comes back as ``X-Request-ID``.
"""

from __future__ import annotations

import os
import time
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import logs
from bot.errors import IntakeError
from channels import metrics
from channels.hub import attach
from channels.startup import prepare_process

STARTED = time.monotonic()


class OpsInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "ops"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls()

    def url_prefix(self) -> Text:
        return "/"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # Plain `rasa run` builds the channels before it serves: the process set-up that
        # channels/server.py does at start happens here for it (idempotent).
        prepare_process()
        blueprint = Blueprint("ops", __name__)
        hub = attach(blueprint)  # the app's hub, built when the server starts (channels/hub/setup.py)

        @blueprint.listener("before_server_start")
        async def observe_requests(app: Any, loop: Any) -> None:
            metrics.watch_store(app.ctx.hub.db)
            # Rasa configured Sanic's loggers after loading the channels: take them over again.
            logs.configure(import_first=logs.OWN_HANDLER_LIBRARIES)
            app.register_middleware(_request_started, "request")
            app.register_middleware(_request_finished, "response")
            # Sanic's own refusals (no such route, wrong method, unreadable JSON, oversized headers) in
            # JSON like every other error here: its "auto" format answered clients that send no JSON
            # content type (curl, integrations posting text) with an HTML page.
            app.config.FALLBACK_ERROR_FORMAT = "json"
            for route in app.router.routes:
                route.ctx.error_format = "json"

        @blueprint.route("/metrics", methods=["GET"])
        async def prometheus(_: Request) -> HTTPResponse:
            return response.raw(await metrics.exposition(), content_type=metrics.CONTENT_TYPE)

        @blueprint.route("/healthz", methods=["GET"])
        async def healthz(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "pid": os.getpid()})

        @blueprint.route("/readyz", methods=["GET"])
        async def readyz(request: Request) -> HTTPResponse:
            checks: Dict[str, str] = {}
            agent = getattr(request.app.ctx, "agent", None)
            checks["model"] = "ok" if agent is not None and agent.is_ready() else "not loaded"
            try:
                await hub.run(hub.db.ping)
                checks["ticket_store"] = "ok"
            except IntakeError:
                checks["ticket_store"] = "unreachable"
            sql_store = request.app.ctx.settings.tracker_store_url is not None
            checks["tracker_store"] = await hub.run(_tracker_store_check, agent, sql_store)
            if hub.bus is not None:
                checks["redis"] = "ok" if await hub.bus.ping() else "unreachable"
            ready = all(value == "ok" for value in checks.values())
            body = {"status": "ready" if ready else "not ready", "checks": checks, "pid": os.getpid(),
                    "uptime_seconds": round(time.monotonic() - STARTED, 1)}
            return response.json(body, status=200 if ready else 503)

        return blueprint


async def _request_started(request: Request) -> None:
    request_id = logs.valid_request_id(request.headers.get("X-Request-ID")) or logs.new_request_id()
    request.ctx.request_id = logs.start_request(request_id)


async def _request_finished(request: Request, answer: HTTPResponse) -> None:
    request_id = getattr(request.ctx, "request_id", None)
    if request_id and answer is not None:
        answer.headers["X-Request-ID"] = request_id


def _tracker_store_check(agent: Any, sql_store: bool) -> str:
    """`sql_store`: TRACKER_STORE_URL is set (Settings), so an in-memory store means it fell back."""
    store = getattr(agent, "tracker_store", None)
    store = getattr(store, "_tracker_store", store)  # inside Rasa's FailSafeTrackerStore
    engine = getattr(store, "engine", None)
    if engine is None:
        return "in memory (SQL store unreachable at start)" if sql_store else "ok"
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        return "ok"
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
        return f"unreachable ({error.__class__.__name__})"
