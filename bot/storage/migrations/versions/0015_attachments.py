"""Evidence attachments: their metadata, and their bytes for the database store; the file-id-only
pending_evidence table is replaced (held attachments are attachment rows without a ticket)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

from bot.storage.models.base import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("channel_user_id", sa.String(255), nullable=False),
        sa.Column("ticket_number", sa.String(32)),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("mime", sa.String(32), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("width", sa.Integer),
        sa.Column("height", sa.Integer),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("caption", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_attachments_customer", "attachments", ["channel", "channel_user_id", "created_at"])
    op.create_index("ix_attachments_ticket", "attachments", ["ticket_number"])
    op.create_index("ix_attachments_created", "attachments", ["created_at"])
    op.create_table(
        "attachment_blobs",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    # Held evidence was a Telegram/WeChat file id nobody could open; such rows are not worth keeping.
    op.drop_index("ix_pending_evidence_customer", "pending_evidence")
    op.drop_table("pending_evidence")


def downgrade() -> None:
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
    op.drop_table("attachment_blobs")
    op.drop_index("ix_attachments_created", "attachments")
    op.drop_index("ix_attachments_ticket", "attachments")
    op.drop_index("ix_attachments_customer", "attachments")
    op.drop_table("attachments")
