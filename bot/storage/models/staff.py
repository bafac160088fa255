"""Tables of staff accounts: agents and supervisors, their logins, and failed login attempts."""

from __future__ import annotations

import sqlalchemy as sa

from bot.storage.models.base import Base, UTCDateTime


class AgentRow(Base):
    """A staff account of the agent console: an agent or a supervisor."""

    __tablename__ = "agents"

    id = sa.Column(sa.Integer, primary_key=True)
    username = sa.Column(sa.String(64), nullable=False, unique=True)
    display_name = sa.Column(sa.String(64), nullable=False)
    role = sa.Column(sa.String(16), nullable=False)
    password_hash = sa.Column(sa.String(255), nullable=False)
    active = sa.Column(sa.Boolean, nullable=False, default=True)
    created_at = sa.Column(UTCDateTime, nullable=False)
    # Presence: the agent counts as online until this moment; every console request extends it.
    online_until = sa.Column(UTCDateTime)
    # What the agent chose in the console (online / busy / break): only `online` takes new chats.
    status = sa.Column(sa.String(16), nullable=False, default="online", server_default="online")


class AgentTokenRow(Base):
    """A login: only the SHA-256 of the bearer token is stored."""

    __tablename__ = "agent_tokens"

    token_hash = sa.Column(sa.String(64), primary_key=True)
    agent_id = sa.Column(sa.Integer, sa.ForeignKey("agents.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = sa.Column(UTCDateTime, nullable=False)
    expires_at = sa.Column(UTCDateTime, nullable=False)


class LoginFailureRow(Base):
    __tablename__ = "login_failures"

    id = sa.Column(sa.Integer, primary_key=True)
    username = sa.Column(sa.String(64), nullable=False)
    client = sa.Column(sa.String(64), nullable=False)
    at = sa.Column(UTCDateTime, nullable=False, index=True)
