"""Domain errors to the customer's reply, in one place for the actions.

An action wraps the calls that may fail in ``with polite_errors(dispatcher) as failed:``; a domain
error named in the table is answered with its response and swallowed, anything else propagates. As
in httpx's `map_exceptions`, the most specific class in the table wins. `REPLIES` holds what every
action says; `TICKET_REPLIES` adds the answer for a ticket number that is not the customer's, for
the places that look one up. An action whose answer differs (a retry prompt, a text instead of a
response) keeps its own ``except``.

    with polite_errors(dispatcher, TICKET_REPLIES, ticket_number=number) as failed:
        ticket = await call(TicketService.get, customer, number)
    if failed:
        return []
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Dict, Iterator, Mapping, Optional, Tuple

from rasa_sdk.executor import CollectingDispatcher

from bot.errors import IntakeError, NotFound, StoreUnavailable

REPLIES: Dict[type, str] = {
    StoreUnavailable: "utter_store_unavailable",
}
"""Error class -> the response every action gives for it."""

TICKET_REPLIES: Dict[type, str] = {
    **REPLIES,
    NotFound: "utter_ticket_not_found",  # also a number that belongs to someone else (NotOwner)
}
"""`REPLIES` for the actions that look a ticket up by its number."""

TEMPLATE_VALUES: Dict[str, Tuple[str, ...]] = {
    "utter_ticket_not_found": ("ticket_number",),
}
"""Response -> the values its template uses; only those are passed on."""


class Failed:
    """What `polite_errors` yields: true once an error was answered (`error` says which)."""

    def __init__(self) -> None:
        self.error: Optional[IntakeError] = None

    def __bool__(self) -> bool:
        return self.error is not None


def reply_for(error: BaseException, replies: Mapping[type, str] = REPLIES) -> Optional[str]:
    """The response for the error's most specific class in `replies`, or None."""
    for cls in type(error).__mro__:
        if cls in replies:
            return replies[cls]
    return None


@contextmanager
def polite_errors(
    dispatcher: CollectingDispatcher, replies: Mapping[type, str] = REPLIES, **values: Any
) -> Iterator[Failed]:
    """Answer the domain errors named in `replies`; the others go on up."""
    failed = Failed()
    try:
        yield failed
    except IntakeError as error:
        response = reply_for(error, replies)
        if response is None:
            raise
        failed.error = error
        dispatcher.utter_message(response=response, **{k: values[k] for k in TEMPLATE_VALUES.get(response, ()) if k in values})
