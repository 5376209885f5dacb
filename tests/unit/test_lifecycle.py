"""The lifecycle table, pair by pair: allowed moves move and log; the rest change nothing."""

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from refundflow.domain.errors import IllegalTransitionError, InvalidInputError
from refundflow.domain.lifecycle import TERMINAL, TRANSITIONS, Action, RequestType, Status
from refundflow.domain.permissions import Role
from refundflow.domain.requests import RefundRequest
from tests.builders import T0, cny, request, staff

AT = T0.replace(hour=12)
ACTOR = staff(Role.ADMIN)

CALLS: dict[Action, Callable[[RefundRequest], None]] = {
    Action.APPROVE: lambda r: r.approve(ACTOR, AT),
    Action.REJECT: lambda r: r.reject(ACTOR, AT, reason="outside the window"),
    Action.CANCEL: lambda r: r.cancel(ACTOR, AT),
    Action.RETURN_SHIPMENT: lambda r: r.record_return_shipment(
        ACTOR, AT, carrier="SF", tracking_no="SF123"
    ),
    Action.RECEIVE: lambda r: r.receive(ACTOR, AT),
    Action.INSPECT: lambda r: r.inspect(ACTOR, AT, passed=True),
    Action.EXECUTE: lambda r: r.execute(ACTOR, AT),
    Action.RETRY: lambda r: r.retry(ACTOR, AT),
    Action.MARK_REFUNDED: lambda r: r.mark_refunded(ACTOR, AT),
    Action.MARK_FAILED: lambda r: r.mark_failed(ACTOR, AT, reason="card closed"),
    Action.SHIP_REPLACEMENT: lambda r: r.ship_replacement(
        ACTOR, AT, carrier="SF", tracking_no="SF9"
    ),
    Action.APPEAL: lambda r: r.appeal(ACTOR, AT, reason="please look again"),
    Action.FINANCE_APPROVE: lambda r: r.finance_approve(ACTOR, AT),
    Action.CARRIER_DELIVERED: lambda r: r.carrier_delivered(ACTOR, AT, delivered_at=AT),
}


def _prepare(r: RefundRequest, action: Action) -> None:
    """What an action needs besides the status: a large refund for the second approval
    (by someone else), a return shipment for the carrier's delivery."""
    if action is Action.FINANCE_APPROVE:
        r.finance_approval_required = True
        r.approved_by = "cs-1"
    if action is Action.CARRIER_DELIVERED:
        r.return_tracking_no = "SF1"


def _type_for(status: Status) -> RequestType:
    exchange = status in (Status.EXCHANGE_PENDING, Status.EXCHANGED)
    return RequestType.EXCHANGE if exchange else RequestType.RETURN_AND_REFUND


def _state(r: RefundRequest) -> dict[str, Any]:
    return dataclasses.asdict(r)


def test_every_action_has_a_call_here() -> None:
    assert set(CALLS) == set(Action)


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("action", list(Action))
def test_each_pair_moves_as_the_table_says_or_changes_nothing(
    status: Status, action: Action
) -> None:
    r = request(status, _type_for(status), goods_received=status is Status.RECEIVED)
    _prepare(r, action)
    before = _state(r)
    if action in TRANSITIONS[status]:
        CALLS[action](r)
        assert r.status in TRANSITIONS[status][action]
        [event] = r.new_timeline
        assert (event.from_status, event.to_status, event.action) == (status, r.status, action)
        assert (event.actor, event.at) == (ACTOR, AT)
        domain_event, *others = r.events
        assert domain_event.topic == "refund_request.status_changed"
        assert all(e.topic.startswith("inventory.") for e in others), "only restock events"
        assert domain_event.payload["from_status"] == status.value
        assert domain_event.payload["to_status"] == r.status.value
        assert r.updated_at == AT
    else:
        with pytest.raises(IllegalTransitionError) as raised:
            CALLS[action](r)
        assert raised.value.details["allowed_actions"] == [a.value for a in TRANSITIONS[status]]
        assert _state(r) == before


def test_terminal_statuses_allow_nothing() -> None:
    assert {Status.REFUNDED, Status.EXCHANGED, Status.CANCELLED} == TERMINAL


def test_approving_a_refund_only_request_skips_the_return() -> None:
    r = request(type=RequestType.REFUND_ONLY)
    r.approve(ACTOR, AT)
    assert r.status is Status.REFUND_PENDING
    assert r.requires_return is False


def test_approving_a_return_waits_for_the_goods_unless_the_return_is_waived() -> None:
    r = request()
    r.approve(ACTOR, AT)
    assert r.status is Status.AWAITING_RETURN
    returnless = request()
    returnless.approve(ACTOR, AT, requires_return=False)
    assert returnless.status is Status.REFUND_PENDING


def test_an_exchange_cannot_be_approved_without_its_return() -> None:
    r = request(type=RequestType.EXCHANGE)
    with pytest.raises(InvalidInputError, match="needs the goods back"):
        r.approve(ACTOR, AT, requires_return=False)
    assert r.status is Status.PENDING_REVIEW


def test_approval_may_lower_the_amount_but_never_raise_it() -> None:
    r = request()
    with pytest.raises(InvalidInputError, match="between 0 and the requested"):
        r.approve(ACTOR, AT, amount=cny("100.01"))
    r.approve(ACTOR, AT, amount=cny("80.00"))
    assert r.amount_approved == cny("80.00")
    assert r.money_held == cny("80.00")


def test_a_passed_inspection_of_an_exchange_waits_for_the_replacement() -> None:
    r = request(Status.RECEIVED, RequestType.EXCHANGE)
    r.inspect(ACTOR, AT, passed=True)
    assert r.status is Status.EXCHANGE_PENDING


def test_a_failed_inspection_goes_back_to_review_with_the_warehouse_note() -> None:
    r = request(Status.RECEIVED, goods_received=True)
    with pytest.raises(InvalidInputError, match="note is required"):
        r.inspect(ACTOR, AT, passed=False)
    r.inspect(ACTOR, AT, passed=False, note="seal broken, used")
    assert r.status is Status.PENDING_REVIEW
    assert r.new_timeline[-1].reason == "seal broken, used"
    r.approve(ACTOR, AT)
    assert r.status is Status.REFUND_PENDING, "goods already here: no second return"


def test_a_rejection_must_say_why() -> None:
    r = request()
    with pytest.raises(InvalidInputError, match="reason is required"):
        r.reject(ACTOR, AT, reason="  ")
    assert r.status is Status.PENDING_REVIEW


def test_a_rejection_can_be_appealed_only_once() -> None:
    r = request(Status.REJECTED)
    r.appeal(ACTOR, AT, reason="the item is broken")
    assert r.status is Status.PENDING_REVIEW
    r.reject(ACTOR, AT, reason="still no")
    with pytest.raises(IllegalTransitionError, match="already appealed"):
        r.appeal(ACTOR, AT, reason="again")
    assert r.status is Status.REJECTED


def test_marking_refunded_records_what_went_back() -> None:
    r = request(Status.REFUNDING)
    r.mark_refunded(ACTOR, AT, reference="ALI-RF-1")
    assert r.amount_refunded == r.amount_approved
    assert r.new_timeline[-1].data["reference"] == "ALI-RF-1"


def test_released_requests_hold_no_money() -> None:
    assert request(Status.REJECTED).money_held == cny("0")
    assert request(Status.CANCELLED).money_held == cny("0")
    assert request(Status.PENDING_REVIEW).money_held == cny("100.00")


def test_every_action_has_a_use_case_handler() -> None:
    from refundflow.services.actions import HANDLERS, PAYOUT_HANDLERS

    assert set(HANDLERS) | set(PAYOUT_HANDLERS) == set(Action)
    assert not set(HANDLERS) & set(PAYOUT_HANDLERS)
