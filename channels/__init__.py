"""Channel adapters: how customers reach the assistant (web chat now, messaging apps next)."""

from bot import logs as _logs
from channels import tuning as _tuning

_logs.install()
_tuning.install()
