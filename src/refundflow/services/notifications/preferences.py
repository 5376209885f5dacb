"""A customer's notification preferences: which channels, which language, which contacts.

Without stored preferences a customer gets every configured channel, in the language of
their request, at the email and phone on their orders (messages about their own refund are
service messages, not marketing). Contacts given here are validated and stored normalised
(E.164 mobile numbers, normalised emails); an empty one means "the contact on my orders".
Staff (cs, manager, admin) and the merchant's integration may read and change them; a
customer only their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from refundflow.domain.actors import Actor, ActorKind
from refundflow.domain.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from refundflow.domain.notifications import SUBSCRIPTION_CHANNELS
from refundflow.domain.permissions import Operation, Role, may
from refundflow.services import audit
from refundflow.services.notifications.contacts import normalise_email, normalise_phone
from refundflow.services.notifications.ports import Preferences
from refundflow.services.notifications.wording import LANGUAGES
from refundflow.services.unit_of_work import UnitOfWork, UnitOfWorkFactory


def _check(actor: Actor, customer_id: int) -> None:
    if not may(actor.role, Operation.CUSTOMER_PREFERENCES):
        raise PermissionDeniedError(f"the {actor.role.value} role cannot see preferences")
    if actor.role is Role.CUSTOMER and (
        actor.kind is not ActorKind.CUSTOMER or actor.id != str(customer_id)
    ):
        raise NotFoundError(f"no customer {customer_id}", details={"customer_id": customer_id})


def _view(uow: UnitOfWork, prefs: Preferences) -> dict[str, Any]:
    contact = uow.notifications.customer(prefs.customer_id)
    assert contact is not None
    return {
        "customer_id": prefs.customer_id,
        "language": prefs.language,
        "email": prefs.email,
        "sms": prefs.sms,
        "push": prefs.push,
        "contact_email": prefs.contact_email,
        "contact_phone": prefs.contact_phone,
        "order_contact": {"email": contact.email, "phone": contact.phone},
        "push_subscriptions": [
            {"id": s.id, "kind": s.kind} for s in uow.notifications.subscriptions(contact.id)
        ],
        "stored": prefs.stored,
        "updated_at": prefs.updated_at.isoformat() if prefs.updated_at else None,
    }


def _load(uow: UnitOfWork, customer_id: int) -> Preferences:
    if uow.notifications.customer(customer_id) is None:
        raise NotFoundError(f"no customer {customer_id}", details={"customer_id": customer_id})
    return uow.notifications.preferences(customer_id) or Preferences(customer_id)


def get_preferences(uows: UnitOfWorkFactory, actor: Actor, customer_id: int) -> dict[str, Any]:
    _check(actor, customer_id)
    with uows(write=False) as uow:
        return _view(uow, _load(uow, customer_id))


def _contact(value: Any, field: str) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise InvalidInputError(f"{field} is a string", details={"field": field})
    if field == "contact_email":
        return normalise_email(value, field)
    return normalise_phone(value, field, mobile=True)


def put_preferences(
    uows: UnitOfWorkFactory, actor: Actor, customer_id: int, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """Change the fields given (the others keep their value)."""
    _check(actor, customer_id)
    updates: dict[str, Any] = {}
    if "language" in changes:
        if changes["language"] not in LANGUAGES:
            raise InvalidInputError(
                f"language is one of {', '.join(LANGUAGES)}", details={"field": "language"}
            )
        updates["language"] = changes["language"]
    for channel in ("email", "sms", "push"):
        if channel in changes:
            if not isinstance(changes[channel], bool):
                raise InvalidInputError(f"{channel} is true or false", details={"field": channel})
            updates[channel] = changes[channel]
    for field in ("contact_email", "contact_phone"):
        if field in changes:
            updates[field] = _contact(changes[field], field)
    with uows() as uow:
        prefs = replace(_load(uow, customer_id), **updates)
        now = uow.now()
        uow.notifications.put_preferences(prefs, now)
        view = _view(uow, replace(prefs, stored=True, updated_at=now))
        uow.commit()
    return view


# ---- push subscriptions: a browser's Web Push subscription from the portal, or the
# merchant's app (``app``: the app backend's device/user token) and FCM registration tokens
# handed in by the integration.

_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


def _webpush_endpoint(endpoint: str) -> None:
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    secure = parts.scheme == "https" or (parts.scheme == "http" and host in _LOOPBACK[:2])
    if not secure or not host:
        raise InvalidInputError(
            "endpoint is the push service's https URL from PushSubscription.endpoint",
            details={"field": "endpoint"},
        )


def _webpush_keys(keys: Mapping[str, Any]) -> dict[str, str]:
    clean: dict[str, str] = {}
    for name, longest in (("p256dh", 200), ("auth", 64)):
        value = keys.get(name)
        if not isinstance(value, str) or not value or len(value) > longest:
            raise InvalidInputError(
                f"keys.{name} is the base64url text from PushSubscription.toJSON()",
                details={"field": f"keys.{name}"},
            )
        if not set(value) <= _B64URL:
            raise InvalidInputError(
                f"keys.{name} is not base64url", details={"field": f"keys.{name}"}
            )
        clean[name] = value
    return clean


def subscribe_push(
    uows: UnitOfWorkFactory,
    actor: Actor,
    customer_id: int,
    kind: str,
    endpoint: str,
    keys: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Store where push messages for a customer go; the same endpoint twice is one row."""
    _check(actor, customer_id)
    if kind not in SUBSCRIPTION_CHANNELS:
        raise InvalidInputError(
            f"kind is one of {', '.join(sorted(SUBSCRIPTION_CHANNELS))}", details={"field": "kind"}
        )
    endpoint = endpoint.strip()
    if not endpoint or len(endpoint) > 2000:
        raise InvalidInputError("endpoint is 1–2000 characters", details={"field": "endpoint"})
    stored: dict[str, str] = {}
    if kind == "webpush":
        _webpush_endpoint(endpoint)
        stored = _webpush_keys(keys or {})
    with uows() as uow:
        _load(uow, customer_id)
        subscription_id = uow.notifications.add_subscription(
            customer_id, kind, endpoint, stored, uow.now()
        )
        audit.record(
            uow,
            actor,
            "push.subscribed",
            f"customer:{customer_id}",
            {"subscription": subscription_id, "kind": kind},
        )
        uow.commit()
    return {"id": subscription_id, "customer_id": customer_id, "kind": kind}


def unsubscribe_push(
    uows: UnitOfWorkFactory,
    actor: Actor,
    customer_id: int,
    subscription_id: int | None = None,
    endpoint: str | None = None,
) -> None:
    """Stop pushing to one subscription (by id, or by the endpoint a browser knows)."""
    _check(actor, customer_id)
    with uows() as uow:
        _load(uow, customer_id)
        found = [
            s
            for s in uow.notifications.subscriptions(customer_id)
            if s.id == subscription_id or (endpoint is not None and s.endpoint == endpoint)
        ]
        if not found:
            raise NotFoundError(
                "no such push subscription", details={"subscription_id": subscription_id}
            )
        for s in found:
            uow.notifications.revoke_subscription(s.id, uow.now())
            audit.record(
                uow, actor, "push.unsubscribed", f"customer:{customer_id}", {"subscription": s.id}
            )
        uow.commit()
