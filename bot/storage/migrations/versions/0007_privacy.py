"""personal data (个人信息保护法): customers' requests to see or delete their data, and the access log

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

from bot.storage.models import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("channel_user_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_at", UTCDateTime, nullable=False),
        sa.Column("verified_at", UTCDateTime),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("decided_at", UTCDateTime),
        sa.Column("note", sa.String(500)),
        sa.Column("result", sa.Text),
    )
    op.create_index("ix_privacy_requests_status", "privacy_requests", ["status", "requested_at"])
    op.create_index("ix_privacy_requests_customer", "privacy_requests", ["channel", "channel_user_id"])
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False, index=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(32)),
        sa.Column("channel_user_id", sa.String(255)),
        sa.Column("target", sa.String(64), nullable=False, server_default=""),
        sa.Column("client", sa.String(64), nullable=False, server_default=""),
    )
    op.create_index("ix_access_log_customer", "access_log", ["channel", "channel_user_id", "at"])
    op.create_table(
        "privacy_notices",
        sa.Column("channel", sa.String(32), primary_key=True),
        sa.Column("channel_user_id", sa.String(255), primary_key=True),
        sa.Column("shown_at", UTCDateTime, nullable=False),
    )
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("anonymised_at", UTCDateTime))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("anonymised_at")
    op.drop_table("privacy_notices")
    op.drop_table("access_log")
    op.drop_table("privacy_requests")
