"""Signed, expiring download URLs for the backend: ``<base>/api/attachments/<id>?expires=<unix>&sig=<hex>``.

The signature is the HMAC-SHA256 of ``"<id>.<expires>"`` under ATTACHMENT_URL_SECRET, so neither the
id nor the expiry can be changed without the secret. A URL may be used any number of times while it
is valid; after ``expires`` it is refused, and so is one whose attachment was deleted.

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


def _mac(secret: str, attachment_id: str, expires: int) -> str:
    return hmac.new(secret.encode(), f"{attachment_id}.{expires}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class UrlSigner:
    secret: str
    base_url: str  # where the backend reaches this server, e.g. https://bot.example.com
    lifetime: int = DEFAULT_LIFETIME_SECONDS

    def sign(self, attachment_id: str, now: datetime) -> Tuple[str, datetime]:
        """(url, expires_at) of a fresh link to the attachment."""
        expires = int(now.timestamp()) + self.lifetime
        query = urlencode({"expires": expires, "sig": _mac(self.secret, attachment_id, expires)})
        url = f"{self.base_url.rstrip('/')}{ROUTE}{quote(attachment_id, safe='')}?{query}"
        return url, datetime.fromtimestamp(expires, tz=timezone.utc)

    def check(self, attachment_id: str, expires: str, signature: str, now: datetime) -> None:
        """Forbidden unless the signature matches the id and expiry and the expiry is still ahead."""
        try:
            when = int(expires)
        except (TypeError, ValueError):
            raise Forbidden("the link is malformed") from None
        expected = _mac(self.secret, attachment_id, when)
        if not hmac.compare_digest(expected.encode(), (signature or "").encode("utf-8", "replace")):
            raise Forbidden("the link's signature does not match")
        if now.timestamp() > when:
            raise Forbidden("the link has expired")


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
