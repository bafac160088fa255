"""What the console's route modules share, handed to each `register(bp, ctx)`: the process's hub,
the `api` decorator (authentication and the mapping of domain errors) and the access-log audit.

It replaces the closure that the console's single `blueprint()` method used to be, so that every
panel's routes can live in their own module and still see the same three things.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from sanic.request import Request
from sanic.response import HTTPResponse

from bot.errors import IntakeError
from bot.staff import StaffMember
from channels.console.http import Handler, bearer, error_response
from channels.hub import HubRef


class ConsoleContext:
    """One per console blueprint."""

    def __init__(self, hub: HubRef) -> None:
        self.hub = hub

    def api(self, authenticated: bool = True) -> Callable[[Handler], Handler]:
        """Domain errors -> status codes; the staff member as `me` for authenticated routes."""
        hub = self.hub

        def decorate(handler: Handler) -> Handler:
            @functools.wraps(handler)
            async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
                try:
                    if authenticated:
                        kwargs["me"] = await hub.run(hub.staff.authenticate, bearer(request))
                    result = await handler(request, *args, **kwargs)
                except IntakeError as error:
                    return error_response(error)
                # A route may be stricter (attachments: "private, no-store"), never laxer.
                for name, value in (("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")):
                    result.headers.setdefault(name, value)
                return result

            return wrapped

        return decorate

    async def audit(self, request: Request, me: StaffMember, action: str, customer: Any, target: str) -> None:
        """Every read of a customer's data is written to the access log (个人信息保护法)."""
        await self.hub.run(self.hub.access.record, me, action, customer, target, request.remote_addr or request.ip)
