"""Rasa SDK actions: thin adapters between the dialogue and the domain in `bot/`.

`python -m actions.server --actions actions` imports every module of this package; one module per flow.
"""

import os as _os

from bot import logs as _logs

if _os.environ.get("LOG_FORMAT") == "json":
    # Production: one JSON object per line from the first one (actions/server.py configures it again).
    _logs.configure()
_logs.install()
