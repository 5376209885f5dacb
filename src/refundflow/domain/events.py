"""Domain events: facts, named in the past tense, that the outbox carries to the world."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """``topic`` names the event for subscribers; ``key`` orders events of one request."""

    topic: str
    key: str
    at: datetime
    payload: dict[str, Any] = field(default_factory=dict)


STATUS_CHANGED = "refund_request.status_changed"


def refund_request_submitted(
    request_id: int, number: str, at: datetime, payload: dict[str, Any]
) -> DomainEvent:
    return DomainEvent("refund_request.created", f"refund_request:{request_id}", at, payload)


def refund_request_status_changed(
    request_id: int, at: datetime, payload: dict[str, Any]
) -> DomainEvent:
    return DomainEvent("refund_request.status_changed", f"refund_request:{request_id}", at, payload)


def refund_request_decided(request_id: int, at: datetime, payload: dict[str, Any]) -> DomainEvent:
    return DomainEvent("refund_request.decided", f"refund_request:{request_id}", at, payload)
