"""The time every service starts from: one `utcnow()` instead of a private copy in each module.

Services take a `clock` argument that defaults to `utcnow`, so tests can pass a fixed one.
"""

from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    """Now, timezone-aware, in UTC (what the database stores)."""
    return datetime.now(timezone.utc)
