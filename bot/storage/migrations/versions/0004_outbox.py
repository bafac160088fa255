"""transactional outbox of ticket events for the backend ticketing system

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

from bot.storage.models import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "ticket_event_id",
            sa.Integer,
            sa.ForeignKey("ticket_events.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("ticket_number", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False, unique=True),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("locked_until", UTCDateTime),
        sa.Column("locked_by", sa.String(64)),
        sa.Column("delivered_at", UTCDateTime),
        sa.Column("dead_at", UTCDateTime),
        sa.Column("last_error", sa.String(255)),
    )
    op.create_index("ix_outbox_ticket_pending", "outbox_events", ["ticket_number", "delivered_at", "id"])
    op.create_index("ix_outbox_due", "outbox_events", ["delivered_at", "next_attempt_at"])


def downgrade() -> None:
    op.drop_table("outbox_events")
