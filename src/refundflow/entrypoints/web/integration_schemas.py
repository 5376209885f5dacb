"""Request and response shapes of the integration endpoints: webhook subscriptions and
their deliveries, order batches."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubscriptionCreate(Strict):
    url: str = Field(max_length=2000, examples=["https://erp.example.cn/hooks/refundflow"])
    events: list[str] = Field(
        min_length=1,
        max_length=100,
        examples=[["refund_request.created", "refund_request.status_changed"]],
        description="event types from GET /api/v1/events/schema, or ['*'] for all",
    )
    description: str = Field("", max_length=200)
    secret: str | None = Field(
        None, min_length=24, max_length=128, description="omit to have one generated"
    )


class SubscriptionUpdate(Strict):
    url: str | None = Field(None, max_length=2000)
    events: list[str] | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=200)
    active: bool | None = None


class SecretRotation(Strict):
    secret: str | None = Field(None, min_length=24, max_length=128)
    overlap_hours: int = Field(
        24, ge=0, le=168, description="how long the old secret still signs deliveries"
    )


class SubscriptionPublic(BaseModel):
    id: int
    url: str
    events: list[str]
    description: str
    active: bool
    secret_hint: str
    previous_secret_expires_at: str | None
    created_at: str | None
    updated_at: str | None
    secret: str | None = Field(None, description="only when created or rotated")


class DeliveryPublic(BaseModel):
    id: int
    subscription_id: int
    event_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: str | None
    expires_at: str
    last_status_code: int | None
    last_error: str | None
    last_latency_ms: int | None
    last_response_excerpt: str | None
    created_at: str
    delivered_at: str | None


class DeliveryPage(BaseModel):
    items: list[DeliveryPublic]
    next_cursor: str | None


class AttemptPublic(BaseModel):
    attempt: int
    started_at: str
    status_code: int | None
    latency_ms: int
    response_excerpt: str | None
    error: str | None
    outcome: str


class DeliveryDetail(DeliveryPublic):
    body: str
    attempt_log: list[AttemptPublic]


class OrderBatch(Strict):
    orders: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=1000,
        description="up to 1,000 orders, each shaped as for POST /api/v1/orders",
    )


class BatchItemResult(BaseModel):
    index: int
    order_no: str | None
    status: str = Field(description="created, updated, unchanged or failed")
    error: dict[str, Any] | None = None


class OrderBatchResult(BaseModel):
    created: int
    updated: int
    unchanged: int
    failed: int
    results: list[BatchItemResult]
