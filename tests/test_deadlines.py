import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from bot import deadlines
from bot.categories import Category, Department
from bot.severity import Severity

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)


@pytest.mark.parametrize(
    "category, severity, response, resolve",
    [
        # general: category table stricter for resolution where it has a figure; 24 h initial response for all
        (Category.NETWORK, Severity.GENERAL, 24 * H, 48 * H),
        (Category.BILLING, Severity.GENERAL, 24 * H, 72 * H),
        (Category.BUSINESS, Severity.GENERAL, 24 * H, 48 * H),
        (Category.OTHER, Severity.GENERAL, 24 * H, 72 * H),
        # major: 24 h / 48 h beats billing's and other's 72 h
        (Category.NETWORK, Severity.MAJOR, 24 * H, 48 * H),
        (Category.BILLING, Severity.MAJOR, 24 * H, 48 * H),
        (Category.BUSINESS, Severity.MAJOR, 24 * H, 48 * H),
        (Category.OTHER, Severity.MAJOR, 24 * H, 48 * H),
        # urgent: 15 minutes / 24 h beats everything
        (Category.NETWORK, Severity.URGENT, timedelta(minutes=15), 24 * H),
        (Category.BILLING, Severity.URGENT, timedelta(minutes=15), 24 * H),
        (Category.BUSINESS, Severity.URGENT, timedelta(minutes=15), 24 * H),
        (Category.OTHER, Severity.URGENT, timedelta(minutes=15), 24 * H),
    ],
)
def test_stricter_deadline_wins(category, severity, response, resolve):
    due = deadlines.compute(T0, category, severity)
    assert due.response_due - T0 == response
    assert due.resolve_due - T0 == resolve


def test_departments_follow_the_handbook():
    assert Category.NETWORK.department is Department.NETWORK_OPERATIONS
    assert Category.BILLING.department is Department.BILLING_CENTER
    assert Category.BUSINESS.department is Department.BUSINESS_OFFICE
    assert Category.OTHER.department is Department.CUSTOMER_SERVICE


def test_category_from_intent():
    assert Category.from_intent("complain_billing") is Category.BILLING
    assert Category.from_intent("consult") is None
    assert Category.from_intent("complain_unknown") is None
    assert Category.from_intent(None) is None


def test_the_answer_on_how_complaints_work_states_the_deadlines_tickets_get():
    """The FAQ answer (consult/complaint_process) quotes the deadline table; the two must not drift apart."""
    faq = yaml.safe_load((Path(__file__).resolve().parent.parent / "bot" / "dialogue" / "domain" / "faq.yml").read_text("utf-8"))
    answer = faq["responses"]["utter_consult/complaint_process"][0]["text"]
    stated = {line.split("：")[0].lstrip("· "): line for line in answer.split("\n") if line.startswith("· ")}
    words = {Category.NETWORK: "网络质量", Category.BILLING: "资费账单", Category.BUSINESS: "业务办理", Category.OTHER: "其他问题"}
    for category, (first, resolution) in deadlines.BY_CATEGORY.items():
        hours = [int(h) for h in re.findall(r"(\d+)小时", stated[words[category]])]
        assert hours[-1] == resolution.total_seconds() / 3600, category
        if first is not None:
            assert hours[0] == first.total_seconds() / 3600, category
    assert f"{int(deadlines.INITIAL_RESPONSE.total_seconds() // 3600)}小时内都会有专人联系您" in answer
    assert f"{int(deadlines.BY_SEVERITY[Severity.URGENT][0].total_seconds() // 60)}分钟内响应" in answer
