"""Service figures for supervisors (服务指标): every number on the dashboard and in its CSV.

    figures.py    what each figure means (the definitions docstring), its constants, Period and the results
    compute.py    ServiceFigures: the figures of a period from the ticket store
    rasa_log.py   the bot's figures from Rasa's conversation log
    export.py     to_json for the API, csv_rows for the CSV download

Callers import from `bot.stats` as before; this module only re-exports.
"""

from bot.stats.compute import ServiceFigures, percentile
from bot.stats.export import CSV_HEADER, csv_rows, to_json
from bot.stats.figures import (
    CONVERSATION_GAP,
    DEFAULT_DAYS,
    FALLBACK_INTENT,
    HANDOFF_HORIZON,
    LOW_CONFIDENCE,
    LOW_CONFIDENCE_LIMIT,
    MAX_DAYS,
    RESPONSE_BUCKETS,
    TOP_AREAS,
    AgentFigures,
    BotFigures,
    Bucket,
    Day,
    DeadlineFigures,
    Figures,
    LowConfidence,
    Period,
    Rate,
    SatisfactionFigures,
    Spread,
    TicketFigures,
)

__all__ = [
    "AgentFigures",
    "BotFigures",
    "Bucket",
    "CONVERSATION_GAP",
    "CSV_HEADER",
    "DEFAULT_DAYS",
    "Day",
    "DeadlineFigures",
    "FALLBACK_INTENT",
    "Figures",
    "HANDOFF_HORIZON",
    "LOW_CONFIDENCE",
    "LOW_CONFIDENCE_LIMIT",
    "LowConfidence",
    "MAX_DAYS",
    "Period",
    "RESPONSE_BUCKETS",
    "Rate",
    "SatisfactionFigures",
    "ServiceFigures",
    "Spread",
    "TOP_AREAS",
    "TicketFigures",
    "csv_rows",
    "percentile",
    "to_json",
]
