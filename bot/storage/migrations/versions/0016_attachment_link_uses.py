"""Signed attachment links work once: the links already followed, until they would have expired

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

from bot.storage.models.base import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attachment_link_uses",
        sa.Column("signature", sa.String(64), primary_key=True),
        sa.Column("attachment_id", sa.String(32), nullable=False),
        sa.Column("used_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_attachment_link_uses_expires", "attachment_link_uses", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_attachment_link_uses_expires", "attachment_link_uses")
    op.drop_table("attachment_link_uses")
