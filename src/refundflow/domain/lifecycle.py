"""The refund request lifecycle as data (DESIGN.md, "The refund request lifecycle").

``TRANSITIONS[status][action]`` is the set of statuses that ``action`` may lead to from
``status``. Where an action has two possible targets (approve: goods come back or not;
inspect: pass or fail), the action decides which one and the table says which are allowed.
Anything not in the table is illegal. ``RefundRequest.move`` is the one place that reads
this table.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    PENDING_REVIEW = "pending_review"
    AWAITING_RETURN = "awaiting_return"
    RECEIVED = "received"
    REFUND_PENDING = "refund_pending"
    REFUNDING = "refunding"
    REFUND_FAILED = "refund_failed"
    EXCHANGE_PENDING = "exchange_pending"
    REFUNDED = "refunded"
    EXCHANGED = "exchanged"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class Action(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    CANCEL = "cancel"
    RETURN_SHIPMENT = "return-shipment"
    CARRIER_DELIVERED = "carrier-delivered"
    RECEIVE = "receive"
    INSPECT = "inspect"
    FINANCE_APPROVE = "finance-approve"
    EXECUTE = "execute"
    RETRY = "retry"
    MARK_REFUNDED = "mark-refunded"
    MARK_FAILED = "mark-failed"
    SHIP_REPLACEMENT = "ship-replacement"
    APPEAL = "appeal"


class RequestType(StrEnum):
    REFUND_ONLY = "refund_only"
    RETURN_AND_REFUND = "return_and_refund"
    EXCHANGE = "exchange"


S = Status
A = Action

TRANSITIONS: dict[Status, dict[Action, frozenset[Status]]] = {
    S.PENDING_REVIEW: {
        A.APPROVE: frozenset({S.AWAITING_RETURN, S.REFUND_PENDING}),
        A.REJECT: frozenset({S.REJECTED}),
        A.CANCEL: frozenset({S.CANCELLED}),
    },
    S.AWAITING_RETURN: {
        # Recording the carrier and tracking number keeps the status; it is on the timeline.
        A.RETURN_SHIPMENT: frozenset({S.AWAITING_RETURN}),
        # The carrier reports the return delivered: the receipt clock starts (self-loop).
        A.CARRIER_DELIVERED: frozenset({S.AWAITING_RETURN}),
        A.RECEIVE: frozenset({S.RECEIVED}),
        A.CANCEL: frozenset({S.CANCELLED}),
    },
    S.RECEIVED: {
        A.INSPECT: frozenset({S.REFUND_PENDING, S.EXCHANGE_PENDING, S.PENDING_REVIEW}),
        A.CANCEL: frozenset({S.CANCELLED}),
    },
    S.REFUND_PENDING: {
        # The second person's approval of a large refund (maker–checker); keeps the status.
        A.FINANCE_APPROVE: frozenset({S.REFUND_PENDING}),
        A.EXECUTE: frozenset({S.REFUNDING}),
        A.CANCEL: frozenset({S.CANCELLED}),
    },
    S.REFUNDING: {
        A.MARK_REFUNDED: frozenset({S.REFUNDED}),
        A.MARK_FAILED: frozenset({S.REFUND_FAILED}),
    },
    S.REFUND_FAILED: {
        A.RETRY: frozenset({S.REFUNDING}),
    },
    S.EXCHANGE_PENDING: {
        A.SHIP_REPLACEMENT: frozenset({S.EXCHANGED}),
        A.CANCEL: frozenset({S.CANCELLED}),
    },
    S.REJECTED: {
        A.APPEAL: frozenset({S.PENDING_REVIEW}),
    },
    S.REFUNDED: {},
    S.EXCHANGED: {},
    S.CANCELLED: {},
}

TERMINAL: frozenset[Status] = frozenset(s for s, moves in TRANSITIONS.items() if not moves)

# Statuses whose units and money no longer count against the order's refundable balance.
RELEASED: frozenset[Status] = frozenset({S.REJECTED, S.CANCELLED})


def allowed_actions(status: Status) -> list[Action]:
    return list(TRANSITIONS[status])
