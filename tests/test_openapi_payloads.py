"""The OpenAPI documents describe what is really sent: every wire `TypedDict` (the console's in
channels/console/payloads.py and panel_payloads.py, the backend's in bot/outbox/wire.py) against the
schema of the same name, field by field in both directions, nested objects included, and the
schema's `required` list against the keys that are always sent. A few serialisers are also run on
a ticket row, so a key added to one of them without its type fails here too.
"""

import json
import typing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.outbox.wire import TicketDocument, TicketEventDocument, TicketSnapshot
from bot.storage.capture import ticket_snapshot
from bot.storage.models import TicketEventRow, TicketRow
from bot.tickets import Ticket
from channels.backend_api import ticket_document
from channels.console import panel_payloads, payloads

STATIC = Path(__file__).resolve().parent.parent / "channels" / "static"
CONSOLE_DOC = json.loads((STATIC / "agent" / "openapi.json").read_text(encoding="utf-8"))
BACKEND_DOC = json.loads((STATIC / "backend-openapi.json").read_text(encoding="utf-8"))

CONSOLE = {**payloads.SCHEMAS, **panel_payloads.SCHEMAS}
BACKEND = {"TicketSnapshot": TicketSnapshot, "Ticket": TicketDocument, "TicketEvent": TicketEventDocument}


def resolve(doc, schema):
    """A schema with its $ref followed and its allOf parts merged: (properties, required or None)."""
    if "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    properties = dict(schema.get("properties") or {})
    required = schema.get("required")
    for part in schema.get("allOf", ()):
        more, more_required = resolve(doc, part)
        properties.update(more)
        if more_required is not None:
            required = (required or []) + list(more_required)
    return properties, required


def is_typed_dict(tp):
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__required_keys__")


def drift(doc, typed, schema, where):
    """Every difference between a TypedDict and a schema, as readable lines."""
    properties, required = resolve(doc, schema)
    hints = typing.get_type_hints(typed)
    found = []
    sent, documented = set(hints), set(properties)
    found += [f"{where}.{key}: sent, not in the schema" for key in sorted(sent - documented)]
    found += [f"{where}.{key}: in the schema, never sent" for key in sorted(documented - sent)]
    if required is not None and set(required) != set(typed.__required_keys__):
        found.append(f"{where}: required {sorted(required)} but always sent {sorted(typed.__required_keys__)}")
    for key in sorted(sent & documented):
        tp, part = hints[key], properties[key]
        if typing.get_origin(tp) in (list, typing.List) and is_typed_dict(typing.get_args(tp)[0]):
            tp, part = typing.get_args(tp)[0], part.get("items", {})
        if is_typed_dict(tp):
            found += drift(doc, tp, part, f"{where}.{key}")
    return found


@pytest.mark.parametrize("name", sorted(CONSOLE))
def test_console_payloads_match_their_schemas(name):
    assert name in CONSOLE_DOC["components"]["schemas"]
    assert drift(CONSOLE_DOC, CONSOLE[name], {"$ref": f"#/components/schemas/{name}"}, name) == []


@pytest.mark.parametrize("name", sorted(BACKEND))
def test_backend_payloads_match_their_schemas(name):
    assert name in BACKEND_DOC["components"]["schemas"]
    assert drift(BACKEND_DOC, BACKEND[name], {"$ref": f"#/components/schemas/{name}"}, name) == []


def _row():
    at = datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc)
    row = TicketRow(
        number="TS261122-K7Q4M9XD", channel="telegram", channel_user_id="42", contact_phone="13800138000",
        category="network", severity="major", severity_reason="r", department="network_operations",
        responsible="li", status="assigned", description="断网", created_at=at, updated_at=at,
        response_due=at + timedelta(hours=2), resolve_due=at + timedelta(hours=24), progress_due=at + timedelta(hours=24),
        repeat_of=None, repeat_count=0, escalation_level=0, handler=None, rating=None, change_seq=7,
    )
    row.events = [TicketEventRow(at=at, actor="bot", kind="created", detail="")]
    return row


def test_the_serialisers_send_the_keys_of_their_types():
    row = _row()
    ticket = Ticket.from_row(row)
    assert set(ticket_snapshot(row)) == set(TicketSnapshot.__required_keys__)
    document = ticket_document(ticket)
    assert set(document) == set(TicketDocument.__required_keys__)
    # The console's events carry the backend's raw fields plus their Chinese rendering for people.
    assert set(document["events"][0]) < set(typing.get_type_hints(payloads.TicketEventJson))
    console = payloads.ticket_json(ticket)
    assert set(console) == set(payloads.TicketJson.__required_keys__)
    assert set(console["events"][0]) == set(payloads.TicketEventJson.__required_keys__)
    assert set(panel_payloads.progress_due_json(ticket, 0.0)) == set(panel_payloads.ProgressDueJson.__required_keys__)
