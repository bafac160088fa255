"""Signed, expiring download URLs for the backend:
``<base>/api/attachments/<id>?expires=<unix>&n=<nonce>&sig=<hex>``.

The signature is the HMAC-SHA256 of ``"<id>.<expires>.<nonce>"`` under ATTACHMENT_URL_SECRET, so
neither the id nor the expiry can be changed without the secret; the random nonce makes every
signed link distinct (two signed in the same second are two links, each usable once). A URL works once within its lifetime: the
attachment service records each followed signature (``attachment_link_uses``) and refuses it again,
so a link copied from a log or a forwarded push is worth nothing once the backend has fetched the
file. After ``expires`` it is refused, and so is one whose attachment was deleted. A backend that
needs the file again pulls the ticket: every pull and every push signs fresh links.

Where the secret comes from (`url_secret`): ATTACHMENT_URL_SECRET when set; else it is derived from
the backend's own credential (BACKEND_API_KEY, else BACKEND_SECRET), which every process of a
deployment already shares; else (``make run`` without a backend) a random secret is generated once
and kept in ``data/attachment-url.key``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Tuple
from urllib.parse import quote, urlencode

from bot.errors import Forbidden

DEFAULT_LIFETIME_SECONDS = 3600
SECRET_FILE = Path("data") / "attachment-url.key"
ROUTE = "/api/attachments/"


def _mac(secret: str, attachment_id: str, expires: int, nonce: str) -> str:
    message = f"{attachment_id}.{expires}.{nonce}".encode("utf-8", "replace")
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class UrlSigner:
    secret: str
    base_url: str  # where the backend reaches this server, e.g. https://bot.example.com
    lifetime: int = DEFAULT_LIFETIME_SECONDS

    def sign(self, attachment_id: str, now: datetime) -> Tuple[str, datetime]:
        """(url, expires_at) of a fresh link to the attachment."""
        expires = int(now.timestamp()) + self.lifetime
        nonce = secrets.token_hex(8)
        query = urlencode({"expires": expires, "n": nonce, "sig": _mac(self.secret, attachment_id, expires, nonce)})
        url = f"{self.base_url.rstrip('/')}{ROUTE}{quote(attachment_id, safe='')}?{query}"
        return url, datetime.fromtimestamp(expires, tz=timezone.utc)

    def check(self, attachment_id: str, expires: str, nonce: str, signature: str, now: datetime) -> datetime:
        """The link's expiry; Forbidden unless the signature matches the id and expiry and the expiry
        is still ahead. Whether it was used before is the attachment service's question."""
        try:
            when = int(expires)
        except (TypeError, ValueError):
            raise Forbidden("the link is malformed") from None
        expected = _mac(self.secret, attachment_id, when, nonce or "")
        if not hmac.compare_digest(expected.encode(), (signature or "").encode("utf-8", "replace")):
            raise Forbidden("the link's signature does not match")
        if now.timestamp() > when:
            raise Forbidden("the link has expired")
        return datetime.fromtimestamp(when, tz=timezone.utc)


def url_secret(explicit: str, backend_api_key: str = "", backend_secret: str = "", keep: Path = SECRET_FILE) -> str:
    """The signing secret (see the module's docstring for the order)."""
    if explicit:
        return explicit
    shared = backend_api_key or backend_secret
    if shared:
        return hmac.new(shared.encode(), b"intake attachment urls", hashlib.sha256).hexdigest()
    try:
        return keep.read_text().strip() or _generate(keep)
    except FileNotFoundError:
        return _generate(keep)


def _generate(keep: Path) -> str:
    secret = secrets.token_hex(32)
    keep.parent.mkdir(parents=True, exist_ok=True)
    temporary = keep.with_suffix(".tmp")
    temporary.write_text(secret)
    temporary.chmod(0o600)
    temporary.replace(keep)
    return secret
