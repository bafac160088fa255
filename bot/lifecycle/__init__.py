"""The rest of a ticket's life (受理 → 分派 → 处理 → 反馈 → 跟踪): deadlines watched, escalation
decided by supervisors, the result fed back to the customer, a satisfaction survey, follow-up.

Every change here appends to the ticket history, so it also reaches the backend (bot/outbox/).
Customers are told through `bot.notices`, which their own channel delivers.

* `deadline_watch` — `DeadlineWatch.scan` records breaches and closes unanswered surveys; `attention`.
* `survey` — `Feedback`: the customer's answer closes the loop or reopens the ticket.
* `escalations` — `Escalations`: requests, and supervisors' decisions on them.

Resolving a ticket (the result and the survey) is bot/tickets/resolution.py, re-exported here.
"""

from bot.lifecycle.deadline_watch import NEAR, Attention, DeadlineWatch
from bot.lifecycle.escalations import (
    ESCALATION_ACCEPTED_TEXT,
    ESCALATION_DECLINED_TEXT,
    ESCALATION_REQUESTED_TEXT,
    Escalation,
    Escalations,
)
from bot.lifecycle.survey import (
    COMMENT_TEXT,
    FOLLOW_UP_WITHIN,
    REOPENED_TEXT,
    SURVEY_CLOSED_TEXT,
    SURVEY_PAYLOAD,
    SURVEY_WINDOW,
    THANKS_TEXT,
    Feedback,
    looks_like_survey_answer,
    parse_rating,
)
from bot.tickets.model import SYSTEM
from bot.tickets.resolution import RESULT_TEXT, SURVEY_BUTTONS, SURVEY_TEXT, send_result_and_survey

__all__ = [
    "COMMENT_TEXT", "ESCALATION_ACCEPTED_TEXT", "ESCALATION_DECLINED_TEXT", "ESCALATION_REQUESTED_TEXT",
    "FOLLOW_UP_WITHIN", "NEAR", "REOPENED_TEXT", "RESULT_TEXT", "SURVEY_BUTTONS", "SURVEY_CLOSED_TEXT",
    "SURVEY_PAYLOAD", "SURVEY_TEXT", "SURVEY_WINDOW", "SYSTEM", "THANKS_TEXT", "Attention", "DeadlineWatch",
    "Escalation", "Escalations", "Feedback", "looks_like_survey_answer", "parse_rating", "send_result_and_survey",
]
