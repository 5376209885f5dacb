"""Intake: a customer, an agent or an integration asks for a refund."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from refundflow.domain.actors import Actor
from refundflow.domain.balances import price_request
from refundflow.domain.errors import (
    IdempotencyKeyReusedError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from refundflow.domain.lifecycle import RequestType
from refundflow.domain.money import Money
from refundflow.domain.permissions import Operation, may
from refundflow.domain.requests import IntakeChannel, RefundRequest, RefundRoute, request_number
from refundflow.services.parsing import parse_enum, parse_quantity, parse_text
from refundflow.services.policies import decide
from refundflow.services.unit_of_work import UnitOfWork, UnitOfWorkFactory
from refundflow.services.views import store_request


@dataclass(frozen=True, slots=True)
class SubmitRefundRequest:
    order_no: str
    type: str
    reason: str
    lines: list[tuple[str, int]] = field(default_factory=list)
    description: str = ""
    include_shipping: bool = False
    refund_route: str = "original"
    intake_channel: str = "api"
    language: str = "zh-CN"

    def fingerprint(self) -> str:
        canonical = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Submitted:
    view: dict[str, Any]
    replayed: bool


def finance_threshold(uow: UnitOfWork, request: RefundRequest) -> Money:
    """Above this, a refund needs a second, finance approval (in the request's currency)."""
    return Money.rounded(uow.config.finance_approval_above, request.currency)


def _scope(actor: Actor) -> str:
    return f"{actor.kind.value}:{actor.id}"


def submit_refund_request(
    uows: UnitOfWorkFactory,
    cmd: SubmitRefundRequest,
    actor: Actor,
    *,
    idempotency_key: str | None = None,
) -> Submitted:
    """Store a new request in ``pending_review`` after checking it against the order's
    refundable balance under the order's lock.

    With an ``idempotency_key``, a retry of the same call returns the first response and
    creates nothing; the same key with another body is refused.
    """
    if not may(actor.role, Operation.CREATE_REQUEST):
        raise PermissionDeniedError(f"the {actor.role.value} role cannot create refund requests")
    request_type = parse_enum(RequestType, cmd.type, "type")
    route = parse_enum(RefundRoute, cmd.refund_route, "refund_route")
    channel = parse_enum(IntakeChannel, cmd.intake_channel, "intake_channel")
    description = parse_text(cmd.description, "description", limit=2000, required=False)
    asked = [
        (parse_text(sku, f"lines[{i}].sku", limit=64), parse_quantity(qty, f"lines[{i}].quantity"))
        for i, (sku, qty) in enumerate(cmd.lines)
    ]
    if idempotency_key is not None:
        idempotency_key = parse_text(idempotency_key, "Idempotency-Key", limit=255)
    with uows() as uow:
        now = uow.now()
        if idempotency_key is not None:
            stored = uow.idempotency.claim(_scope(actor), idempotency_key, cmd.fingerprint(), now)
            if stored is not None:
                if stored.fingerprint != cmd.fingerprint():
                    raise IdempotencyKeyReusedError(
                        "this Idempotency-Key was used for a different request body; "
                        "use a new key for a new request",
                        details={"idempotency_key": idempotency_key},
                    )
                assert stored.body is not None
                return Submitted(json.loads(stored.body), replayed=True)
        reason = uow.reasons.get(cmd.reason)
        if reason is None or not reason.active:
            codes = ", ".join(r.code for r in uow.reasons.all() if r.active)
            raise InvalidInputError(
                f"reason {cmd.reason!r} is not a reason code; use one of {codes}",
                details={"field": "reason"},
            )
        order = uow.orders.get(cmd.order_no, lock=True)
        if order is None:
            raise NotFoundError(f"no order {cmd.order_no}", details={"order_no": cmd.order_no})
        pricing = price_request(
            order,
            uow.orders.holds(order),
            asked,
            include_shipping=cmd.include_shipping,
            moves_money=request_type is not RequestType.EXCHANGE,
        )
        request_id = uow.requests.next_id()
        request = RefundRequest.submit(
            request_id=request_id,
            number=request_number(request_id, now.astimezone(uow.tz).date()),
            order=order,
            pricing=pricing,
            include_shipping=cmd.include_shipping,
            type=request_type,
            reason=reason.code,
            description=description,
            refund_route=route,
            intake_channel=channel,
            actor=actor,
            at=now,
            language=cmd.language,
        )
        request.apply_decision(
            decide(uow, request, order), now, finance_above=finance_threshold(uow, request)
        )
        view = store_request(uow, request, new=True)
        if idempotency_key is not None:
            uow.idempotency.complete(
                _scope(actor), idempotency_key, 201, json.dumps(view, ensure_ascii=False)
            )
        uow.commit()
    return Submitted(view, replayed=False)
