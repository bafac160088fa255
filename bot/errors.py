"""One error tree for the domain; adapters translate it at the edges.

    IntakeError
     ├── InvalidInput        the caller gave something we cannot accept
     ├── NotFound            no such ticket (also used for "not yours", so numbers cannot be probed)
     ├── NotOwner            the ticket exists but belongs to another customer (internal use only)
     ├── Conflict            a concurrent write got there first (e.g. the same idempotency key)
     └── StoreUnavailable    the database cannot be reached or failed mid-transaction

Actions turn these into polite Chinese replies; HTTP channels into 4xx/5xx codes.
"""


class IntakeError(Exception):
    """Root of every error the domain raises on purpose."""


class InvalidInput(IntakeError):
    """The input cannot be accepted as given."""


class NotFound(IntakeError):
    """The requested object does not exist for this caller."""


class NotOwner(NotFound):
    """The object exists but belongs to someone else.

    Subclass of NotFound so that adapters which only catch NotFound answer both cases alike.
    """


class Conflict(IntakeError):
    """A uniqueness rule stopped the write: someone else wrote the same thing first."""


class StoreUnavailable(IntakeError):
    """The ticket store is down or a transaction failed; nothing was half-written."""
