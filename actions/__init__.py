"""Rasa SDK actions: thin adapters between the dialogue and the domain in `bot/`.

`rasa run actions --actions actions` imports every module of this package; one module per flow.
"""

from bot import logs as _logs

_logs.install()
