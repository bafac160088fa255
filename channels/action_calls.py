"""Rasa's calls to the action server ride out a restart of the action server.

Rasa 3.6 treats an action server it cannot reach like an action that failed: it logs the error,
drops the action's events and goes on with the turn. When the action server died mid-call (a crash,
an OOM kill, a deploy), the customer gets the apology instead of an answer, and the action may have
done its work (filed the ticket) without the conversation knowing it: the customer confirms again,
under a new message id, and a second ticket is filed.

Here a call that did not get through (connection refused or reset, the server gone mid-request, a
502/503/504 from a proxy in front) is made again, with backoff, for up to ACTION_RETRY_SECONDS
(default 30) while the supervisor (deploy/supervisor.py, or Kubernetes) restarts the action server. The
same tracker goes again, so the action computes the same idempotency key (actions/common.py): a
ticket the cut-off call filed is found, not filed twice. Other failures (an action that raised: 500;
a rejection: 400) stay Rasa's as before.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any, Optional

logger = logging.getLogger(__name__)

RETRY_STATUSES = (502, 503, 504)
FIRST_WAIT = 0.25
LONGEST_WAIT = 4.0

_installed = False


def _budget() -> float:
    try:
        return max(0.0, float(os.environ.get("ACTION_RETRY_SECONDS") or 30))
    except ValueError:
        return 30.0


def did_not_get_through(error: BaseException) -> bool:
    """Whether the action server never answered the call (as opposed to answering with an error)."""
    import aiohttp

    cause: Optional[BaseException] = error.__cause__ or error.__context__
    if isinstance(cause, aiohttp.ClientResponseError):
        return cause.status in RETRY_STATUSES
    return isinstance(cause, (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError))


def install() -> None:
    """Patch once per process; safe to call repeatedly."""
    global _installed
    if _installed:
        return
    from rasa.core.actions import action as rasa_action
    from rasa.shared.exceptions import RasaException

    from channels import metrics

    original = rasa_action.RemoteAction.run

    async def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        give_up_at = time.monotonic() + _budget()
        wait = FIRST_WAIT
        while True:
            try:
                return await original(self, *args, **kwargs)
            except rasa_action.ActionExecutionRejection:
                raise
            except RasaException as error:
                if not did_not_get_through(error) or time.monotonic() + wait > give_up_at:
                    raise
                logger.warning("action server not reached for %s; trying again in %.2f s", self.name(), wait)
                metrics.action_call_retried()
                await asyncio.sleep(wait)
                wait = min(wait * 2, LONGEST_WAIT)

    run.__wrapped__ = original  # type: ignore[attr-defined]
    rasa_action.RemoteAction.run = run
    _installed = True
