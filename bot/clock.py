"""The time every service starts from, and the operator's local time customers read.

One `utcnow()` instead of a private copy in each module: services take a `clock` argument that
defaults to `utcnow`, so tests can pass a fixed one. `BEIJING` is the operator's zone (ticket
numbers, daily figures, times shown to customers); `iso` is how APIs write a moment.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Optional

# The operator's local time (China has no daylight saving), used for the date in ticket numbers.
BEIJING = timezone(timedelta(hours=8), "CST")


def utcnow() -> datetime:
    """Now, timezone-aware, in UTC (what the database stores)."""
    return datetime.now(timezone.utc)


def beijing_time(moment: datetime) -> str:
    """11月23日 18:30 in Beijing time, as customers read it."""
    local = moment.astimezone(BEIJING)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def iso(moment: Optional[datetime]) -> Optional[str]:
    """ISO 8601 for APIs (None stays None)."""
    return None if moment is None else moment.isoformat()
