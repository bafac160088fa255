"""The table of parent incidents (故障) that outage complaints are grouped under."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import relationship

from bot.storage.models.base import Base, UTCDateTime


class IncidentRow(Base):
    """A parent incident (故障): many network complaints about one area or symptom in a short time."""

    __tablename__ = "incidents"

    id = sa.Column(sa.Integer, primary_key=True)
    number = sa.Column(sa.String(32), nullable=False, unique=True)
    status = sa.Column(sa.String(16), nullable=False)  # open | closed
    category = sa.Column(sa.String(16), nullable=False)
    area = sa.Column(sa.String(64))
    symptom = sa.Column(sa.String(32))
    # What new complaints are matched on (area and/or symptom); one open incident per key.
    match_key = sa.Column(sa.String(128), nullable=False)
    title = sa.Column(sa.String(255), nullable=False)
    opened_at = sa.Column(UTCDateTime, nullable=False)
    opened_by = sa.Column(sa.String(64), nullable=False)
    eta = sa.Column(UTCDateTime)  # expected recovery, told to customers
    note = sa.Column(sa.Text)
    closed_at = sa.Column(UTCDateTime)
    closed_by = sa.Column(sa.String(64))
    resolution = sa.Column(sa.Text)
    updated_at = sa.Column(UTCDateTime, nullable=False)

    tickets = relationship("TicketRow", order_by="TicketRow.id")

    __table_args__ = (
        sa.Index(
            "uq_incident_open_key", "match_key", unique=True,
            sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"),
        ),
    )
