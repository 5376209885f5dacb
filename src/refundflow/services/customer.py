"""What a signed-in customer does on the portal: read their orders and requests, see what the
policy would say before submitting, and rate the service when a request closes."""

from __future__ import annotations

import json
from typing import Any

from refundflow.domain.actors import Actor
from refundflow.domain.balances import price_request
from refundflow.domain.errors import ConflictError, InvalidInputError, NotFoundError
from refundflow.domain.events import DomainEvent
from refundflow.domain.lifecycle import RequestType, Status
from refundflow.domain.requests import IntakeChannel, RefundRequest, RefundRoute
from refundflow.domain.sla import Step
from refundflow.domain.work import Assignment, Queue
from refundflow.domain.workitems import ItemKind
from refundflow.services.intake import SubmitRefundRequest
from refundflow.services.parsing import parse_enum, parse_quantity, parse_text
from refundflow.services.policies import decide
from refundflow.services.portal import customer_id, customer_view
from refundflow.services.unit_of_work import RequestFilter, UnitOfWorkFactory
from refundflow.services.views import order_view, request_view
from refundflow.services.workflow import open_item

CLOSED = frozenset({Status.REFUNDED, Status.EXCHANGED, Status.REJECTED, Status.CANCELLED})
LOW_SCORE = 3


def own_order(uows: UnitOfWorkFactory, actor: Actor, order_no: str) -> dict[str, Any]:
    with uows(write=False) as uow:
        order = uow.orders.get(order_no)
        if order is None or order.customer.id != customer_id(actor):
            raise NotFoundError(f"no order {order_no}", details={"order_no": order_no})
        return order_view(order, uow.orders.holds(order))


def own_requests(uows: UnitOfWorkFactory, actor: Actor) -> list[dict[str, Any]]:
    with uows(write=False) as uow:
        requests = uow.requests.search(
            RequestFilter(customer_id=customer_id(actor)), before_id=None, limit=100
        )
    return [customer_view(request_view(r, [])) for r in requests]


def own_request(uows: UnitOfWorkFactory, actor: Actor, ref: str) -> dict[str, Any]:
    """The customer's view of their request (staff reasoning left out)."""
    with uows(write=False) as uow:
        request = _own(uow, actor, ref)
        document = uow.requests.document(request_id=request.id)
        photos = uow.portal.uploads(request.id)
        survey = uow.portal.survey(request.id)
    assert document is not None
    view = customer_view(json.loads(document))
    view["photos"] = [p["id"] for p in photos]
    view["survey"] = survey
    return view


def _own(uow: Any, actor: Actor, ref: str) -> RefundRequest:
    from refundflow.services.actions import load_request

    request = load_request(uow, ref)
    if request.customer_id != customer_id(actor):
        raise NotFoundError(f"no refund request {ref}", details={"id": ref})
    return request


def preview(uows: UnitOfWorkFactory, actor: Actor, cmd: SubmitRefundRequest) -> dict[str, Any]:
    """What the published policy would decide on this request now, and the alternatives it
    offers — before anything is submitted (nothing is stored)."""
    request_type = parse_enum(RequestType, cmd.type, "type")
    asked = [
        (parse_text(sku, f"lines[{i}].sku", limit=64), parse_quantity(q, f"lines[{i}].quantity"))
        for i, (sku, q) in enumerate(cmd.lines)
    ]
    with uows(write=False) as uow:
        reason = uow.reasons.get(cmd.reason)
        if reason is None or not reason.active:
            raise InvalidInputError("choose a reason from the list", details={"field": "reason"})
        order = uow.orders.get(cmd.order_no)
        if order is None or order.customer.id != customer_id(actor):
            raise NotFoundError(f"no order {cmd.order_no}", details={"order_no": cmd.order_no})
        pricing = price_request(
            order,
            uow.orders.holds(order),
            asked,
            include_shipping=cmd.include_shipping,
            moves_money=request_type is not RequestType.EXCHANGE,
        )
        draft = RefundRequest.submit(
            request_id=0,
            number="",
            order=order,
            pricing=pricing,
            include_shipping=cmd.include_shipping,
            type=request_type,
            reason=reason.code,
            description="",
            refund_route=parse_enum(RefundRoute, cmd.refund_route, "refund_route"),
            intake_channel=IntakeChannel.PORTAL,
            actor=actor,
            at=uow.now(),
            language=cmd.language,
        )
        decision = decide(uow, draft, order)
    return {
        "amount": pricing.amount.text(),
        "currency": order.currency,
        "outcome": decision.outcome,
        "explanation": decision.explanation(cmd.language).customer,
        "offer": dict(decision.offer),
    }


def answer_survey(
    uows: UnitOfWorkFactory,
    request_id: int,
    *,
    csat: int,
    resolved: bool,
    comment: str | None,
) -> dict[str, Any]:
    """One answer per closed request; a score of 3 or less asks customer service to call."""
    if isinstance(csat, bool) or not isinstance(csat, int) or not 1 <= csat <= 5:
        raise InvalidInputError("rate from 1 to 5", details={"field": "csat"})
    text = parse_text(comment, "comment", limit=1000, required=False) or None
    with uows() as uow:
        request = uow.requests.get(request_id, lock=True)
        if request is None:
            raise NotFoundError("no such request")
        if request.status not in CLOSED:
            raise ConflictError("the survey opens once the request is closed")
        now = uow.now()
        if not uow.portal.add_survey(request.id, request.customer_id, csat, resolved, text, now):
            raise ConflictError("this request has already been rated: thank you")
        if csat <= LOW_SCORE:
            open_item(uow, request, Assignment(Queue.CS, Step.FOLLOW_UP), ItemKind.FOLLOW_UP, now)
        uow.outbox.add(
            [
                DomainEvent(
                    "survey.answered",
                    f"refund_request:{request.id}",
                    now,
                    {
                        "request_id": request.id,
                        "number": request.number,
                        "csat": csat,
                        "resolved": resolved,
                    },
                )
            ]
        )
        uow.commit()
    return {"csat": csat, "resolved": resolved, "comment": text}
