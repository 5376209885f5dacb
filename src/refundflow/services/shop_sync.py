"""Orders and refunds pushed by a shop (Shopify, WooCommerce), idempotent on the shop's ids.

- An order is stored under a number prefixed by its shop (``SHOPIFY-…``, ``WOO-…``), so two
  shops can never collide. A delivery older than the one already applied (by the shop's own
  ``updated_at``) is ignored, and one that would change nothing writes nothing.
- A refund the shop has made becomes a refund request that goes through the lifecycle at
  once — submitted by the shop, approved (returnless), executed and marked refunded by the
  system on the shop's word — so the order's refundable balance here stays what the shop
  says. The same refund id is recorded once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from refundflow.domain.actors import Actor, ActorKind
from refundflow.domain.balances import price_shop_refund
from refundflow.domain.errors import ConflictError
from refundflow.domain.lifecycle import RequestType
from refundflow.domain.permissions import Role
from refundflow.domain.requests import IntakeChannel, RefundRequest, RefundRoute, request_number
from refundflow.services.orders import UpsertOrder, build_order, store_order
from refundflow.services.parsing import parse_money, parse_text
from refundflow.services.unit_of_work import UnitOfWork, UnitOfWorkFactory
from refundflow.services.views import store_request

ORDER, REFUND = "order", "refund"
STALE = "stale"
SHOP_REFUND_REASON = "other"
SHOP_NAMES = {"shopify": "Shopify", "woocommerce": "WooCommerce"}


@dataclass(frozen=True, slots=True)
class RefundedLine:
    """Units of one order line; ``alias`` is the line's sku when the shop had the same sku
    on two lines of the order (the mapping then stores the later ones under an alias)."""

    sku: str
    quantity: int
    alias: str = ""


@dataclass(frozen=True, slots=True)
class ShopRefund:
    """A refund already paid out by the shop."""

    external_id: str
    amount: str
    lines: list[RefundedLine] = field(default_factory=list)
    include_shipping: bool = False
    returned: bool = False
    note: str = ""


@dataclass(frozen=True, slots=True)
class ShopOrder:
    source: str
    external_id: str
    updated_at: datetime | None
    order: UpsertOrder
    refunds: list[ShopRefund] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SyncResult:
    outcome: str
    order_no: str
    requests: list[str] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "order_no": self.order_no, "requests": self.requests}


def shop_actor(source: str) -> Actor:
    return Actor(ActorKind.INTEGRATION, Role.INTEGRATION, source, SHOP_NAMES.get(source, source))


def sync_shop_order(uows: UnitOfWorkFactory, shop_order: ShopOrder) -> SyncResult:
    """Store the shop's order (and the refunds it carries) in one transaction."""
    order = build_order(shop_order.order)
    source, external_id = shop_order.source, shop_order.external_id
    with uows() as uow:
        link = uow.external_refs.get(source, ORDER, external_id)
        known_at = link.source_updated_at if link else None
        if known_at and shop_order.updated_at and shop_order.updated_at < known_at:
            return SyncResult(STALE, order.order_no)
        outcome = store_order(uow, order)
        assert order.id is not None
        if link is None or (shop_order.updated_at and shop_order.updated_at != known_at):
            uow.external_refs.put(
                source, ORDER, external_id, order.id, shop_order.updated_at, uow.now()
            )
        numbers = []
        for refund in shop_order.refunds:
            number = _record_refund(uow, source, order.order_no, refund)
            if number is not None:
                numbers.append(number)
        if outcome == "unchanged" and numbers:
            outcome = "updated"
        uow.commit()
    return SyncResult(outcome, order.order_no, numbers)


def record_shop_refund(
    uows: UnitOfWorkFactory, source: str, order_no: str, refund: ShopRefund
) -> SyncResult:
    """Record one refund the shop made on ``order_no``; a repeat records nothing."""
    with uows() as uow:
        number = _record_refund(uow, source, order_no, refund)
        uow.commit()
    if number is None:
        return SyncResult("unchanged", order_no)
    return SyncResult("created", order_no, [number])


def _record_refund(uow: UnitOfWork, source: str, order_no: str, refund: ShopRefund) -> str | None:
    # The order's lock first: two deliveries of one refund at once then take turns, and the
    # second sees the first's record below (checked before the lock, both would record it).
    order = uow.orders.get(order_no, lock=True)
    if uow.external_refs.get(source, REFUND, refund.external_id) is not None:
        return None
    if order is None:
        raise ConflictError(
            f"order {order_no} has not been received yet; the shop will send the refund again",
            details={"order_no": order_no},
        )
    amount = parse_money(refund.amount, order.currency, "refund.amount")
    asked = [
        (line.alias if line.alias and order.line(line.alias) else line.sku, line.quantity)
        for line in refund.lines
    ]
    pricing = price_shop_refund(
        order,
        uow.orders.holds(order),
        asked,
        include_shipping=refund.include_shipping,
        amount=amount,
    )
    now = uow.now()
    shop = SHOP_NAMES.get(source, source)
    request_id = uow.requests.next_id()
    request = RefundRequest.submit(
        request_id=request_id,
        number=request_number(request_id, now.astimezone(uow.tz).date()),
        order=order,
        pricing=pricing,
        include_shipping=refund.include_shipping,
        type=RequestType.RETURN_AND_REFUND if refund.returned else RequestType.REFUND_ONLY,
        reason=SHOP_REFUND_REASON,
        description=parse_text(refund.note, "refund.note", limit=2000, required=False),
        refund_route=RefundRoute.ORIGINAL,
        intake_channel=IntakeChannel.API,
        actor=shop_actor(source),
        at=now,
    )
    system = Actor.system(shop)
    said = f"已在 {shop} 退款 / refunded in {shop} (#{refund.external_id})"
    request.approve(system, now, requires_return=False, reason=said)
    request.execute(system, now)
    request.mark_refunded(system, now, reference=f"{source}:{refund.external_id}")
    store_request(uow, request, new=True)
    uow.external_refs.put(source, REFUND, refund.external_id, request_id, None, now)
    return request.number
