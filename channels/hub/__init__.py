"""The handoff hub of one Rasa server process (see core.py): its services, the gate in front of
the bot (gate.py), delivery of agents' messages (pump.py, jobs.py), and its wiring onto the Sanic
app at server start (setup.py). Re-exports the names the channels and the tests use.
"""

from channels.hub.core import Hub
from channels.hub.gate import WAITING_RECEIPT, slow_down_text
from channels.hub.pump import Courier, Pulse, Undeliverable, format_message
from channels.hub.setup import HubRef, attach, setup_hub

__all__ = [
    "WAITING_RECEIPT",
    "Courier",
    "Hub",
    "HubRef",
    "Pulse",
    "Undeliverable",
    "attach",
    "format_message",
    "setup_hub",
    "slow_down_text",
]
