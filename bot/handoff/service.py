"""`HandoffService`: the one object channels and actions hold for the human handoff.

A thin facade: each method hands over to the part that does the work (`routing` for the
customer's side, `mailbox` for deliveries, `console` for the agent's side, `ticket_actions` for
escalating and resolving tickets). The parts share one `Desk`, so setting `clock`, `hours` or
`on_change` here reaches all of them. Method names and signatures are the ones callers use
(`actions.common.call` finds the service by the class name in `__qualname__`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable, Iterable, List, Optional, Sequence, Tuple

from bot.clock import utcnow
from bot.handoff._rows import Desk
from bot.handoff.console import Console
from bot.handoff.customer_view import CustomerProfile, CustomerView
from bot.handoff.followup import FollowUp
from bot.handoff.mailbox import DELIVERY_LEASE, Mailbox
from bot.handoff.model import FeedEvent, GateState, HandoffSession, Message, Placement, Routing, WorkingHours
from bot.handoff.routing import CustomerRouting
from bot.handoff.shift import QueueQuery, Shift
from bot.handoff.ticket_actions import TicketActions
from bot.handoff.ticket_edits import TicketEdits
from bot.staff import StaffMember, StaffService
from bot.storage.database import Database
from bot.tickets import Customer, Ticket


class HandoffService:
    def __init__(
        self,
        db: Database,
        staff: StaffService,
        hours: WorkingHours = WorkingHours(),
        clock: Callable[[], datetime] = utcnow,
        on_change: Optional[Callable[[], None]] = None,
    ) -> None:
        self._desk = Desk(db, staff, hours, clock, on_change)
        self.routing = CustomerRouting(self._desk)
        self.mailbox = Mailbox(self._desk)
        self.console = Console(self._desk)
        self.ticket_actions = TicketActions(self._desk)
        self.shift = Shift(self._desk)
        self.followup = FollowUp(self._desk)
        self.customer_view = CustomerView(self._desk)
        self.ticket_edits = TicketEdits(self._desk)

    # -- the shared desk -------------------------------------------------------------------

    @property
    def db(self) -> Database:
        return self._desk.db

    @property
    def staff(self) -> StaffService:
        return self._desk.staff

    @property
    def hours(self) -> WorkingHours:
        return self._desk.hours

    @hours.setter
    def hours(self, hours: WorkingHours) -> None:
        self._desk.hours = hours

    @property
    def clock(self) -> Callable[[], datetime]:
        return self._desk.clock

    @clock.setter
    def clock(self, clock: Callable[[], datetime]) -> None:
        self._desk.clock = clock

    @property
    def on_change(self) -> Optional[Callable[[], None]]:
        """Called after each committed change (the in-process wake-up of long polls and deliveries)."""
        return self._desk.on_change

    @on_change.setter
    def on_change(self, hook: Optional[Callable[[], None]]) -> None:
        self._desk.on_change = hook

    # -- customers (routing.py) ------------------------------------------------------------

    def request(
        self,
        customer: Customer,
        reason: str,
        ticket: Optional[Ticket] = None,
        history: Iterable[Tuple[str, str]] = (),
    ) -> Placement:
        return self.routing.request(customer, reason, ticket, history)

    def session_for(self, customer: Customer) -> Optional[HandoffSession]:
        return self.routing.session_for(customer)

    def pending_for(self, customer: Customer) -> Optional[HandoffSession]:
        return self.routing.pending_for(customer)

    def withdraw_callback(self, customer: Customer) -> Optional[HandoffSession]:
        return self.routing.withdraw_callback(customer)

    def gate_state(self, customer: Customer) -> GateState:
        return self.routing.gate_state(customer)

    def customer_message(self, customer: Customer, text: str) -> Optional[Routing]:
        return self.routing.customer_message(customer, text)

    def available_now(self) -> bool:
        return self.routing.available_now()

    def sweep(self, offline_grace: timedelta = timedelta(minutes=2)) -> int:
        return self.routing.sweep(offline_grace)

    # -- the customer's mailbox (mailbox.py) -----------------------------------------------

    def messages_for_customer(self, customer: Customer, after_id: int, limit: int = 100) -> List[Message]:
        return self.mailbox.messages_for_customer(customer, after_id, limit)

    def pending_deliveries(
        self,
        channel: Optional[str] = None,
        user_id: Optional[str] = None,
        limit: int = 200,
        user_ids: Optional[Sequence[str]] = None,
    ) -> List[Message]:
        return self.mailbox.pending_deliveries(channel, user_id, limit, user_ids)

    def claim_delivery(self, message_id: int, lease: timedelta = DELIVERY_LEASE) -> bool:
        return self.mailbox.claim_delivery(message_id, lease)

    def delivered(self, message_id: int) -> None:
        self.mailbox.delivered(message_id)

    def delivery_failed(self, message_id: int, error: str) -> None:
        self.mailbox.delivery_failed(message_id, error)

    def unclaim_delivery(self, message_id: int) -> None:
        self.mailbox.unclaim_delivery(message_id)

    # -- agents: reading (console.py) ------------------------------------------------------

    def queue(self, viewer: StaffMember) -> List[HandoffSession]:
        return self.console.queue(viewer)

    def queue_page(self, viewer: StaffMember, query: QueueQuery) -> Tuple[List[HandoffSession], int]:
        return self.shift.queue_page(viewer, query)

    def hand_back(self, viewer: StaffMember) -> List[int]:
        return self.shift.hand_back(viewer)

    def sessions(self, viewer: StaffMember, everyone: bool = False) -> List[HandoffSession]:
        return self.console.sessions(viewer, everyone)

    def detail(self, viewer: StaffMember, session_id: int) -> Tuple[HandoffSession, List[Ticket]]:
        return self.console.detail(viewer, session_id)

    def transcript(self, viewer: StaffMember, session_id: int) -> List[Message]:
        return self.console.transcript(viewer, session_id)

    def progress_due(self, viewer: StaffMember) -> List[Ticket]:
        return self.console.progress_due(viewer)

    def latest_event_id(self) -> int:
        return self.console.latest_event_id()

    def events_after(self, cursor: int, limit: int = 200) -> Tuple[int, List[FeedEvent]]:
        return self.console.events_after(cursor, limit)

    # -- agents: acting (console.py, ticket_actions.py) ------------------------------------

    def accept(self, viewer: StaffMember, session_id: int) -> HandoffSession:
        return self.console.accept(viewer, session_id)

    def post(self, viewer: StaffMember, session_id: int, text: str) -> Message:
        return self.console.post(viewer, session_id, text)

    def transfer(self, viewer: StaffMember, session_id: int, to: str, reason: str) -> HandoffSession:
        return self.console.transfer(viewer, session_id, to, reason)

    def accept_transfer(self, viewer: StaffMember, session_id: int) -> HandoffSession:
        return self.console.accept_transfer(viewer, session_id)

    def decline_transfer(self, viewer: StaffMember, session_id: int) -> HandoffSession:
        return self.console.decline_transfer(viewer, session_id)

    def reassign(self, viewer: StaffMember, session_id: int, to: str, reason: str) -> HandoffSession:
        return self.console.reassign(viewer, session_id, to, reason)

    def release(self, viewer: StaffMember, session_id: int) -> HandoffSession:
        return self.console.release(viewer, session_id)

    def close(self, viewer: StaffMember, session_id: int) -> HandoffSession:
        return self.console.close(viewer, session_id)

    def escalate(self, viewer: StaffMember, session_id: int, reason: str) -> HandoffSession:
        return self.ticket_actions.escalate(viewer, session_id, reason)

    def resolve_ticket(self, viewer: StaffMember, number: str, note: str, message: Optional[str] = None) -> Ticket:
        return self.ticket_actions.resolve_ticket(viewer, number, note, message)

    # -- around the chat: notes, follow-up, call-backs, the customer (followup.py, customer_view.py, ticket_edits.py)

    def session_note(self, viewer: StaffMember, session_id: int, text: str) -> Message:
        return self.followup.session_note(viewer, session_id, text)

    def ticket_note(self, viewer: StaffMember, number: str, text: str) -> Ticket:
        return self.followup.ticket_note(viewer, number, text)

    def send_progress(self, viewer: StaffMember, number: str, text: str) -> Ticket:
        return self.followup.send_progress(viewer, number, text)

    def reveal_phone(self, viewer: StaffMember, session_id: int) -> Tuple[Customer, Optional[str]]:
        return self.followup.reveal_phone(viewer, session_id)

    def callback_outcome(
        self, viewer: StaffMember, session_id: int, outcome: str, note: str = "", retry_at: Optional[datetime] = None
    ) -> Optional[Ticket]:
        return self.followup.callback_outcome(viewer, session_id, outcome, note, retry_at)

    def customer_profile(self, viewer: StaffMember, session_id: int) -> CustomerProfile:
        return self.customer_view.profile(viewer, session_id)

    def ticket(self, viewer: StaffMember, number: str) -> Ticket:
        return self.customer_view.ticket(viewer, number)

    def search_tickets(self, viewer: StaffMember, kind: str, query: str) -> List[Ticket]:
        return self.customer_view.search(viewer, kind, query)

    def correct_ticket(self, viewer: StaffMember, number: str, field: str, value: str, reason: str = "") -> Ticket:
        return self.ticket_edits.correct(viewer, number, field, value, reason)
