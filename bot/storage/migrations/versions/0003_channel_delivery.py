"""deduplication of inbound updates, failed deliveries, evidence waiting for its ticket

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

from bot.storage.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handoff_messages") as batch:
        batch.add_column(sa.Column("failed_at", UTCDateTime))
        batch.add_column(sa.Column("last_error", sa.String(255)))
    op.create_table(
        "inbound_updates",
        sa.Column("channel", sa.String(32), primary_key=True),
        sa.Column("update_key", sa.String(64), primary_key=True),
        sa.Column("received_at", UTCDateTime, nullable=False, index=True),
    )
    op.create_table(
        "delivery_failures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("channel_user_id", sa.String(255), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("error", sa.String(255), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False, index=True),
    )

    op.create_table(
        "pending_evidence",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("channel_user_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("file_ref", sa.String(255), nullable=False),
        sa.Column("caption", sa.Text, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_pending_evidence_customer", "pending_evidence", ["channel", "channel_user_id"])


def downgrade() -> None:
    op.drop_table("pending_evidence")
    op.drop_table("delivery_failures")
    op.drop_table("inbound_updates")
    with op.batch_alter_table("handoff_messages") as batch:
        batch.drop_column("last_error")
        batch.drop_column("failed_at")
