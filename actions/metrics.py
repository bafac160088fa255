"""Prometheus metrics of the action server, served at ``GET /metrics`` (actions/server.py).

One registry per process, scraped on the process's own port (one Sanic worker per process):

    intake_action_calls_total{action, outcome}   action calls from Rasa; outcome ok, rejected (a form
                                                 validation rejected the call), not_found, error
    intake_action_duration_seconds{action}       time to run an action (histogram)
    intake_handoff_requests_total{outcome}       requests for a human: queued, routed (straight to
                                                 the responsible agent), unavailable (call-back
                                                 promised), already (was waiting or talking)

``action`` is an action this server registered ("unknown" for names it does not know), so the label
stays bounded. Plus the process collectors of prometheus_client (CPU, memory, open files, GC).
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

disable_created_metrics()  # no *_created series: counters start with the process
REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

ACTION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

ACTION_CALLS = Counter("intake_action_calls", "Action calls from Rasa, by action and outcome.",
                       ["action", "outcome"], registry=REGISTRY)
ACTION_SECONDS = Histogram("intake_action_duration_seconds", "Time to run an action.", ["action"],
                           buckets=ACTION_BUCKETS, registry=REGISTRY)
HANDOFF_REQUESTS = Counter("intake_handoff_requests", "Requests for a human, by outcome.", ["outcome"],
                           registry=REGISTRY)

CONTENT_TYPE = CONTENT_TYPE_LATEST


def outcome_of(status: int) -> str:
    return {200: "ok", 400: "rejected", 404: "not_found"}.get(status, "error")


def exposition() -> bytes:
    return generate_latest(REGISTRY)
