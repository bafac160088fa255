"""change positions in commit order for the pull API (tickets.change_seq, change_counter)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_counter",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("change_seq", sa.BigInteger))
    op.create_index("ix_tickets_change_seq", "tickets", ["change_seq"])
    # Existing tickets get positions in the order of their last change, as the old cursor had them.
    connection = op.get_bind()
    tickets = sa.table("tickets", sa.column("id", sa.Integer), sa.column("number"), sa.column("updated_at"),
                       sa.column("change_seq", sa.BigInteger))
    ids = connection.execute(sa.select(tickets.c.id).order_by(tickets.c.updated_at, tickets.c.number)).scalars().all()
    for position, ticket_id in enumerate(ids, start=1):
        connection.execute(sa.update(tickets).where(tickets.c.id == ticket_id).values(change_seq=position))
    counter = sa.table("change_counter", sa.column("id", sa.Integer), sa.column("value", sa.BigInteger))
    connection.execute(sa.insert(counter).values(id=1, value=len(ids)))


def downgrade() -> None:
    op.drop_index("ix_tickets_change_seq", "tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("change_seq")
    op.drop_table("change_counter")
