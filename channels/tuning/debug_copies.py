"""Deep copies for debug log records, made only when those records are written (see
`_DebugFieldCopies`).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional, Text

logger = logging.getLogger(__name__)


DEBUG_COPY_MODULES = ("rasa.core.processor", "rasa.core.policies.rule_policy", "rasa.core.actions.forms")


class _DebugFieldCopies:
    """The `copy` module as a Rasa module in DEBUG_COPY_MODULES sees it: a deep copy is made only
    when that module's debug records are written.

    Rasa 3.6 passes deep copies of what it logs to ``structlogger.debug(...)`` (the events of every
    action, the extracted slots, the rule policy's view of the conversation, the latest message in a
    form); Python evaluates the arguments before the call finds debug logging off, so every turn
    copied them all to throw them away, a few percent of a Rasa process's CPU. With the module's
    logger at DEBUG the copies are made as before."""

    def __init__(self, module_name: Text) -> None:
        import copy

        self._copy = copy
        self._logger = logging.getLogger(module_name)

    def deepcopy(self, value: Any, memo: Optional[Dict[int, Any]] = None) -> Any:
        if self._logger.isEnabledFor(logging.DEBUG):
            return self._copy.deepcopy(value, memo)
        return value

    def __getattr__(self, name: Text) -> Any:
        return getattr(self._copy, name)


def install_debug_only_copies() -> None:
    import importlib

    for name in DEBUG_COPY_MODULES:
        importlib.import_module(name).copy = _DebugFieldCopies(name)  # type: ignore[attr-defined]
