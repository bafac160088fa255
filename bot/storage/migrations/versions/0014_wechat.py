"""WeChat channel: inbox with leases, contacts (48-hour window, numbered choices), shared access token

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

from bot.storage.models.base import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wechat_inbox",
        sa.Column("msg_key", sa.String(96), primary_key=True),
        sa.Column("openid", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.Column("holder", sa.String(32)),
        sa.Column("claimed_until", UTCDateTime),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("done_at", UTCDateTime),
        sa.Column("error", sa.String(255)),
    )
    op.create_index("ix_wechat_inbox_received_at", "wechat_inbox", ["received_at"])
    op.create_table(
        "wechat_contacts",
        sa.Column("openid", sa.String(64), primary_key=True),
        sa.Column("last_message_at", UTCDateTime, nullable=False),
        sa.Column("choices", sa.Text),
    )
    op.create_table(
        "wechat_tokens",
        sa.Column("app_id", sa.String(64), primary_key=True),
        sa.Column("token", sa.String(512)),
        sa.Column("expires_at", UTCDateTime),
        sa.Column("refreshing_until", UTCDateTime),
        sa.Column("fetched", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("wechat_tokens")
    op.drop_table("wechat_contacts")
    op.drop_index("ix_wechat_inbox_received_at", "wechat_inbox")
    op.drop_table("wechat_inbox")
