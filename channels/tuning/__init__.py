"""Per-message costs of Rasa 3.6 that do not need to be paid on every turn, each patch keeping Rasa's
decisions (tested against Rasa's own code in tests/test_tuning.py) and cutting only repeated work:

- `action_server`: answers validated on a compiled schema, one kept connection per endpoint, the
  request body written by ujson;
- `graph`: the model's graph walked without dask;
- `rules`: RulePolicy's rules compiled once and indexed;
- `trackers`: event classes found once, the featurizer's states continued instead of replayed, no
  replayed copy for actions that only read the tracker, slots copied cheaply;
- `debug_copies`: Rasa's deep copies for debug log records made only when those are written;
- `heap`: a warm-up parse after start, then the loaded model frozen out of the collector's sight.

Profiles and figures: bench/README.md, "What made the difference". Installed when the channel
package is imported (Rasa imports the channels named in credentials.yml before it serves anything).
"""

from __future__ import annotations

from channels.tuning.action_server import KEEPALIVE_SECONDS, _action_response_validator, close_http_sessions, json_dumps
from channels.tuning.debug_copies import DEBUG_COPY_MODULES
from channels.tuning.graph import run_graph
from channels.tuning.heap import freeze_startup_heap, warm_up_and_freeze

__all__ = [
    "DEBUG_COPY_MODULES", "KEEPALIVE_SECONDS", "close_http_sessions", "freeze_startup_heap", "install", "json_dumps",
    "run_graph", "warm_up_and_freeze", "_action_response_validator",
]

_installed = False


def install() -> None:
    """Patch once per process; safe to call repeatedly."""
    global _installed
    if _installed:
        return
    from channels.tuning import action_server, debug_copies, graph, rules, trackers

    action_server.install_response_validation()
    trackers.install_event_type_cache()
    graph.install_graph_runner()
    action_server.install_shared_http_sessions()
    rules.install_rule_matching()
    trackers.install_incremental_past_states()
    trackers.install_action_tracker_reuse()
    debug_copies.install_debug_only_copies()
    trackers.install_fast_slot_copies()
    _installed = True
