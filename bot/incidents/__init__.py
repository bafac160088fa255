"""Outage detection (故障聚合): network complaints about one place or symptom grouped under one incident.

* `rules` — the operator's YAML rules (`bot/incidents/outage_rules.yml`), re-read when they change.
* `snapshots` — what callers get back: `Incident`, `Outcome`, and the naming and counting rules.
* `service` — `IncidentService`: intake of network tickets, and what supervisors do.
* `rows` — the service's row-level helpers (locks, lookups, links).
"""

from bot.incidents.rules import DEFAULT_RULES, KINDS, KnownArea, RuleBook, Rules, Symptom, match_key
from bot.incidents.service import IncidentService
from bot.incidents.snapshots import (
    PHONES_PER_SOURCE,
    Incident,
    LinkedTicket,
    Outcome,
    distinct_customers,
    new_incident_number,
    subject,
)

__all__ = [
    "DEFAULT_RULES", "KINDS", "PHONES_PER_SOURCE", "Incident", "IncidentService", "KnownArea", "LinkedTicket",
    "Outcome", "RuleBook", "Rules", "Symptom", "distinct_customers", "match_key", "new_incident_number", "subject",
]
