"""Wiring the hub onto the Sanic app when the server starts (sanic's ``create_app``/``setup_*``
habit: resources built in a ``before_server_start`` listener and kept on ``app.ctx``).

Rasa builds every input channel's blueprint before the server runs, in an order set by
credentials.yml, and any of them may be the first. So each channel calls `attach(blueprint)`: its
``before_server_start`` listener parses the settings and builds the hub once per app
(`setup_hub`: the first channel's listener builds it, the others find it on ``app.ctx.hub``), then
registers the channel's couriers; ``after_server_start`` starts the hub's loops. Nothing is built
at import or while the blueprints are made, and there is no process-wide hub.

Channels reach the hub through the app: ``request.app.ctx.hub`` in a route, or the `HubRef` that
`attach` returns for code written at blueprint time (the gate around ``on_new_message``, the
console's route modules), which finds the hub of the app the blueprint is registered on when it is
used.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Optional, Sequence

from rasa.core.channels.channel import UserMessage
from sanic import Blueprint, Sanic

from bot.settings import Settings
from channels import tuning
from channels.hub.core import Hub
from channels.hub.pump import Courier

Handler = Callable[[UserMessage], Awaitable[Any]]


def setup_hub(app: Sanic) -> Hub:
    """The app's hub, built from the settings the first time (``app.ctx.settings``, ``app.ctx.hub``)."""
    hub: Optional[Hub] = getattr(app.ctx, "hub", None)
    if hub is None:
        settings = Settings.from_env()  # refuses an invalid configuration before the server serves
        hub = Hub.from_settings(settings)
        app.ctx.settings, app.ctx.hub = settings, hub
    return hub


class HubRef:
    """The hub of the app a blueprint is registered on, for code written before the app runs.

    Attribute access is passed on to that hub (``ref.run(...)``, ``ref.handoff``); it works once the
    server has started (`setup_hub` ran), i.e. in routes, listeners and message handlers."""

    def __init__(self, blueprint: Blueprint) -> None:
        self._blueprint = blueprint

    @property
    def hub(self) -> Hub:
        for app in self._blueprint.apps:
            hub = getattr(app.ctx, "hub", None)
            if hub is not None:
                return hub
        raise RuntimeError(f"the hub of blueprint {self._blueprint.name!r} is built when the server starts")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.hub, name)

    def gated(self, on_new_message: Handler) -> Handler:
        """`Hub.gated`, resolved on the first message (the hub does not exist yet when Rasa builds
        the blueprint and hands it ``on_new_message``)."""
        gated: Optional[Handler] = None

        async def handle(message: UserMessage) -> Any:
            nonlocal gated
            if gated is None:
                gated = self.hub.gated(on_new_message)
            return await gated(message)

        return handle


def attach(blueprint: Blueprint, couriers: Sequence[Courier] = (), stop: bool = False) -> HubRef:
    """Wire a channel's blueprint to the app's hub: build it before the server starts (once per
    app), register the channel's couriers, start the hub's loops when the server has started, and
    with `stop` stop them when it stops."""

    @blueprint.listener("before_server_start")
    async def wire_hub(app: Sanic, loop: Any) -> None:
        hub = setup_hub(app)
        for courier in couriers:
            hub.register(courier)

    @blueprint.listener("after_server_start")
    async def start_hub(app: Sanic, loop: Any) -> None:
        await app.ctx.hub.start()
        await tuning.warm_up_and_freeze(app)  # the model is loaded by now (once per process)

    if stop:

        @blueprint.listener("before_server_stop")
        async def stop_hub(app: Sanic, loop: Any) -> None:
            await app.ctx.hub.stop()
            await tuning.close_http_sessions()  # the action server's kept connections

    return HubRef(blueprint)
