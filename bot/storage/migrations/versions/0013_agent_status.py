"""the agent's chosen status (agents.status): online, busy or on a break

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="online"))


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("status")
