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

from refundflow.domain.actors import Actor, ActorKind
from refundflow.domain.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from refundflow.domain.permissions import Operation, Role, may
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
