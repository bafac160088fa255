"""Tables of personal-data protection (个人信息保护法): requests, phone checks, first-contact
notices and the access log."""

from __future__ import annotations

import sqlalchemy as sa

from bot.storage.models.base import Base, UTCDateTime


class PrivacyRequestRow(Base):
    """A customer's request to see (access) or delete their personal data (个人信息保护法)."""

    __tablename__ = "privacy_requests"

    id = sa.Column(sa.Integer, primary_key=True)
    channel = sa.Column(sa.String(32), nullable=False)
    channel_user_id = sa.Column(sa.String(255), nullable=False)
    kind = sa.Column(sa.String(16), nullable=False)  # access | delete
    status = sa.Column(sa.String(16), nullable=False)  # pending | done | rejected
    requested_at = sa.Column(UTCDateTime, nullable=False)
    verified_at = sa.Column(UTCDateTime)
    decided_by = sa.Column(sa.String(64))
    decided_at = sa.Column(UTCDateTime)
    note = sa.Column(sa.String(500))
    result = sa.Column(sa.Text)  # JSON summary of what was shown or removed

    __table_args__ = (
        sa.Index("ix_privacy_requests_status", "status", "requested_at"),
        sa.Index("ix_privacy_requests_customer", "channel", "channel_user_id"),
    )


class PrivacyPhoneCheckRow(Base):
    """Failed phone checks of a customer's requests to see or delete their data, per day (Beijing
    date). Kept here rather than in the conversation, where starting the request again would reset
    it: the limit holds per customer and day, however often the request is restarted."""

    __tablename__ = "privacy_phone_checks"

    channel = sa.Column(sa.String(32), primary_key=True)
    channel_user_id = sa.Column(sa.String(255), primary_key=True)
    day = sa.Column(sa.Date, primary_key=True)
    failures = sa.Column(sa.Integer, nullable=False, default=0)


class PrivacyNoticeRow(Base):
    """The customer has been shown the personal-data notice on this channel (at first contact)."""

    __tablename__ = "privacy_notices"

    channel = sa.Column(sa.String(32), primary_key=True)
    channel_user_id = sa.Column(sa.String(255), primary_key=True)
    shown_at = sa.Column(UTCDateTime, nullable=False)


class AccessLogRow(Base):
    """Every read of a customer's data by an agent or supervisor (who, what, whose, when, from where)."""

    __tablename__ = "access_log"

    id = sa.Column(sa.Integer, primary_key=True)
    at = sa.Column(UTCDateTime, nullable=False, index=True)
    actor = sa.Column(sa.String(64), nullable=False)
    role = sa.Column(sa.String(16), nullable=False)
    action = sa.Column(sa.String(32), nullable=False)
    channel = sa.Column(sa.String(32))
    channel_user_id = sa.Column(sa.String(255))
    target = sa.Column(sa.String(64), nullable=False, default="")
    client = sa.Column(sa.String(64), nullable=False, default="")

    __table_args__ = (sa.Index("ix_access_log_customer", "channel", "channel_user_id", "at"),)
