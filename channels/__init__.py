"""Channel adapters: how customers reach the assistant (web chat now, messaging apps next)."""

from bot import logs as _logs

_logs.install()
