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
from refundflow.domain.orders import Order
from refundflow.domain.permissions import Operation, Role, may
from refundflow.domain.requests import (
    ExchangeTarget,
    IntakeChannel,
    RefundRequest,
    RefundRoute,
    request_number,
)
from refundflow.services.parsing import parse_enum, parse_money, parse_quantity, parse_text
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
    amount: str | None = None  # goodwill: money back without goods (no lines)
    exchange_sku: str | None = None
    exchange_name: str | None = None
    exchange_price: str | None = None  # per unit

    def fingerprint(self) -> str:
        canonical = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Submitted:
    view: dict[str, Any]
    replayed: bool


def owns(actor: Actor, customer_id: int | None) -> bool:
    """Staff see every customer; a customer (portal session) only themselves. A customer
    asking for someone else's object is told it does not exist."""
    return actor.role is not Role.CUSTOMER or actor.id == str(customer_id)


def finance_threshold(uow: UnitOfWork, request: RefundRequest) -> Money:
    """Above this, a refund needs a second, finance approval (in the request's currency)."""
    return Money.rounded(uow.config.finance_approval_above, request.currency)


def _replacement_price(
    order: Order, cmd: SubmitRefundRequest, asked: list[tuple[str, int]]
) -> Money:
    """The replacement's unit price: as given, else the returned line's (a like-for-like swap
    of size or colour)."""
    if cmd.exchange_price is not None:
        return parse_money(cmd.exchange_price, order.currency, "exchange_price")
    line = order.line(asked[0][0]) if asked else None
    if line is None:
        raise InvalidInputError("an exchange names the line it swaps", details={"field": "lines"})
    return line.net.share(1, line.quantity)


def refund_difference(uow: UnitOfWork, exchange: RefundRequest) -> RefundRequest | None:
    """When an exchange's replacement ships and cost less than what came back, the
    difference goes back to the customer as a refund of its own (approved by the system,
    bounded by the order's refundable money like any refund)."""
    difference = exchange.exchange_difference
    if difference is None or not difference.amount > 0:
        return None
    order = uow.orders.get_by_id(exchange.order_id, lock=True)
    assert order is not None
    now = uow.now()
    pricing = price_request(
        order,
        uow.orders.holds(order),
        [],
        include_shipping=False,
        moves_money=True,
        goodwill=difference,
    )
    request_id = uow.requests.next_id()
    system = Actor.system("exchange")
    child = RefundRequest.submit(
        request_id=request_id,
        number=request_number(request_id, now.astimezone(uow.tz).date()),
        order=order,
        pricing=pricing,
        include_shipping=False,
        type=RequestType.REFUND_ONLY,
        reason=exchange.reason,
        description=f"换货差价退款 / price difference of exchange {exchange.number}",
        refund_route=exchange.refund_route,
        intake_channel=exchange.intake_channel,
        actor=system,
        at=now,
        language=exchange.language,
        parent_id=exchange.id,
    )
    child.approve(
        system,
        now,
        requires_return=False,
        reason="换货差价 / exchange price difference",
        finance_above=finance_threshold(uow, child),
    )
    store_request(uow, child, new=True)
    return child


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
        if order is None or not owns(actor, order.customer.id):
            raise NotFoundError(f"no order {cmd.order_no}", details={"order_no": cmd.order_no})
        goodwill = None
        if cmd.amount is not None:
            if request_type is not RequestType.REFUND_ONLY:
                raise InvalidInputError(
                    "a goodwill amount goes with type refund_only", details={"field": "amount"}
                )
            goodwill = parse_money(cmd.amount, order.currency, "amount")
        exchange = None
        if cmd.exchange_sku is not None or request_type is RequestType.EXCHANGE:
            exchange = ExchangeTarget(
                sku=parse_text(
                    cmd.exchange_sku or (asked[0][0] if asked else ""), "exchange_sku", limit=64
                ),
                name=parse_text(
                    cmd.exchange_name or "", "exchange_name", limit=200, required=False
                ),
                unit_price=_replacement_price(order, cmd, asked),
            )
        pricing = price_request(
            order,
            uow.orders.holds(order),
            asked,
            include_shipping=cmd.include_shipping,
            moves_money=request_type is not RequestType.EXCHANGE,
            goodwill=goodwill,
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
            exchange=exchange,
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
