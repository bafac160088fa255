"""The supervisors' service-figures dashboard: the page at /agent/dashboard and its API.

``GET /agent/api/stats?from=YYYY-MM-DD&to=YYYY-MM-DD&channel=...``      the figures as JSON
``GET /agent/api/stats.csv?...``                                       the same numbers as CSV

Days are Beijing days, both ends included (default: the last 7 days); ``channel`` narrows everything
to one channel. Supervisors only (403 for agents). Every number comes from `bot.stats`; the CSV is
UTF-8 with a byte-order mark so Excel shows the Chinese, one row per figure or series point.
Registered on the console blueprint by `channels.console`.
"""

from __future__ import annotations

import csv
import io
import threading
from typing import Any, Optional

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.errors import Forbidden
from bot.staff import StaffMember
from bot.stats import CSV_HEADER, Figures, Period, ServiceFigures, csv_rows, to_json
from bot.storage.conversations import ConversationLog
from channels.console.context import ConsoleContext
from channels.console.http import STATIC, security_headers


class _Figures:
    """The process's `ServiceFigures`, with the conversation log of TRACKER_STORE_URL opened on first use."""

    def __init__(self, hub: Any) -> None:
        self.hub = hub
        self._service: Optional[ServiceFigures] = None
        self._lock = threading.Lock()

    def compute(self, me: StaffMember, request: Request) -> Figures:
        if not me.is_supervisor:
            raise Forbidden("supervisors only")
        args = request.args
        period = Period.parse(args.get("from"), args.get("to"), args.get("channel"))
        with self._lock:
            if self._service is None:
                self._service = ServiceFigures(self.hub.db, ConversationLog.from_env())
        return self._service.compute(me, period)


def register(bp: Blueprint, ctx: ConsoleContext) -> None:
    """Add the dashboard page and the stats routes."""
    hub, api = ctx.hub, ctx.api
    page_headers = security_headers()
    figures = _Figures(hub)

    @bp.route("/dashboard", methods=["GET"])
    async def dashboard(request: Request) -> HTTPResponse:
        if request.path.endswith("/"):  # the page's assets are relative to /agent/
            return response.redirect(request.path.rstrip("/"))
        return await response.file(STATIC / "dashboard.html", headers=page_headers)

    @bp.route("/api/stats", methods=["GET"])
    @api()
    async def stats(request: Request, me: StaffMember) -> HTTPResponse:
        found = await hub.run(figures.compute, me, request)
        # The low-confidence list quotes customers' messages (masked): a read of customer data.
        p = found.period
        await hub.run(hub.access.record, me, "view_low_confidence", None,
                      f"{p.first.isoformat()}~{p.last.isoformat()}", request.remote_addr or request.ip)
        return response.json(to_json(found))

    @bp.route("/api/stats.csv", methods=["GET"])
    @api()
    async def stats_csv(request: Request, me: StaffMember) -> HTTPResponse:
        found = await hub.run(figures.compute, me, request)
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_HEADER)
        writer.writerows(csv_rows(found))
        p = found.period
        name = f"service-figures_{p.first.isoformat()}_{p.last.isoformat()}{'_' + p.channel if p.channel else ''}.csv"
        return response.text(
            out.getvalue(),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
