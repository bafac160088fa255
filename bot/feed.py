"""The consoles' change feed (``handoff_events``): one row per change an agent's screen should show.

Lifecycle, incidents and handoff all wake the consoles the same way; this is that one way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy.orm import Session

from bot.storage.models import HandoffEventRow


def feed_event(
    session: Session, now: datetime, kind: str, actor: str, detail: str = "", session_id: Optional[int] = None
) -> None:
    """Add a feed row inside the caller's transaction; `session_id` is None for changes outside a live chat."""
    session.add(HandoffEventRow(session_id=session_id, at=now, kind=kind, actor=actor[:64], detail=detail))
