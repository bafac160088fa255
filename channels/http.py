"""Domain errors to HTTP status codes, in one table for every HTTP API of the channels.

The domain raises the `bot.errors` tree; an HTTP handler does not catch it itself but lets one
decorator answer it with `status_of(error)`. As in httpx's `map_exceptions`, the most specific class
in the table wins (a `Taken` is a `Conflict`, but answers as `taken`), so a new subclass needs no new
``except`` anywhere. Each API keeps its own message table (Chinese for the console, English for the
backend API) and looks its text up with `most_specific` too; `error_fields` adds the fields a 409 or
429 names.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional, Tuple, Type, TypeVar, Union

from bot.errors import (
    Conflict,
    Forbidden,
    IntakeError,
    InvalidInput,
    NotFound,
    RateLimited,
    StoreUnavailable,
    Taken,
    Unauthenticated,
    WrongState,
)


class TooLong(InvalidInput):
    """A body or a field over its limit: answered 413 (an InvalidInput, so 400 where nothing maps it)."""


ERROR_STATUS: Dict[Type[IntakeError], Tuple[int, str]] = {
    IntakeError: (400, "invalid"),
    InvalidInput: (400, "invalid"),
    TooLong: (413, "too_long"),
    Unauthenticated: (401, "unauthenticated"),
    RateLimited: (429, "too_many_attempts"),
    Forbidden: (403, "forbidden"),
    NotFound: (404, "not_found"),
    Conflict: (409, "conflict"),
    Taken: (409, "taken"),
    WrongState: (409, "wrong_state"),
    StoreUnavailable: (503, "unavailable"),
}
"""Error class -> (status code, the body's ``error`` code). NotOwner answers as NotFound on purpose."""

ERROR_FIELDS: Dict[Type[IntakeError], Callable[[Any], Dict[str, Any]]] = {
    Taken: lambda e: {"agent": e.agent, "agent_name": e.agent_name, "owner": e.owner},
    RateLimited: lambda e: {"retry_after": e.retry_after},
}
"""Error class -> the extra fields its body carries besides ``error`` and ``message``."""

T = TypeVar("T")

Message = Union[None, str, Callable[[Any], str]]
"""An API's text for an error class: fixed, built from the error, or None for the API's default."""


def most_specific(error: BaseException, table: Mapping[type, T]) -> Optional[T]:
    """The entry of the error's most specific class in `table` (walking its MRO), or None."""
    for cls in type(error).__mro__:
        if cls in table:
            return table[cls]
    return None


def status_of(error: IntakeError) -> Tuple[int, str]:
    """(status code, error code) of a domain error."""
    found = most_specific(error, ERROR_STATUS)
    assert found is not None, "every IntakeError has an entry through its root"
    return found


def message_of(error: IntakeError, messages: Mapping[type, Message]) -> Optional[str]:
    """The API's text for this error (None: the API's default for the status code)."""
    message = most_specific(error, messages)
    return message(error) if callable(message) else message


def error_fields(error: IntakeError) -> Dict[str, Any]:
    fields = most_specific(error, ERROR_FIELDS)
    return fields(error) if fields else {}
