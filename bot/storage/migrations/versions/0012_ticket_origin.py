"""where a complaint came from, for outage detection (tickets.origin)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("origin", sa.String(24)))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("origin")
