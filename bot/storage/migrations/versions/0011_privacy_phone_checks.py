"""failed phone checks of privacy requests, per customer and day (privacy_phone_checks)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_phone_checks",
        sa.Column("channel", sa.String(32), primary_key=True),
        sa.Column("channel_user_id", sa.String(255), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("privacy_phone_checks")
