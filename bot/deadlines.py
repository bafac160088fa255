"""Response and resolution deadlines (时限) from the operator's two tables; the stricter wins.

By category (信访投诉处理流程) and by severity (客户服务与投诉处理规范 4.1), plus the
rule that every complaint gets an initial response within 24 h and urgent service faults
within 15 minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Dict, Optional, Tuple

from bot.categories import Category
from bot.severity import Severity

H = timedelta(hours=1)

# category -> (first response, resolution); None where the table gives no figure
BY_CATEGORY: Dict[Category, Tuple[Optional[timedelta], timedelta]] = {
    Category.NETWORK: (24 * H, 48 * H),
    Category.BILLING: (None, 72 * H),
    Category.BUSINESS: (None, 48 * H),
    Category.OTHER: (None, 72 * H),
}

# severity -> (response, resolution)
BY_SEVERITY: Dict[Severity, Tuple[timedelta, timedelta]] = {
    Severity.GENERAL: (48 * H, 72 * H),
    Severity.MAJOR: (24 * H, 48 * H),
    Severity.URGENT: (timedelta(minutes=15), 24 * H),
}

# "Every complaint gets an initial response within 24 h."
INITIAL_RESPONSE = 24 * H


@dataclass(frozen=True)
class Deadlines:
    response_due: datetime
    resolve_due: datetime


def limits(category: Category, severity: Severity) -> Tuple[timedelta, timedelta]:
    """(response, resolution) time limits, the stricter of every table that applies."""
    cat_response, cat_resolve = BY_CATEGORY[category]
    sev_response, sev_resolve = BY_SEVERITY[severity]
    response = min(x for x in (cat_response, sev_response, INITIAL_RESPONSE) if x is not None)
    return response, min(cat_resolve, sev_resolve)


def compute(created_at: datetime, category: Category, severity: Severity) -> Deadlines:
    response, resolve = limits(category, severity)
    return Deadlines(response_due=created_at + response, resolve_due=created_at + resolve)
