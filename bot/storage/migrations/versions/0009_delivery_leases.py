"""leases instead of early "done" marks: inbound updates and messages to customers are claimed for a
while and marked done only after the turn completed / the channel accepted the message

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

from bot.storage.models import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_updates") as batch:
        batch.add_column(sa.Column("holder", sa.String(32)))
        batch.add_column(sa.Column("claimed_until", UTCDateTime))
        batch.add_column(sa.Column("done_at", UTCDateTime))
        batch.add_column(sa.Column("error", sa.String(255)))
    # Rows from before were written when an update was taken in; those still there were handled.
    updates = sa.table("inbound_updates", sa.column("received_at", UTCDateTime), sa.column("done_at", UTCDateTime))
    op.execute(sa.update(updates).values(done_at=updates.c.received_at))
    with op.batch_alter_table("handoff_messages") as batch:
        batch.add_column(sa.Column("claimed_until", UTCDateTime))


def downgrade() -> None:
    with op.batch_alter_table("handoff_messages") as batch:
        batch.drop_column("claimed_until")
    with op.batch_alter_table("inbound_updates") as batch:
        batch.drop_column("error")
        batch.drop_column("done_at")
        batch.drop_column("claimed_until")
        batch.drop_column("holder")
