"""The backend ticketing system: the push from the running server, and the read API."""

from __future__ import annotations

import json
import random
import re
import time
import uuid

import pytest
import requests

from channels.backend_api import DOC, BackendApiInput
from tests.e2e.conftest import BACKEND_API_KEY

pytestmark = pytest.mark.e2e


def api(stack, path: str, key=BACKEND_API_KEY, **params) -> requests.Response:
    headers = {"X-API-Key": key} if key else {}
    return requests.get(f"{stack.url}/api{path}", headers=headers, params=params, timeout=30)


def file_complaint(stack) -> str:
    sender = uuid.uuid4().hex
    stack.say(sender, "我家宽带断网三天了，一直连不上")
    stack.say(sender, f"139{random.randint(10_000_000, 99_999_999)}")
    reply = stack.texts(stack.say(sender, "确认"))
    number = next(word for word in reply.replace("：", " ").split() if word.startswith("TS"))
    return number


def test_the_running_server_pushes_ticket_events_to_the_backend(stack, backend):
    number = file_complaint(stack)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        kinds = [e["kind"] for e in backend.received() if e["ticket"]["number"] == number]
        if kinds[:2] == ["created", "dispatched"]:
            break
        time.sleep(0.1)
    assert kinds[:2] == ["created", "dispatched"], kinds
    assert backend.stats()["bad_signatures"] == 0


def test_read_api_needs_its_key_and_pages_through_changes(stack):
    number = file_complaint(stack)
    assert api(stack, "/tickets", key=None).status_code == 401
    assert api(stack, "/tickets", key="wrong-key-123456789").status_code == 401
    assert api(stack, "/tickets", updated_since="yesterday").status_code == 400
    assert api(stack, "/tickets", updated_since="2026-01-01T00:00:00").status_code == 400  # no time zone
    assert api(stack, "/tickets", limit=0).status_code == 400
    assert api(stack, "/tickets", cursor="-1").status_code == 400 and api(stack, "/tickets", cursor="x").status_code == 400
    one = api(stack, f"/tickets/{number}")
    assert one.status_code == 200 and one.json()["contact_phone"].startswith("139")
    assert [e["kind"] for e in one.json()["events"]][:2] == ["created", "dispatched"]
    assert api(stack, "/tickets/TS000000-00000000").status_code == 404
    seen, params = [], {"limit": 1, "updated_since": "2020-01-01T00:00:00Z"}
    while True:
        page = api(stack, "/tickets", **params).json()
        seen += [t["number"] for t in page["tickets"]]
        if page["next"] is None:
            break
        params = {"limit": 1, **page["next"]}
    assert number in seen and len(seen) == len(set(seen))
    # Polling on from the last cursor: a later change of the ticket comes back, once.
    cursor = page["cursor"]
    assert api(stack, "/tickets", cursor=cursor).json()["tickets"] == []


def test_read_api_document_matches_its_routes():
    doc = json.loads(DOC.read_text(encoding="utf-8"))
    documented = {f"{m.upper()} {p}" for p, item in doc["paths"].items() for m in item if m != "parameters"}
    blueprint = BackendApiInput("k" * 16).blueprint(lambda message: None)
    served = {m + " " + re.sub(r"<(\w+)>", r"{\1}", r.uri) for r in blueprint._future_routes for m in r.methods}
    assert documented == served


def test_the_outbox_view_is_for_supervisors_only(stack, console):  # retrying: tests/test_outbox.py
    from bot.staff import Role

    boss = console.login(console.account("outbox-boss", "主管", Role.SUPERVISOR))
    agent = console.login(console.account("outbox-agent", "坐席"))
    assert stack.api("GET", "/outbox", agent).status_code == 403
    backlog = stack.api("GET", "/outbox", boss).json()
    assert {"pending", "dead", "dead_events"} <= set(backlog)
    assert stack.api("POST", "/outbox/999999/retry", boss).status_code == 404
