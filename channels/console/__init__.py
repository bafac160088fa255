"""The agent console: the page at /agent/ and its JSON API at /agent/api (see static/agent/openapi.json).

Registered in credentials.yml like any Rasa channel; it takes no customer messages itself. Every API
route except login and the OpenAPI document needs ``Authorization: Bearer <token>``. Domain errors
map to status codes in one place (`http.error_response`); bodies are always ``{"error", "message"}``.

`AgentConsoleInput.blueprint` builds one blueprint and a `ConsoleContext` (the hub, the `api`
decorator, the audit), then lets each module below add its routes with `register(bp, ctx)`:

    page.py         the page, its static files, the OpenAPI document
    auth.py         login, logout, me, agents
    sessions.py     queue, sessions and the actions on them, canned replies
    tickets.py      open, search, resolve, notes, progress updates and corrections of tickets; progress due
    followup.py     internal session notes, the customer panel, call-backs by phone
    supervision.py  delivery failures, deadlines, escalations, the backend outbox
    events.py       the long poll that keeps consoles up to date
    privacy.py      customers' personal-data requests and the access log
    stats.py        the supervisors' dashboard and its figures
    incidents.py    outage incidents
    attachments.py  customers' screenshots and files: the file, its thumbnail, who may fetch them

http.py holds the request helpers and the Chinese error messages they share (status codes: channels/http.py),
payloads.py the JSON shapes of the core objects, panel_payloads.py those of the panels.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint

from channels.console import (
    attachments, auth, events, followup, incidents, page, privacy, sessions, stats, supervision, tickets,
)
from channels.console.context import ConsoleContext
from channels.console.http import ROUTES_DOC
from channels.hub import attach

__all__ = ["ROUTES_DOC", "AgentConsoleInput", "routes"]

# In the order their routes were added when they were all one closure.
_MODULES = (page, auth, sessions, tickets, supervision, events, privacy, stats, incidents, followup, attachments)


class AgentConsoleInput(InputChannel):
    """Serves /agent/ (console page) and /agent/api (JSON API for consoles and other systems)."""

    @classmethod
    def name(cls) -> Text:
        return "agent"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls()

    def url_prefix(self) -> Text:
        return "/agent"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("agent_console", __name__)
        # The app's hub, built when the server starts (channels/hub/setup.py).
        hub = attach(blueprint, stop=True)
        ctx = ConsoleContext(hub)
        for module in _MODULES:
            module.register(blueprint, ctx)
        return blueprint


def routes(blueprint: Blueprint) -> List[str]:
    """(method path) pairs of the API, for checking the OpenAPI document against the code."""
    return [
        f"{method} {route.uri}"
        for route in blueprint._future_routes
        for method in route.methods
        if route.uri.startswith("/api/")
    ]
