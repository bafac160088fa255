"""Complaint categories, the departments they are dispatched to, and their Chinese labels."""

from __future__ import annotations

import enum
from typing import Optional


class Category(str, enum.Enum):
    NETWORK = "network"
    BILLING = "billing"
    BUSINESS = "business"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def department(self) -> "Department":
        return _DEPARTMENT_OF[self]

    @property
    def intent(self) -> str:
        return f"complain_{self.value}"

    @classmethod
    def from_intent(cls, intent: Optional[str]) -> Optional["Category"]:
        """`complain_network` -> Category.NETWORK; anything else -> None."""
        if not intent or not intent.startswith("complain_"):
            return None
        try:
            return cls(intent[len("complain_") :])
        except ValueError:
            return None


class Department(str, enum.Enum):
    NETWORK_OPERATIONS = "network_operations"
    BILLING_CENTER = "billing_center"
    BUSINESS_OFFICE = "business_office"
    CUSTOMER_SERVICE = "customer_service"

    @property
    def label(self) -> str:
        return _DEPARTMENT_LABELS[self]


_LABELS = {
    Category.NETWORK: "服务质量投诉（网络）",
    Category.BILLING: "资费及账单投诉",
    Category.BUSINESS: "业务办理投诉",
    Category.OTHER: "其他投诉",
}

_DEPARTMENT_OF = {
    Category.NETWORK: Department.NETWORK_OPERATIONS,
    Category.BILLING: Department.BILLING_CENTER,
    Category.BUSINESS: Department.BUSINESS_OFFICE,
    Category.OTHER: Department.CUSTOMER_SERVICE,
}

_DEPARTMENT_LABELS = {
    Department.NETWORK_OPERATIONS: "网络运维部",
    Department.BILLING_CENTER: "计费中心",
    Department.BUSINESS_OFFICE: "营业受理中心",
    Department.CUSTOMER_SERVICE: "客服中心",
}
