"""Reading Rasa's conversation log for the bot figures: where each customer's conversations start,
and the messages by intent with the low-confidence ones. Its `data` column is JSON stored as text,
read through each dialect's JSON functions.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from bot.stats.figures import (
    CONVERSATION_GAP,
    FALLBACK_INTENT,
    HANDOFF_HORIZON,
    LOW_CONFIDENCE,
    LOW_CONFIDENCE_LIMIT,
    LowConfidence,
    Period,
)
from bot.storage import conversations
from bot.text import mask_personal_data


def _user_events(connection, start: float, end: float, channel: Optional[str]):
    events = conversations.events
    data = _json(connection.dialect.name, events.c.data)
    input_channel = data["input_channel"].as_string()
    conditions = [events.c.type_name == "user", events.c.timestamp >= start, events.c.timestamp < end]
    if channel:
        conditions.append(input_channel == channel)
    return events, data, input_channel, conditions


def conversation_starts(connection, period: Period) -> List[Tuple[Tuple[str, str], float]]:
    """((channel, sender), first message time) of every conversation that starts from the period's
    start to a day after its end; the window reaches back one gap to see what continues."""
    events, _, _, conditions = _user_events(
        connection,
        (period.start - CONVERSATION_GAP).timestamp(),
        (period.end + HANDOFF_HORIZON).timestamp(),
        period.channel,
    )
    previous = sa.func.lag(events.c.timestamp).over(
        partition_by=events.c.sender_id, order_by=(events.c.timestamp, events.c.id)
    )
    runs = (
        sa.select(events.c.id, events.c.sender_id, events.c.timestamp.label("at"), previous.label("previous"))
        .where(*conditions)
        .subquery()
    )
    # The channel is read from the JSON of the first messages only.
    first = events.alias("first")
    channel = _json(connection.dialect.name, first.c.data)["input_channel"].as_string()
    gap = CONVERSATION_GAP.total_seconds()
    rows = connection.execute(
        sa.select(channel.label("channel"), runs.c.sender_id, runs.c.at)
        .select_from(runs.join(first, first.c.id == runs.c.id))
        .where(
            runs.c.at >= period.start.timestamp(),
            sa.or_(runs.c.previous.is_(None), runs.c.at - runs.c.previous >= gap),
        )
    ).all()
    return [((row.channel or "", row.sender_id), float(row.at)) for row in rows]


def message_counts(connection, period: Period) -> Tuple[List[Tuple[str, int]], int, List[LowConfidence]]:
    events, data, input_channel, conditions = _user_events(
        connection, period.start.timestamp(), period.end.timestamp(), period.channel
    )
    intent = sa.func.coalesce(events.c.intent_name, "")
    confidence = data[("parse_data", "intent", "confidence")].as_float()
    is_low = confidence < LOW_CONFIDENCE
    counts = connection.execute(
        sa.select(intent, sa.func.count(), sa.func.sum(sa.case((is_low, 1), else_=0)))
        .where(*conditions)
        .group_by(intent)
    ).all()
    rows = connection.execute(
        sa.select(events.c.timestamp, input_channel, events.c.intent_name, confidence, events.c.data)
        .where(*conditions, is_low)
        .order_by(events.c.timestamp.desc(), events.c.id.desc())
        .limit(LOW_CONFIDENCE_LIMIT)
    ).all()
    ordered = sorted(((name or "(无)", count) for name, count, _ in counts), key=lambda item: (-item[1], item[0]))
    low_count = sum(int(low or 0) for _, _, low in counts)
    return ordered, low_count, [_low_confidence(*row) for row in rows]


def _json(dialect: str, column: Any) -> Any:
    """The text column `data` read as JSON (PostgreSQL needs a cast; SQLite's JSON functions take text)."""
    if dialect == "postgresql":
        return sa.cast(column, postgresql.JSON)
    return sa.type_coerce(column, sa.JSON)


def _low_confidence(timestamp: float, channel: Optional[str], intent: Optional[str], confidence: float, raw: str) -> LowConfidence:
    try:
        event = json.loads(raw or "{}")
    except ValueError:
        event = {}
    ranking = (event.get("parse_data") or {}).get("intent_ranking") or []
    guess = next((r for r in ranking if isinstance(r, dict) and r.get("name") not in (None, FALLBACK_INTENT)), {})
    return LowConfidence(
        at=datetime.fromtimestamp(timestamp, timezone.utc),
        channel=channel,
        text=mask_personal_data(str(event.get("text") or "")),
        intent=intent,
        confidence=float(confidence),
        guess=guess.get("name"),
        guess_confidence=guess.get("confidence"),
    )
