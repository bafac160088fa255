"""ticket lifecycle: repeats, deadline breaches, escalation, survey; notices outside live chats

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

from bot.storage.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TICKET_COLUMNS = [
    ("repeat_of", sa.String(32)),
    ("responded_at", UTCDateTime),
    ("response_breached_at", UTCDateTime),
    ("resolve_breached_at", UTCDateTime),
    ("progress_breached_due", UTCDateTime),
    ("handler", sa.String(64)),
    ("survey_sent_at", UTCDateTime),
    ("rating", sa.Integer),
    ("rating_comment", sa.Text),
    ("rated_at", UTCDateTime),
    ("follow_up_due", UTCDateTime),
]


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        for name, type_ in _TICKET_COLUMNS:
            batch.add_column(sa.Column(name, type_))
        batch.add_column(sa.Column("repeat_count", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("escalation_level", sa.Integer, nullable=False, server_default="0"))
    # Tickets filed before this revision that already had a human responsible have been responded to.
    op.execute("UPDATE tickets SET responded_at = updated_at WHERE responsible IS NOT NULL")

    with op.batch_alter_table("handoff_messages") as batch:
        batch.add_column(sa.Column("channel", sa.String(32)))
        batch.add_column(sa.Column("channel_user_id", sa.String(255)))
        batch.add_column(sa.Column("buttons", sa.Text))
    op.execute(
        "UPDATE handoff_messages SET "
        "channel = (SELECT channel FROM handoff_sessions s WHERE s.id = handoff_messages.session_id), "
        "channel_user_id = (SELECT channel_user_id FROM handoff_sessions s WHERE s.id = handoff_messages.session_id)"
    )
    with op.batch_alter_table("handoff_messages") as batch:
        batch.alter_column("channel", existing_type=sa.String(32), nullable=False)
        batch.alter_column("channel_user_id", existing_type=sa.String(255), nullable=False)
        batch.alter_column("session_id", existing_type=sa.Integer, nullable=True)
    op.create_index("ix_handoff_messages_customer", "handoff_messages", ["channel", "channel_user_id", "id"])

    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_at", UTCDateTime, nullable=False),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("decided_at", UTCDateTime),
        sa.Column("decision_reason", sa.String(500)),
        sa.Column("handler", sa.String(64)),
    )
    pending = sa.text("status = 'pending'")
    op.create_index(
        "uq_escalation_pending", "escalations", ["ticket_id"], unique=True, sqlite_where=pending, postgresql_where=pending
    )


def downgrade() -> None:
    op.drop_table("escalations")
    op.drop_index("ix_handoff_messages_customer", "handoff_messages")
    with op.batch_alter_table("handoff_messages") as batch:
        batch.drop_column("buttons")
        batch.drop_column("channel_user_id")
        batch.drop_column("channel")
    with op.batch_alter_table("tickets") as batch:
        for name, _ in _TICKET_COLUMNS:
            batch.drop_column(name)
        batch.drop_column("repeat_count")
        batch.drop_column("escalation_level")
