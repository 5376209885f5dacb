"""Small builders for policy tests: rules in their wire shape, documents through
``parse_document`` (so every test document is one a manager could publish), typical facts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from refundflow.policy.document import PolicyDocument, parse_document


def when(fact: str, operator: str, value: Any) -> dict[str, Any]:
    return {"fact": fact, "operator": operator, "value": value}


def rule(*conditions: dict[str, Any], outcome: str = "approve", **extra: Any) -> dict[str, Any]:
    return {"outcome": outcome, "conditions": list(conditions), **extra}


def policy(*rules: dict[str, Any], version: int = 1) -> PolicyDocument:
    """A document of ``rules``, ids and names filled in as r1, r2, … where missing."""
    numbered = [{"id": f"r{i}", "name": f"rule {i}", **raw} for i, raw in enumerate(rules, start=1)]
    return parse_document({"version": version, "rules": numbered})


def facts(**overrides: object) -> dict[str, object]:
    """A delivered refund-only request of ¥59.00 from a standard customer with a clean
    record; ``overrides`` replace or add facts (None: unknown)."""
    base: dict[str, object] = {
        "amount": Decimal("59.00"),
        "order_total": Decimal("259.00"),
        "currency": "CNY",
        "type": "refund_only",
        "reason": "other",
        "category": frozenset({"apparel"}),
        "sku": frozenset({"AP-TS-001"}),
        "channel": "tmall",
        "intake_channel": "portal",
        "payment_method": frozenset({"alipay"}),
        "order_status": "delivered",
        "days_since_delivery": 3,
        "days_since_payment": 6,
        "customer_tier": "standard",
        "customer_refunds_90d": 0,
        "customer_refund_amount_90d": Decimal("0.00"),
        "customer_refund_rate": Decimal("0.0000"),
        "customer_orders": 4,
        "first_order": False,
        "complaint_open": False,
        "trust_quota_left": Decimal("200.00"),
    }
    return {**base, **overrides}
