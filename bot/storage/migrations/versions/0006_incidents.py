"""outage incidents (故障聚合): parent incidents and the tickets linked to them

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

from bot.storage.models import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.String(32), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("area", sa.String(64)),
        sa.Column("symptom", sa.String(32)),
        sa.Column("match_key", sa.String(128), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("opened_at", UTCDateTime, nullable=False),
        sa.Column("opened_by", sa.String(64), nullable=False),
        sa.Column("eta", UTCDateTime),
        sa.Column("note", sa.Text),
        sa.Column("closed_at", UTCDateTime),
        sa.Column("closed_by", sa.String(64)),
        sa.Column("resolution", sa.Text),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    open_ = sa.text("status = 'open'")
    op.create_index(
        "uq_incident_open_key", "incidents", ["match_key"], unique=True, sqlite_where=open_, postgresql_where=open_
    )
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("area", sa.String(64)))
        batch.add_column(sa.Column("symptom", sa.String(32)))
        batch.add_column(sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id", name="fk_tickets_incident")))
    op.create_index("ix_tickets_incident", "tickets", ["incident_id"])
    op.create_index("ix_tickets_category_created", "tickets", ["category", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_category_created", "tickets")
    op.drop_index("ix_tickets_incident", "tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("incident_id")
        batch.drop_column("symptom")
        batch.drop_column("area")
    op.drop_table("incidents")
