"""Tables of the WeChat Official Account channel: the messages taken in (with their content, so a
turn that never finished is run again by a sweep), the customers' last contact (the 48-hour window
for customer-service messages) and their open numbered choices, and the one access token that every
process shares (WeChat invalidates the previous token whenever a new one is fetched)."""

from __future__ import annotations

import sqlalchemy as sa

from bot.storage.models.base import Base, UTCDateTime


class WeChatInboxRow(Base):
    """A message WeChat pushed, keyed by MsgId (or FromUserName + CreateTime for events).

    The webhook answers at once and the turn runs afterwards: the row is a claim with a lease
    (`holder`, `claimed_until`) renewed while the turn runs, and done (`done_at`) only when it
    completed. A claim that ran out (its process died) is taken over by WeChat's retry or by the
    sweep, which reads the message from `payload` (at-least-once)."""

    __tablename__ = "wechat_inbox"

    msg_key = sa.Column(sa.String(96), primary_key=True)
    openid = sa.Column(sa.String(64), nullable=False)
    payload = sa.Column(sa.Text, nullable=False)
    received_at = sa.Column(UTCDateTime, nullable=False, index=True)
    holder = sa.Column(sa.String(32))
    claimed_until = sa.Column(UTCDateTime)
    attempts = sa.Column(sa.Integer, nullable=False, default=0)
    done_at = sa.Column(UTCDateTime)
    error = sa.Column(sa.String(255))


class WeChatContactRow(Base):
    """A WeChat customer (OpenID): when they last wrote (customer-service messages are allowed for
    48 hours after it) and the numbered choices the last reply offered ("1" means its first button)."""

    __tablename__ = "wechat_contacts"

    openid = sa.Column(sa.String(64), primary_key=True)
    last_message_at = sa.Column(UTCDateTime, nullable=False)
    choices = sa.Column(sa.Text)


class WeChatTokenRow(Base):
    """The access token of one AppID, shared by every process; `refreshing_until` is the lock of
    the one process fetching a new token (a conditional update takes it)."""

    __tablename__ = "wechat_tokens"

    app_id = sa.Column(sa.String(64), primary_key=True)
    token = sa.Column(sa.String(512))
    expires_at = sa.Column(UTCDateTime)
    refreshing_until = sa.Column(UTCDateTime)
    fetched = sa.Column(sa.Integer, nullable=False, default=0)
