"""What the webhook repository stores and hands back: deliveries and their attempts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class NewDelivery:
    subscription_id: int
    event_id: str
    event_seq: int
    event_type: str
    ordering_key: str
    body: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    id: int
    subscription_id: int
    event_id: str
    event_type: str
    body: str
    attempts: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    delivery_id: int
    attempt: int
    started_at: datetime
    status_code: int | None
    latency_ms: int
    response_excerpt: str | None
    error: str | None
    outcome: str

    def view(self) -> dict[str, Any]:
        return {
            "attempt": self.attempt,
            "started_at": self.started_at.isoformat(),
            "status_code": self.status_code,
            "latency_ms": self.latency_ms,
            "response_excerpt": self.response_excerpt,
            "error": self.error,
            "outcome": self.outcome,
        }


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    id: int
    subscription_id: int
    event_id: str
    event_type: str
    ordering_key: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    expires_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    body: str
    last_latency_ms: int | None = None
    last_response_excerpt: str | None = None

    def view(self) -> dict[str, Any]:
        pending = self.status == "pending"
        return {
            "id": self.id,
            "subscription_id": self.subscription_id,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "status": self.status,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at.isoformat()
            if pending and self.next_attempt_at
            else None,
            "expires_at": self.expires_at.isoformat(),
            "last_status_code": self.last_status_code,
            "last_error": self.last_error,
            "last_latency_ms": self.last_latency_ms,
            "last_response_excerpt": self.last_response_excerpt,
            "created_at": self.created_at.isoformat(),
            "delivered_at": self.delivered_at.isoformat() if self.delivered_at else None,
        }
