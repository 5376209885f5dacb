"""Webhook subscriptions as use cases: subscribe, change, rotate the secret, read the
delivery log, replay a delivery. Managers (and admins) only."""

from __future__ import annotations

import secrets as random_secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from refundflow.domain.actors import Actor
from refundflow.domain.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from refundflow.domain.permissions import Operation, may
from refundflow.domain.webhooks import (
    RETRY_WINDOW,
    DeliveryStatus,
    Subscription,
    check_events,
    check_secret,
    check_url,
)
from refundflow.services.parsing import parse_text
from refundflow.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
MAX_PAGE = 200


def new_secret() -> str:
    return SECRET_PREFIX + random_secrets.token_urlsafe(32)


def _allowed(actor: Actor) -> None:
    if not may(actor.role, Operation.MANAGE_WEBHOOKS):
        raise PermissionDeniedError(
            f"the {actor.role.value} role cannot manage webhook subscriptions"
        )


def subscription_view(sub: Subscription, *, secret: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": sub.id,
        "url": sub.url,
        "events": sub.events,
        "description": sub.description,
        "active": sub.active,
        "secret_hint": "…" + sub.secret[-4:],
        "previous_secret_expires_at": sub.previous_secret_expires_at.isoformat()
        if sub.previous_secret_expires_at
        else None,
        "created_at": sub.created_at.isoformat() if sub.created_at else None,
        "updated_at": sub.updated_at.isoformat() if sub.updated_at else None,
    }
    if secret:
        view["secret"] = sub.secret
    return view


@dataclass(frozen=True, slots=True)
class SubscriptionInput:
    url: str | None = None
    events: list[str] | None = None
    description: str | None = None
    secret: str | None = None
    active: bool | None = None


def _load(uow: UnitOfWork, subscription_id: int) -> Subscription:
    sub = uow.webhooks.subscription(subscription_id)
    if sub is None:
        raise NotFoundError(
            f"no webhook subscription {subscription_id}", details={"id": subscription_id}
        )
    return sub


def create_subscription(
    uows: UnitOfWorkFactory, actor: Actor, data: SubscriptionInput
) -> dict[str, Any]:
    """Subscribe a URL to event types. The secret (given, or generated) is shown only in
    this answer and in the answer to a rotation."""
    _allowed(actor)
    if data.url is None or data.events is None:
        raise InvalidInputError("url and events are required", details={"field": "url"})
    sub = Subscription(
        id=None,
        url=check_url(data.url),
        events=check_events(data.events),
        description=parse_text(data.description, "description", limit=200, required=False),
        secret=check_secret(data.secret) if data.secret is not None else new_secret(),
        active=True if data.active is None else data.active,
    )
    with uows() as uow:
        sub.created_at = sub.updated_at = uow.now()
        sub.id = uow.webhooks.add_subscription(sub, actor.id)
        uow.commit()
    return subscription_view(sub, secret=True)


def update_subscription(
    uows: UnitOfWorkFactory, actor: Actor, subscription_id: int, data: SubscriptionInput
) -> dict[str, Any]:
    _allowed(actor)
    if data.secret is not None:
        raise InvalidInputError(
            "change the secret with POST …/rotate-secret, so the old one keeps working "
            "while the receiver switches",
            details={"field": "secret"},
        )
    with uows() as uow:
        sub = _load(uow, subscription_id)
        if data.url is not None:
            sub.url = check_url(data.url)
        if data.events is not None:
            sub.events = check_events(data.events)
        if data.description is not None:
            sub.description = parse_text(data.description, "description", limit=200)
        if data.active is not None:
            sub.active = data.active
        sub.updated_at = uow.now()
        uow.webhooks.save_subscription(sub)
        uow.commit()
    return subscription_view(sub)


def rotate_secret(
    uows: UnitOfWorkFactory,
    actor: Actor,
    subscription_id: int,
    *,
    secret: str | None = None,
    overlap_hours: int = 24,
) -> dict[str, Any]:
    """A new signing secret; the old one stays valid for ``overlap_hours`` and meanwhile
    every delivery carries a signature for each, so the receiver can switch at any time."""
    _allowed(actor)
    with uows() as uow:
        sub = _load(uow, subscription_id)
        sub.rotate(secret or new_secret(), uow.now(), timedelta(hours=overlap_hours))
        uow.webhooks.save_subscription(sub)
        uow.commit()
    return subscription_view(sub, secret=True)


def get_subscription(uows: UnitOfWorkFactory, actor: Actor, subscription_id: int) -> dict[str, Any]:
    _allowed(actor)
    with uows(write=False) as uow:
        return subscription_view(_load(uow, subscription_id))


def list_subscriptions(uows: UnitOfWorkFactory, actor: Actor) -> list[dict[str, Any]]:
    _allowed(actor)
    with uows(write=False) as uow:
        return [subscription_view(sub) for sub in uow.webhooks.subscriptions()]


def list_deliveries(
    uows: UnitOfWorkFactory,
    actor: Actor,
    subscription_id: int,
    *,
    status: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], int | None]:
    """The delivery log of one subscription, newest first, with the last attempt's status
    code, latency and response excerpt; and the cursor of the next page."""
    _allowed(actor)
    if status is not None and status not in {s.value for s in DeliveryStatus}:
        raise InvalidInputError(
            "status must be pending, delivered or failed", details={"field": "status"}
        )
    limit = max(1, min(limit, MAX_PAGE))
    with uows(write=False) as uow:
        _load(uow, subscription_id)
        rows = uow.webhooks.deliveries(
            subscription_id, status=status, before_id=before_id, limit=limit + 1
        )
    page = rows[:limit]
    return [d.view() for d in page], (page[-1].id if len(rows) > limit else None)


def get_delivery(uows: UnitOfWorkFactory, actor: Actor, delivery_id: int) -> dict[str, Any]:
    """One delivery with every attempt and the exact body that was sent."""
    _allowed(actor)
    with uows(write=False) as uow:
        delivery = uow.webhooks.delivery(delivery_id)
        if delivery is None:
            raise NotFoundError(f"no webhook delivery {delivery_id}", details={"id": delivery_id})
        attempts = uow.webhooks.attempts(delivery_id)
    return {
        **delivery.view(),
        "body": delivery.body,
        "attempt_log": [a.view() for a in attempts],
    }


def replay_delivery(uows: UnitOfWorkFactory, actor: Actor, delivery_id: int) -> dict[str, Any]:
    """Send a delivery again, whatever its status: the same event (same id and body, so
    receivers can tell it is a repeat), retried for another 24 hours if it fails."""
    _allowed(actor)
    with uows() as uow:
        delivery = uow.webhooks.delivery(delivery_id, lock=True)
        if delivery is None:
            raise NotFoundError(f"no webhook delivery {delivery_id}", details={"id": delivery_id})
        now = uow.now()
        uow.webhooks.replay(delivery_id, now, now + RETRY_WINDOW)
        uow.commit()
    return get_delivery(uows, actor, delivery_id)
