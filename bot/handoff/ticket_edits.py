"""Staff correcting a ticket's facts from the console: category, severity (with a reason) and
contact phone. Who may: a supervisor, the ticket's responsible person, or the agent in a live chat
with its customer (the same rule as resolving). The row rules are in bot/tickets/corrections.py.
"""

from __future__ import annotations

from bot.errors import InvalidInput
from bot.handoff.ticket_actions import TicketActions
from bot.staff import StaffMember
from bot.tickets import Ticket
from bot.tickets.corrections import change_category_row, change_phone_row, change_severity_row

_RULES = {"category": change_category_row, "severity": change_severity_row, "contact_phone": change_phone_row}
FIELDS = tuple(_RULES)


class TicketEdits(TicketActions):
    """Corrections of a ticket, each written to its history with who and why."""

    def correct(self, viewer: StaffMember, number: str, field: str, value: str, reason: str = "") -> Ticket:
        rule = _RULES.get(field)
        if rule is None:
            raise InvalidInput("field must be category, severity or contact_phone")
        with self.db.transaction() as session:
            row = self._ticket_row(session, number)
            self._require_handler(session, viewer, row)
            rule(row, value, viewer.username, self.clock(), reason)
            session.flush()
            result = Ticket.from_row(row)
        self._changed()
        return result
