"""Channel adapters: how customers reach the assistant (web chat now, messaging apps next)."""

import os as _os

from bot import logs as _logs

if _os.environ.get("LOG_FORMAT") == "json":
    # Production: one JSON object per line from the first one, warnings raised while importing Rasa included.
    _logs.configure(import_first=_logs.OWN_HANDLER_LIBRARIES)

from channels import action_calls as _action_calls  # noqa: E402 - after the logging
from channels import metrics as _metrics  # noqa: E402
from channels import nlu_offload as _nlu_offload  # noqa: E402
from channels import tuning as _tuning  # noqa: E402

_logs.install()
_tuning.install()
_nlu_offload.install()  # before metrics, which wraps parse_message
_metrics.install()
_action_calls.install()
