"""Complaint tickets: what a ticket is (`model`), the row-level rules shared by every service that
changes tickets (`rows`, `resolution`), evidence lines and held attachments (`evidence`), and the
ticket service itself (`service`).

Callers import from here: ``from bot.tickets import TicketService, Ticket, Status``.
"""

from bot.customers import Customer
from bot.tickets.model import BOT, CUSTOMER, OPEN_STATUSES, SYSTEM, TRANSITIONS, Event, Status, Ticket
from bot.tickets.resolution import resolve_row, send_result_and_survey
from bot.tickets.rows import (
    PROGRESS_INTERVAL,
    RESPONSIBILITY_KINDS,
    add_event,
    assign_row,
    find_row,
    latest_open_row,
    move_row,
    raise_severity_row,
)
from bot.tickets.evidence import EVIDENCE_HOLD, evidence_detail, link_held_attachments
from bot.tickets.service import REPEAT_WINDOW, TicketService

__all__ = [
    "BOT", "CUSTOMER", "EVIDENCE_HOLD", "OPEN_STATUSES", "PROGRESS_INTERVAL", "REPEAT_WINDOW",
    "RESPONSIBILITY_KINDS", "SYSTEM", "TRANSITIONS", "Customer", "Event", "Status", "Ticket", "TicketService",
    "add_event", "assign_row", "evidence_detail", "link_held_attachments", "find_row", "latest_open_row", "move_row", "raise_severity_row", "resolve_row",
    "send_result_and_survey",
]
