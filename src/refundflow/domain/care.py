"""Looking after the customer beyond the refund: complaints, the contact log, compensation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from refundflow.domain.money import Money


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class ContactChannel(StrEnum):
    CALL = "call"
    CHAT = "chat"
    EMAIL = "email"
    SMS = "sms"


class Direction(StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


class CompensationKind(StrEnum):
    COUPON = "coupon"
    POINTS = "points"
    STORE_CREDIT = "store_credit"


@dataclass(slots=True)
class Complaint:
    request_id: int
    source: str
    severity: Severity
    text: str
    state: str
    opened_at: datetime
    opened_by: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    request_id: int
    channel: ContactChannel
    direction: Direction
    summary: str
    by_name: str
    at: datetime
    by_id: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Compensation:
    """A coupon, points or store credit given on a request; ``cost`` is what it costs the
    shop (a coupon's face value, points at their value, the credit itself)."""

    request_id: int
    customer_id: int
    kind: CompensationKind
    cost: Money
    issued_at: datetime
    amount: Money | None = None
    points: int | None = None
    code: str | None = None
    expires_at: datetime | None = None
    issued_by: str | None = None
    id: int | None = None
