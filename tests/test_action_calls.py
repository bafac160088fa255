"""Rasa's calls to an action server that is restarting (channels/action_calls.py), against a real
HTTP server on a free localhost port that is not there yet, or cuts the call off."""

from __future__ import annotations

import asyncio
import socket
from typing import List

import pytest
from aiohttp import web
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

from channels import metrics
from channels.startup import prepare_process

prepare_process()  # installs the patch, as the server's start does


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ActionServer:
    """Answers each call with a slot event; the first `cut_off` calls are dropped mid-request."""

    def __init__(self, port: int, cut_off: int = 0) -> None:
        self.port = port
        self.cut_off = cut_off
        self.calls: List[str] = []
        self.runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.calls.append(body["next_action"])
        if len(self.calls) <= self.cut_off:
            request.transport.close()  # the process died with the call in hand
            raise web.HTTPInternalServerError()
        return web.json_response({"events": [{"event": "slot", "name": "done", "value": True}], "responses": []})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/webhook", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


async def call(port: int) -> list:
    domain = Domain.empty()
    action = RemoteAction("action_file_complaint", EndpointConfig(f"http://127.0.0.1:{port}/webhook"))
    tracker = DialogueStateTracker("alice", domain.slots)
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    return await action.run(CollectingOutputChannel(), nlg, tracker, domain)


def retries() -> float:
    return metrics.ACTION_CALL_RETRIES._value.get()


def test_a_call_waits_for_the_action_server_to_come_back(monkeypatch):
    monkeypatch.setenv("ACTION_RETRY_SECONDS", "20")
    port = free_port()
    server = ActionServer(port)
    before = retries()

    async def scenario() -> list:
        calling = asyncio.get_running_loop().create_task(call(port))
        await asyncio.sleep(1.0)  # nothing listens yet: the supervisor is restarting it
        assert not calling.done()
        await server.start()
        try:
            return await asyncio.wait_for(calling, 20)
        finally:
            await server.stop()

    assert asyncio.run(scenario()) == [SlotSet("done", True)]
    assert server.calls == ["action_file_complaint"] and retries() > before


def test_a_call_cut_off_by_a_dying_action_server_is_made_again(monkeypatch):
    monkeypatch.setenv("ACTION_RETRY_SECONDS", "20")
    port = free_port()
    server = ActionServer(port, cut_off=1)

    async def scenario() -> list:
        await server.start()
        try:
            return await call(port)
        finally:
            await server.stop()

    assert asyncio.run(scenario()) == [SlotSet("done", True)]
    assert server.calls == ["action_file_complaint"] * 2  # the same call again: same idempotency key


def test_an_action_server_that_stays_away_fails_the_call_as_before(monkeypatch):
    monkeypatch.setenv("ACTION_RETRY_SECONDS", "0.5")
    with pytest.raises(RasaException):
        asyncio.run(call(free_port()))
