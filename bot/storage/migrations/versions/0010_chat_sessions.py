"""web chat conversation ids issued by the server (chat_sessions)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

from bot.storage.models import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_sessions",
        sa.Column("session_id", sa.String(32), primary_key=True),
        sa.Column("issued_at", UTCDateTime, nullable=False),
        sa.Column("last_seen_at", UTCDateTime, nullable=False),
        sa.Column("ended_at", UTCDateTime),
    )
    # Conversations that already exist keep working: every web chat customer was shown the privacy
    # notice at first contact, so those rows name every id that was ever in use.
    connection = op.get_bind()
    notices = sa.table("privacy_notices", sa.column("channel"), sa.column("channel_user_id"))
    sessions = sa.table(
        "chat_sessions",
        sa.column("session_id"),
        sa.column("issued_at", UTCDateTime),
        sa.column("last_seen_at", UTCDateTime),
    )
    now = datetime.now(timezone.utc)
    ids = connection.execute(
        sa.select(notices.c.channel_user_id).where(notices.c.channel == "webchat")
    ).scalars().all()
    rows = [{"session_id": i, "issued_at": now, "last_seen_at": now} for i in ids if isinstance(i, str) and len(i) == 32]
    if rows:
        connection.execute(sa.insert(sessions), rows)


def downgrade() -> None:
    op.drop_table("chat_sessions")
