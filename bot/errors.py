"""One error tree for the domain; adapters translate it at the edges.

    IntakeError
     ├── InvalidInput        the caller gave something we cannot accept
     ├── NotFound            no such ticket (also used for "not yours", so numbers cannot be probed)
     ├── NotOwner            the ticket exists but belongs to another customer (internal use only)
     ├── Conflict            a concurrent write got there first (e.g. the same idempotency key)
     │    ├── Taken          another agent already holds the session
     │    └── WrongState     the session or ticket is not in a state that allows this (e.g. already ended)
     │         └── CustomerInChat   a customer's data is not deleted while an agent is talking to them
     ├── Unauthenticated     no valid staff credentials or token
     │    └── RateLimited    too many failed logins; try again later
     ├── Forbidden           the staff member may not do this (not their session, not a supervisor)
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


class Taken(Conflict):
    """The handoff session is already held by another agent."""

    def __init__(self, agent: str, agent_name: str, owner: "str | None" = None) -> None:
        super().__init__(f"session held by {agent}")
        self.agent = agent
        self.agent_name = agent_name
        self.owner = owner


class WrongState(Conflict):
    """The object moved on (ended, taken, released) before this request arrived."""


class CustomerInChat(WrongState):
    """A customer's data is not deleted while an agent is talking to them."""


class Unauthenticated(IntakeError):
    """Missing, wrong, expired or forged credentials."""


class RateLimited(Unauthenticated):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class Forbidden(IntakeError):
    """Authenticated, but not allowed to do this."""
