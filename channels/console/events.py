"""The consoles' live updates: a long poll on the handoff feed. A console starting up learns the
cursor; later polls wait (at most LONG_POLL_MAX_SECONDS) until something after it happens.
"""

from __future__ import annotations

import asyncio
import math

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.errors import InvalidInput
from bot.staff import StaffMember
from channels.console.context import ConsoleContext
from channels.console.payloads import feed_event_json

LONG_POLL_MAX_SECONDS = 25.0


def register(bp: Blueprint, ctx: ConsoleContext) -> None:
    """Add the long-poll route."""
    hub, api = ctx.hub, ctx.api

    @bp.route("/api/events", methods=["GET"])
    @api()
    async def events(request: Request, me: StaffMember) -> HTTPResponse:
        try:
            after = int(request.args.get("after", "0"))
            timeout = float(request.args.get("timeout", "20"))
        except ValueError:
            raise InvalidInput("'after' must be an integer and 'timeout' a number") from None
        if not math.isfinite(timeout) or not -1 <= after < 2**63:
            raise InvalidInput("'after' must be a feed cursor and 'timeout' a finite number")
        timeout = min(max(timeout, 0.0), LONG_POLL_MAX_SECONDS)
        if after <= 0:
            # A console starting up learns where the feed stands (it has just loaded everything).
            # On an empty feed it waits like any other poll, so the very first change is not missed.
            after = 0
            cursor = await hub.run(hub.handoff.latest_event_id)
            if cursor > 0:
                return response.json({"cursor": cursor, "events": []})
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            cursor, found = await hub.run(hub.handoff.events_after, after)
            remaining = deadline - asyncio.get_running_loop().time()
            if found or remaining <= 0:
                break
            # Woken at once by changes in this process; other processes' changes within a second.
            await hub.pulse.wait(min(remaining, 1.0))
        return response.json({"cursor": cursor, "events": [feed_event_json(e) for e in found]})
