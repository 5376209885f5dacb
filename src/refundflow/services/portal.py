"""The customer's own way in: a one-time code to the phone or e-mail on the order, then a
session that sees only that customer's orders and requests.

A lookup answers the same whether or not the order exists (and does the same work: a code
row is written either way), so the portal cannot be used to find out who bought what.
Codes are six digits, kept only as an HMAC under the shop's secret, single-use, valid ten
minutes and five tries; at most three codes are sent per order and contact in ten minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from refundflow.domain.actors import Actor, ActorKind
from refundflow.domain.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
)
from refundflow.domain.permissions import Role
from refundflow.services.notifications import Notifier, queue_login_code
from refundflow.services.unit_of_work import UnitOfWorkFactory

log = logging.getLogger("refundflow.portal")

CODES_PER_WINDOW = 3


def normalise_contact(contact: str) -> tuple[str, str]:
    """(kind, value): a phone number reduced to its digits (a leading +86 dropped), or a
    lower-cased e-mail address."""
    contact = contact.strip()
    if "@" in contact:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", contact) or len(contact) > 254:
            raise InvalidInputError(
                "enter the e-mail address or phone number on the order",
                details={"field": "contact"},
            )
        return "email", contact.lower()
    digits = re.sub(r"[\s\-()]", "", contact)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not re.fullmatch(r"\+?\d{5,20}", digits):
        raise InvalidInputError(
            "enter the e-mail address or phone number on the order", details={"field": "contact"}
        )
    return "phone", digits


def _identifier(order_no: str, contact: str) -> str:
    return hashlib.sha256(f"{order_no.strip()}\x1f{contact}".encode()).hexdigest()


def _code_hash(secret: bytes, identifier: str, code: str) -> str:
    return hmac.new(secret, f"{identifier}:{code}".encode(), hashlib.sha256).hexdigest()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _matches(stored: str | None, kind: str, value: str) -> bool:
    if not stored:
        return False
    try:
        stored_kind, stored_value = normalise_contact(stored)
    except InvalidInputError:
        return False
    return stored_kind == kind and stored_value == value


def request_code(
    uows: UnitOfWorkFactory,
    notifier: Notifier,
    order_no: str,
    contact: str,
    language: str = "zh-CN",
) -> None:
    """Send a one-time code if ``contact`` is on order ``order_no`` (SMS to a phone, e-mail
    to an address); answer nothing either way."""
    order_no = order_no.strip()[:64]
    kind, value = normalise_contact(contact)
    identifier = _identifier(order_no, value)
    with uows() as uow:
        now = uow.now()
        order = uow.orders.get(order_no) if order_no else None
        customer = order.customer if order is not None else None
        matched = customer is not None and _matches(
            customer.email if kind == "email" else customer.phone, kind, value
        )
        recent = uow.portal.codes_since(
            identifier, now - timedelta(minutes=uow.config.code_minutes)
        )
        code = f"{secrets.randbelow(10**6):06d}"
        uow.portal.add_code(
            identifier=identifier,
            customer_id=customer.id if matched and customer else None,
            order_id=order.id if matched and order else None,
            code_hash=_code_hash(uow.config.secret, identifier, code),
            channel="email" if kind == "email" else "sms",
            at=now,
            expires_at=now + timedelta(minutes=uow.config.code_minutes),
        )
        if matched and recent < CODES_PER_WINDOW:
            assert customer is not None and customer.id is not None
            try:  # the code's message commits with the code, and is sent by the worker
                queue_login_code(
                    uow,
                    notifier,
                    contact=value,
                    code=code,
                    language=language,
                    customer_id=customer.id,
                )
            except (ConflictError, InvalidInputError) as exc:
                # No channel for this contact: the answer stays the same for everyone.
                log.warning("login code not sent: %s", exc.message)
        uow.commit()


def verify_code(uows: UnitOfWorkFactory, order_no: str, contact: str, code: str) -> str:
    """A portal session token for the customer, or AuthenticationError (every wrong try
    counts; after five the code is dead)."""
    _, value = normalise_contact(contact)
    identifier = _identifier(order_no.strip()[:64], value)
    refused = AuthenticationError("that code is wrong or has expired: ask for a new one")
    with uows() as uow:
        now = uow.now()
        stored = uow.portal.latest_code(identifier, now)
        if stored is None:
            raise refused
        if stored.attempts >= uow.config.code_attempts:
            raise AuthenticationError("too many tries: ask for a new code")
        expected = _code_hash(uow.config.secret, identifier, code.strip())
        if stored.customer_id is None or not hmac.compare_digest(expected, stored.code_hash):
            uow.portal.count_attempt(stored.id)
            uow.commit()
            raise refused
        uow.portal.use_code(stored.id, now)
        token = "rfc_" + secrets.token_urlsafe(32)
        uow.portal.add_session(
            _token_hash(token),
            stored.customer_id,
            now,
            now + timedelta(hours=uow.config.portal_session_hours),
        )
        uow.commit()
    return token


@dataclass(frozen=True, slots=True)
class _Cached:
    actor: Actor | None
    expires: float


class PortalAuthenticator:
    """A portal token → the customer it belongs to (cached 30 s)."""

    def __init__(self, uows: UnitOfWorkFactory, *, ttl: float = 30.0) -> None:
        self._uows = uows
        self._ttl = ttl
        self._cache: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    def authenticate(self, token: str | None) -> Actor:
        if not token:
            raise AuthenticationError("sign in with the code sent to you")
        now = time.monotonic()
        cached = self._cache.get(token)
        if cached is None or cached.expires < now:
            with self._uows(write=False) as uow:
                session = uow.portal.session(_token_hash(token), uow.now())
            actor = None
            if session is not None:
                customer_id, name = session
                actor = Actor(ActorKind.CUSTOMER, Role.CUSTOMER, str(customer_id), name)
            cached = _Cached(actor, now + self._ttl)
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[token] = cached
        if cached.actor is None:
            raise AuthenticationError("your session has ended: sign in again")
        return cached.actor

    def forget(self, token: str) -> None:
        self._cache.pop(token, None)


def sign_out(uows: UnitOfWorkFactory, token: str) -> None:
    with uows() as uow:
        uow.portal.revoke_session(_token_hash(token), uow.now())
        uow.commit()


def customer_id(actor: Actor) -> int:
    if actor.role is not Role.CUSTOMER or actor.id is None:
        raise NotFoundError("not found")
    return int(actor.id)


def customer_view(document: dict[str, Any]) -> dict[str, Any]:
    """A request as its customer sees it: no staff reasoning, no staff identities."""
    view = dict(document)
    decision = view.get("decision")
    if decision:
        view["decision"] = {
            "outcome": decision["outcome"],
            "explanation": decision["explanation_customer"],
            "offer": decision.get("offer") or {},
        }
    view["timeline"] = [
        {
            **event,
            "actor": {
                "kind": event["actor"]["kind"],
                "name": event["actor"]["name"]
                if event["actor"]["kind"] in ("customer", "policy", "system")
                else "",
            },
            "data": {
                k: v
                for k, v in event["data"].items()
                if k in ("carrier", "tracking_no", "amount_approved", "result", "reference")
            },
        }
        for event in view.get("timeline", [])
        if event["action"] not in ("escalate", "complaint", "compensate", "root-cause")
    ]
    step = view.get("next_step")
    if step:
        view["next_step"] = {"queue": step["queue"], "step": step["step"], "due_at": step["due_at"]}
    for key in (
        "customer_id",
        "finance_approval",
        "root_cause",
        "priority",
        "fast_track",
        "customer_tier",
        "channel",
        "intake_channel",
    ):
        view.pop(key, None)
    return view
