"""Lifecycle actions on a refund request: approve, reject, ship back, receive, inspect, pay out.

``perform`` is the one entry for every action: it checks the caller's role, loads the request
under its row lock, lets the aggregate make the move (which checks the transition table) and
saves the change, its timeline event and its outbox event in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from refundflow.domain.actors import Actor, needs_step_up
from refundflow.domain.balances import price_request
from refundflow.domain.errors import (
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    StepUpRequiredError,
)
from refundflow.domain.inspection import parse_grades
from refundflow.domain.lifecycle import Action
from refundflow.domain.payouts import PayoutRoute
from refundflow.domain.permissions import may, roles_for
from refundflow.domain.requests import RefundRequest
from refundflow.services.intake import finance_threshold, owns, refund_difference
from refundflow.services.parsing import parse_enum, parse_money, parse_text, parse_time
from refundflow.services.payouts import execution as payouts
from refundflow.services.payouts.execution import PayoutOptions
from refundflow.services.unit_of_work import UnitOfWork, UnitOfWorkFactory
from refundflow.services.views import store_request


@dataclass(frozen=True, slots=True)
class ActionInput:
    """What an action may carry; each action reads the fields it needs."""

    reason: str | None = None
    note: str | None = None
    amount: str | None = None
    requires_return: bool | None = None
    carrier: str | None = None
    tracking_no: str | None = None
    result: str | None = None
    reference: str | None = None
    grades: list[tuple[str, str, str | None]] | None = None  # inspect: (sku, A|B|C, note)
    percent: int | None = None  # approve: keep the item, refund this share
    delivered_at: datetime | None = None
    route: str | None = None  # retry: another payout route for the failed refunds
    account_name: str | None = None  # bank transfer: the customer's account
    bank_name: str | None = None
    account_no: str | None = None

    def payout_account(self) -> dict[str, str] | None:
        if not (self.account_name or self.account_no):
            return None
        return {
            "account_name": parse_text(self.account_name, "account_name", limit=100),
            "bank_name": parse_text(self.bank_name, "bank_name", limit=100, required=False),
            "account_no": parse_text(self.account_no, "account_no", limit=40),
        }


Handler = Callable[[UnitOfWork, RefundRequest, Actor, ActionInput], None]


def _approve(uow: UnitOfWork, request: RefundRequest, actor: Actor, data: ActionInput) -> None:
    amount = None
    if data.amount is not None and data.percent is not None:
        raise InvalidInputError("give amount or percent, not both", details={"field": "percent"})
    if data.amount is not None:
        amount = parse_money(data.amount, request.currency, "amount")
    if data.percent is not None:
        if not 0 < data.percent <= 100:
            raise InvalidInputError("percent is from 1 to 100", details={"field": "percent"})
        # Keep the item, refund a share of it (部分退款): no return needed.
        amount = request.amount_requested.share(data.percent, 100)
    requires_return = data.requires_return
    if data.percent is not None and requires_return is None:
        requires_return = False
    request.approve(
        actor,
        uow.now(),
        amount=amount,
        requires_return=requires_return,
        reason=data.reason,
        finance_above=finance_threshold(uow, request),
    )


def _inspect(uow: UnitOfWork, request: RefundRequest, actor: Actor, data: ActionInput) -> None:
    if data.result not in ("pass", "fail"):
        raise InvalidInputError(
            "inspect needs result 'pass' or 'fail'", details={"field": "result"}
        )
    grades = None
    if data.grades is not None:
        grades = parse_grades(data.grades, [line.sku for line in request.lines])
    request.inspect(
        actor,
        uow.now(),
        passed=data.result == "pass",
        note=data.note,
        grades=grades,
        rules=uow.config.inspection,
    )


def _ship_replacement(
    uow: UnitOfWork, request: RefundRequest, actor: Actor, data: ActionInput
) -> None:
    request.ship_replacement(actor, uow.now(), carrier=data.carrier, tracking_no=data.tracking_no)
    child = refund_difference(uow, request)
    if child is not None:
        request.note(
            "difference-refund",
            actor,
            uow.now(),
            None,
            refund_request_id=child.id,
            number=child.number,
            amount=child.amount_requested.text(),
        )


def _appeal(uow: UnitOfWork, request: RefundRequest, actor: Actor, data: ActionInput) -> None:
    """An appeal brings a released request back, so it must fit the balance again."""
    request.appeal(actor, uow.now(), reason=data.reason)
    order = uow.orders.get_by_id(request.order_id, lock=True)
    assert order is not None
    price_request(
        order,
        uow.orders.holds(order),
        [(line.sku, line.quantity) for line in request.lines],
        include_shipping=request.include_shipping,
        moves_money=request.moves_money,
    )


HANDLERS: dict[Action, Handler] = {
    Action.APPROVE: _approve,
    Action.REJECT: lambda uow, r, a, d: r.reject(a, uow.now(), reason=d.reason),
    Action.CANCEL: lambda uow, r, a, d: r.cancel(a, uow.now(), reason=d.reason),
    Action.RETURN_SHIPMENT: lambda uow, r, a, d: r.record_return_shipment(
        a, uow.now(), carrier=d.carrier, tracking_no=d.tracking_no
    ),
    Action.RECEIVE: lambda uow, r, a, d: r.receive(a, uow.now(), note=d.note),
    Action.INSPECT: _inspect,
    Action.SHIP_REPLACEMENT: _ship_replacement,
    Action.APPEAL: _appeal,
    Action.FINANCE_APPROVE: lambda uow, r, a, d: r.finance_approve(a, uow.now(), note=d.note),
    Action.CARRIER_DELIVERED: lambda uow, r, a, d: r.carrier_delivered(
        a, uow.now(), delivered_at=parse_time(d.delivered_at, "delivered_at") or uow.now()
    ),
}


PayoutHandler = Callable[[UnitOfWork, RefundRequest, Actor, ActionInput, PayoutOptions], None]


def _execute(
    uow: UnitOfWork, r: RefundRequest, a: Actor, d: ActionInput, options: PayoutOptions
) -> None:
    payouts.execute(uow, r, a, options, d.payout_account())


def _retry(
    uow: UnitOfWork, r: RefundRequest, a: Actor, d: ActionInput, options: PayoutOptions
) -> None:
    route = parse_enum(PayoutRoute, d.route, "route") if d.route is not None else None
    payouts.retry(uow, r, a, options, route=route, reason=d.reason, account=d.payout_account())


# Money actions go through the payout use cases (services/payouts/execution.py).
PAYOUT_HANDLERS: dict[Action, PayoutHandler] = {
    Action.EXECUTE: _execute,
    Action.RETRY: _retry,
    Action.MARK_REFUNDED: lambda uow, r, a, d, o: payouts.mark_refunded(uow, r, a, d.reference),
    Action.MARK_FAILED: lambda uow, r, a, d, o: payouts.mark_failed(uow, r, a, d.reason),
}


def _check_step_up(
    uow: UnitOfWork, request: RefundRequest, action: Action, actor: Actor, data: ActionInput
) -> None:
    """A person approving a refund above the finance threshold, or giving bank details for
    a payout, confirms their password first (``staff_auth.step_up``)."""
    if not needs_step_up(actor, uow.now()):
        return
    if data.payout_account() is not None:
        raise StepUpRequiredError(
            "confirm your password again before giving bank details",
            details={"action": action.value},
        )
    threshold = finance_threshold(uow, request)
    large = request.amount_requested > threshold
    if action is Action.FINANCE_APPROVE or (action is Action.APPROVE and large):
        raise StepUpRequiredError(
            "confirm your password again to approve a refund above the finance threshold",
            details={"action": action.value, "threshold": threshold.text()},
        )


def load_request(uow: UnitOfWork, ref: str, *, lock: bool = False) -> RefundRequest:
    """Find a request by its id (``123``) or its number (``RF20261126-000123``)."""
    request = None
    if ref.isdigit():
        request = uow.requests.get(int(ref), lock=lock)
    elif ref.startswith("RF"):
        request = uow.requests.get_by_number(ref, lock=lock)
    if request is None:
        raise NotFoundError(f"no refund request {ref}", details={"id": ref})
    return request


def require_allowed(actor: Actor, action: Action) -> None:
    if not may(actor.role, action):
        raise PermissionDeniedError(
            f"the {actor.role.value} role cannot {action.value} a refund request",
            details={"action": action.value, "allowed_roles": [r.value for r in roles_for(action)]},
        )


def perform(
    uows: UnitOfWorkFactory,
    ref: str,
    action: Action,
    actor: Actor,
    data: ActionInput,
    *,
    options: PayoutOptions | None = None,
) -> dict[str, Any]:
    """Do ``action`` on request ``ref`` as ``actor``; return the request's new view."""
    require_allowed(actor, action)
    with uows() as uow:
        request = load_request(uow, ref, lock=True)
        if not owns(actor, request.customer_id):
            raise NotFoundError(f"no refund request {ref}", details={"id": ref})
        _check_step_up(uow, request, action, actor, data)
        if action in PAYOUT_HANDLERS:
            PAYOUT_HANDLERS[action](uow, request, actor, data, options or PayoutOptions())
        else:
            HANDLERS[action](uow, request, actor, data)
        view = store_request(uow, request)
        uow.commit()
    return view
