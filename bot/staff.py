"""Staff accounts of the agent console: agents and supervisors, logins, bearer tokens, presence.

Passwords are hashed with scrypt (a slow, memory-hard KDF from the standard library). Bearer
tokens are random; only their SHA-256 is stored, so a leaked database holds no usable token.
Failed logins are counted in the database, so the limit holds across server processes.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, List, Optional, Tuple

import sqlalchemy as sa

from bot.clock import utcnow
from bot.errors import Conflict, InvalidInput, NotFound, RateLimited, Unauthenticated
from bot.storage.database import Database
from bot.storage.models import AgentRow, AgentTokenRow, HandoffEventRow, LoginFailureRow

logger = logging.getLogger(__name__)

TOKEN_LIFETIME = timedelta(hours=12)
# A console polls at least every 20 s; an agent unseen for this long is offline.
PRESENCE_WINDOW = timedelta(seconds=60)
# Failed logins lock one (account, address) pair, never the account: a stranger who knows the name
# `admin` must not be able to lock the supervisors out. The pair's lock grows with every failure
# (15 min, 30, 60, ... up to a day); one address is also limited across all accounts.
FAILURE_WINDOW = timedelta(minutes=15)
FAILURE_MEMORY = timedelta(hours=24)
MAX_FAILURES_PER_PAIR = 5
MAX_FAILURES_PER_CLIENT = 20
MIN_PASSWORD_CHARS = 10
_COMMON_PASSWORDS = frozenset({
    "1234567890", "12345678910", "0123456789", "1111111111", "qwertyuiop", "1qaz2wsx3edc", "password123",
    "password1234", "admin12345", "admin123456", "abc1234567", "abcd123456", "a123456789", "woaini1314",
    "iloveyou12", "qwerty1234", "1q2w3e4r5t", "zxcvbnm123", "p@ssw0rd123", "changeme123",
})

def check_password(password: str) -> None:
    """InvalidInput unless the password is at least 10 characters of two kinds and not a common one."""
    password = password or ""
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidInput(f"password needs at least {MIN_PASSWORD_CHARS} characters")
    kinds = sum(bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"))
    if kinds < 2:
        raise InvalidInput("password needs at least two kinds of characters (letters, digits, symbols)")
    if password.lower() in _COMMON_PASSWORDS:
        raise InvalidInput("password is too common")


_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
# scrypt parameters: ~16 MiB and tens of milliseconds per guess.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


class Role(str, enum.Enum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"


class AgentStatus(str, enum.Enum):
    """What an agent chose in the console. Busy or on a break keeps their chats and presence, but
    routing, queue estimates and call-back decisions do not count them as available."""

    ONLINE = "online"
    BUSY = "busy"
    BREAK = "break"

    @property
    def label(self) -> str:
        return {"online": "在线", "busy": "示忙", "break": "小休"}[self.value]


@dataclass(frozen=True)
class StaffMember:
    username: str
    display_name: str
    role: Role
    online: bool
    status: AgentStatus = AgentStatus.ONLINE

    @property
    def available(self) -> bool:
        """Online and taking new chats."""
        return self.online and self.status is AgentStatus.ONLINE

    @property
    def is_supervisor(self) -> bool:
        return self.role is Role.SUPERVISOR


def hash_password(password: str, salt: Optional[bytes] = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, maxmem=64 * 1024 * 1024, dklen=32
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), maxmem=64 * 1024 * 1024, dklen=32
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed.hex(), digest)


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Compared against when the username does not exist, so both cases take the same time.

    Computed on the first login rather than at import: scrypt is deliberately slow, and importing
    bot.staff (the CLI, the action server, every test) should not pay for it.
    """
    return hash_password("not-a-real-password", salt=b"\0" * 16)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StaffService:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    # -- accounts -------------------------------------------------------------------------

    def add(self, username: str, display_name: str, password: str, role: Role = Role.AGENT) -> StaffMember:
        if not _USERNAME.match(username or ""):
            raise InvalidInput("username: 2-64 letters, digits, '_', '.' or '-'")
        display_name = (display_name or "").strip() or username
        if len(display_name) > 64:
            raise InvalidInput("display name longer than 64 characters")
        check_password(password)
        now = self.clock()
        with self.db.transaction() as session:
            if session.execute(sa.select(AgentRow.id).where(AgentRow.username == username)).first():
                raise Conflict(f"account {username} exists")
            row = AgentRow(
                username=username,
                display_name=display_name,
                role=Role(role).value,
                password_hash=hash_password(password),
                active=True,
                created_at=now,
            )
            session.add(row)
            session.flush()
            logger.info("staff account %s added (role %s)", username, row.role)
            return self._member(row, now)

    def set_password(self, username: str, password: str) -> None:
        check_password(password)
        with self.db.transaction() as session:
            row = self._row(session, username)
            row.password_hash = hash_password(password)
            session.execute(sa.delete(AgentTokenRow).where(AgentTokenRow.agent_id == row.id))

    def deactivate(self, username: str) -> None:
        with self.db.transaction() as session:
            row = self._row(session, username)
            row.active = False
            row.online_until = None
            session.execute(sa.delete(AgentTokenRow).where(AgentTokenRow.agent_id == row.id))

    def set_status(self, username: str, status: str) -> StaffMember:
        """The agent's chosen status; InvalidInput for anything but online, busy or break."""
        try:
            chosen = AgentStatus(status)
        except ValueError:
            raise InvalidInput("status must be 'online', 'busy' or 'break'") from None
        now = self.clock()
        with self.db.transaction() as session:
            row = self._row(session, username)
            row.status = chosen.value
            # On the consoles' feed, so colleagues' transfer pickers and the supervisors' 坐席状态
            # follow at once rather than at their next 30 s refresh.
            session.add(HandoffEventRow(session_id=None, at=now, kind="agent_status", actor=row.username, detail=chosen.value))
            logger.info("staff %s status: %s", username, chosen.value)
            return self._member(row, now)

    def count(self) -> int:
        with self.db.transaction() as session:
            return session.execute(sa.select(sa.func.count(AgentRow.id))).scalar_one()

    def list(self) -> List[StaffMember]:
        now = self.clock()
        with self.db.transaction() as session:
            rows = session.execute(sa.select(AgentRow).where(AgentRow.active.is_(True)).order_by(AgentRow.username))
            return [self._member(row, now) for row in rows.scalars()]

    def get(self, username: str) -> StaffMember:
        with self.db.transaction() as session:
            return self._member(self._row(session, username), self.clock())

    def online_count(self) -> int:
        now = self.clock()
        with self.db.transaction() as session:
            return session.execute(
                sa.select(sa.func.count(AgentRow.id)).where(
                    AgentRow.active.is_(True), AgentRow.online_until > now, AgentRow.status == AgentStatus.ONLINE.value
                )
            ).scalar_one()

    def is_online(self, username: str) -> bool:
        try:
            return self.get(username).online
        except NotFound:
            return False

    # -- logging in -----------------------------------------------------------------------

    def login(self, username: str, password: str, client: str = "-") -> Tuple[str, datetime, StaffMember]:
        """A new bearer token for correct credentials; Unauthenticated or RateLimited otherwise.

        Every attempt is first written down as a failure in the same transaction that counts the
        earlier ones, so concurrent guesses cannot slip past the limit; a correct password then
        removes its own row. The slow hash is checked outside any transaction (it holds no lock).
        """
        username = (username or "")[:64]
        client = (client or "-")[:64]
        now = self.clock()
        with self.db.transaction() as session:
            # Serialise attempts on one account (PostgreSQL; SQLite's BEGIN IMMEDIATE already does).
            session.execute(sa.select(AgentRow.id).where(AgentRow.username == username).with_for_update()).first()
            failures = session.execute(
                sa.select(LoginFailureRow.username, LoginFailureRow.client, LoginFailureRow.at).where(
                    LoginFailureRow.at >= now - FAILURE_MEMORY,
                    sa.or_(
                        sa.and_(LoginFailureRow.username == username, LoginFailureRow.client == client),
                        LoginFailureRow.client == client,
                    ),
                )
            ).all()
            pair = [f.at for f in failures if f.username == username and f.client == client]
            if len(pair) >= MAX_FAILURES_PER_PAIR:
                lock = min(FAILURE_WINDOW * 2 ** (len(pair) - MAX_FAILURES_PER_PAIR), FAILURE_MEMORY)
                if now < max(pair) + lock:
                    raise RateLimited(max(1, int((max(pair) + lock - now).total_seconds()) + 1))
            by_client = [f.at for f in failures if f.client == client and f.at >= now - FAILURE_WINDOW]
            if len(by_client) >= MAX_FAILURES_PER_CLIENT:
                retry = min(by_client) + FAILURE_WINDOW - now
                raise RateLimited(max(1, int(retry.total_seconds()) + 1))
            attempt = LoginFailureRow(username=username, client=client, at=now)
            session.add(attempt)
            session.flush()
            attempt_id = attempt.id
            row = session.execute(sa.select(AgentRow).where(AgentRow.username == username)).scalar_one_or_none()
            stored = row.password_hash if row is not None and row.active else _dummy_hash()
            known = row is not None and row.active
        if not (verify_password(password or "", stored) and known):
            logger.warning("failed console login for %r from %s", username, client)
            raise Unauthenticated("wrong username or password")
        with self.db.transaction() as session:
            row = session.execute(sa.select(AgentRow).where(AgentRow.username == username)).scalar_one()
            token = secrets.token_urlsafe(32)
            expires = now + TOKEN_LIFETIME
            session.add(AgentTokenRow(token_hash=_token_hash(token), agent_id=row.id, created_at=now, expires_at=expires))
            session.execute(sa.delete(AgentTokenRow).where(AgentTokenRow.expires_at < now))
            session.execute(
                sa.delete(LoginFailureRow).where(
                    sa.or_(
                        LoginFailureRow.id == attempt_id,
                        sa.and_(LoginFailureRow.username == username, LoginFailureRow.client == client),
                        LoginFailureRow.at < now - FAILURE_MEMORY,
                    )
                )
            )
            row.online_until = now + PRESENCE_WINDOW
            member = self._member(row, now)
        logger.info("console login: %s", username)
        return token, expires, member

    def authenticate(self, token: Optional[str]) -> StaffMember:
        """The staff member behind a bearer token; marks them online."""
        if not token or len(token) > 256:
            raise Unauthenticated("missing token")
        now = self.clock()
        with self.db.transaction() as session:
            found = session.execute(
                sa.select(AgentTokenRow, AgentRow)
                .join(AgentRow, AgentRow.id == AgentTokenRow.agent_id)
                .where(AgentTokenRow.token_hash == _token_hash(token))
            ).first()
            if found is None:
                raise Unauthenticated("unknown token")
            token_row, row = found
            if token_row.expires_at <= now or not row.active:
                raise Unauthenticated("expired token")
            # Extend presence, but write at most every few seconds.
            if row.online_until is None or row.online_until < now + PRESENCE_WINDOW - timedelta(seconds=10):
                row.online_until = now + PRESENCE_WINDOW
            return self._member(row, now)

    def logout(self, token: str, offline: bool = False) -> None:
        """Revoke the token; the agent goes offline when it was their last login, or at once with
        `offline` (a hand-back at the end of a shift)."""
        with self.db.transaction() as session:
            token_row = session.get(AgentTokenRow, _token_hash(token or ""))
            if token_row is None:
                return
            row = session.get(AgentRow, token_row.agent_id)
            session.delete(token_row)
            others = session.execute(
                sa.select(sa.func.count()).where(
                    AgentTokenRow.agent_id == row.id, AgentTokenRow.token_hash != token_row.token_hash,
                    AgentTokenRow.expires_at > self.clock(),
                )
            ).scalar_one()
            if offline or not others:
                row.online_until = None

    # -- helpers --------------------------------------------------------------------------

    @staticmethod
    def _row(session, username: str) -> AgentRow:
        row = session.execute(sa.select(AgentRow).where(AgentRow.username == username)).scalar_one_or_none()
        if row is None:
            raise NotFound(username)
        return row

    @staticmethod
    def _member(row: AgentRow, now: datetime) -> StaffMember:
        online = bool(row.active and row.online_until is not None and row.online_until > now)
        try:
            status = AgentStatus(row.status or "online")
        except ValueError:
            status = AgentStatus.ONLINE
        return StaffMember(row.username, row.display_name, Role(row.role), online, status)
