"""agents, logins, handoff sessions, transcripts and their change feed

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

from bot.storage.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_OPEN = sa.text("status IN ('waiting', 'callback', 'active')")


def upgrade() -> None:
    op.add_column("tickets", sa.Column("progress_due", UTCDateTime))
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("online_until", UTCDateTime),
    )
    op.create_table(
        "agent_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False, index=True),
    )
    op.create_table(
        "handoff_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("channel_user_id", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(255), nullable=False),
        sa.Column("ticket_number", sa.String(32)),
        sa.Column("category", sa.String(16)),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("requested_at", UTCDateTime, nullable=False),
        sa.Column("due", UTCDateTime, nullable=False),
        sa.Column("accepted_at", UTCDateTime),
        sa.Column("ended_at", UTCDateTime),
        sa.Column("owner", sa.String(64)),
        sa.Column("agent", sa.String(64)),
        sa.Column("transfer_to", sa.String(64)),
        sa.Column("transfer_reason", sa.String(255)),
        sa.Column("escalated_at", UTCDateTime),
        sa.Column("callback_due", UTCDateTime),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index(
        "uq_handoff_open_customer",
        "handoff_sessions",
        ["channel", "channel_user_id"],
        unique=True,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )
    op.create_index("ix_handoff_status_due", "handoff_sessions", ["status", "due"])
    op.create_table(
        "handoff_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "session_id", sa.Integer, sa.ForeignKey("handoff_sessions.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("sender", sa.String(16), nullable=False),
        sa.Column("agent", sa.String(64)),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("to_customer", sa.Boolean, nullable=False),
        sa.Column("delivered_at", UTCDateTime),
    )
    op.create_index("ix_handoff_undelivered", "handoff_messages", ["to_customer", "delivered_at"])
    op.create_table(
        "handoff_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("session_id", sa.Integer, sa.ForeignKey("handoff_sessions.id", ondelete="CASCADE"), index=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("handoff_events")
    op.drop_table("handoff_messages")
    op.drop_table("handoff_sessions")
    op.drop_table("login_failures")
    op.drop_table("agent_tokens")
    op.drop_table("agents")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("progress_due")
