"""Ticket numbers: readable, typeable, and not guessable.

Format ``TS<yymmdd>-<8 chars>``, e.g. ``TS261122-K7Q4M9XD``. The random part uses Crockford's
base32 alphabet (no I, L, O, U), 40 bits from `secrets`, so neighbours of a known number
cannot be enumerated. Customers may type it lower-case or without the hyphen.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Optional

from bot.clock import BEIJING

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_LENGTH = 8

# Also used (as text) by the NLU regex entity `ticket_id`; tests keep the two in step.
PATTERN = r"TS-?\d{6}-?[0-9A-HJKMNP-TV-Z]{8}"
_FIND = re.compile(rf"(?<![0-9A-Z]){PATTERN}(?![0-9A-Z])", re.IGNORECASE)


def new_number(now: datetime) -> str:
    suffix = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return f"TS{now.astimezone(BEIJING):%y%m%d}-{suffix}"


def find(text: str) -> Optional[str]:
    """The first ticket number in a message, in canonical form, or None."""
    match = _FIND.search(text or "")
    if not match:
        return None
    compact = match.group(0).upper().replace("-", "")
    return f"{compact[:8]}-{compact[8:]}"

