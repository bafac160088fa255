"""What a Rasa server process needs before it serves: our log filter and the patches into Rasa.

Importing `channels` used to do this as a side effect. It is now called at server start instead:
by channels/server.py (``python -m channels.server run``) and, so that plain ``rasa run`` gets it
too, when Rasa builds the ops channel's blueprint (channels/ops.py), which happens before the agent
is loaded and before the first request. Every step is idempotent.
"""

from __future__ import annotations

from bot import logs
from channels import action_calls, metrics, nlu_offload, tuning


def prepare_process() -> None:
    """Install the personal-data filter on the log handlers and our patches into Rasa (once)."""
    logs.install()
    tuning.install()
    nlu_offload.install()  # before metrics, which wraps parse_message
    metrics.install()
    action_calls.install()
