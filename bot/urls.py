"""Checks of the addresses the operator gives for outbound calls: the ticket-event push (BACKEND_URL)
and the Telegram Bot API server (TELEGRAM_API_BASE).

Both are read once at start, so a mistake stops the process with a clear message instead of
surfacing later as personal data or a bot token travelling somewhere it should not: ``urllib`` also
opens ``file:`` and ``ftp:`` URLs, and plain ``http://`` sends whatever the request carries in clear
text to every network hop. Plain HTTP to this machine (loopback) never leaves it, which is what the
demo receiver and the tests' fake Bot API use.
"""

from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """Whether a host name or address stays on this machine."""
    host = (host or "").strip().strip("[]").lower()
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def outbound_url(url: str, setting: str, plain_http: str = "warn") -> str:
    """`url` when it is an ``http(s)://host/...`` address; raises ValueError otherwise.

    ``plain_http`` says what to do with ``http://`` to another machine: ``"warn"`` (allowed, logged,
    for a backend on a network the operator trusts) or ``"refuse"`` (e.g. a bot token in the path).
    """
    url = (url or "").strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"{setting} must be an http:// or https:// URL, not {scheme + ':' if scheme else repr(url)}")
    if not parts.hostname:
        raise ValueError(f"{setting} has no host name: {url!r}")
    if scheme == "http" and not is_loopback(parts.hostname):
        if plain_http == "refuse":
            raise ValueError(f"{setting} must use https:// (plain http:// is only allowed to this machine, e.g. 127.0.0.1)")
        logger.warning("%s uses plain http:// to %s: what it carries crosses the network unencrypted; use https://",
                       setting, parts.hostname)
    return url
