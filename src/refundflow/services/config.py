"""The shop's working rules that settings choose and use cases read (one object)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal

from refundflow.domain.inspection import InspectionRules


@dataclass(frozen=True, slots=True)
class ShopConfig:
    # Refunds above this amount (in the request's currency) wait for a second, finance
    # approval before they are executed.
    finance_approval_above: Decimal = Decimal("2000")
    inspection: InspectionRules = field(default_factory=InspectionRules)
    work_starts: time = time(9, 0)
    work_ends: time = time(18, 0)
    # What one loyalty point costs the shop, for the compensation ledger.
    point_value: Decimal = Decimal("0.01")
    # Keys one-time codes and signed links; set from REFUNDFLOW_SECRET_KEY.
    secret: bytes = b"development-only-secret-change-me"
    code_minutes: int = 10
    code_attempts: int = 5
    portal_session_hours: int = 24
