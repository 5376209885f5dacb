"""Who acts next on a request, at which step: the queues of DESIGN.md's lifecycle table.

Each open step of a request is one work item in one queue: customer service (``cs``; appeals
and complaints go to the senior queue ``cs_senior``), the ``warehouse``, ``finance``; the
``customer`` and the ``system`` hold steps too (their deadlines and timers run like any
other), but no staff queue lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from refundflow.domain.lifecycle import Status
from refundflow.domain.requests import RefundRequest
from refundflow.domain.sla import Step


class Queue(StrEnum):
    CS = "cs"
    CS_SENIOR = "cs_senior"
    WAREHOUSE = "warehouse"
    FINANCE = "finance"
    MANAGER = "manager"  # escalated items, whatever their queue
    CUSTOMER = "customer"
    SYSTEM = "system"


STAFF_QUEUES = (Queue.CS, Queue.CS_SENIOR, Queue.WAREHOUSE, Queue.FINANCE, Queue.MANAGER)


@dataclass(frozen=True, slots=True)
class Assignment:
    queue: Queue
    step: Step


def assignment_for(request: RefundRequest) -> Assignment | None:
    """The step a request waits on in its status (None: closed, or waiting on nobody)."""
    status = request.status
    if status is Status.PENDING_REVIEW:
        if request.appealed:
            return Assignment(Queue.CS_SENIOR, Step.APPEAL_REVIEW)
        return Assignment(Queue.CS, Step.REVIEW)
    if status is Status.AWAITING_RETURN:
        if request.return_tracking_no:
            return Assignment(Queue.WAREHOUSE, Step.RECEIVE)
        return Assignment(Queue.CUSTOMER, Step.SHIP_BACK)
    if status is Status.RECEIVED:
        return Assignment(Queue.WAREHOUSE, Step.INSPECT)
    if status is Status.REFUND_PENDING:
        if request.finance_approval_required and request.finance_approved_by is None:
            return Assignment(Queue.FINANCE, Step.FINANCE_APPROVAL)
        if request.auto_execute:
            return Assignment(Queue.SYSTEM, Step.EXECUTE)
        return Assignment(Queue.FINANCE, Step.EXECUTE)
    if status is Status.REFUND_FAILED:
        return Assignment(Queue.FINANCE, Step.REFUND_FAILED)
    if status is Status.EXCHANGE_PENDING:
        return Assignment(Queue.WAREHOUSE, Step.SHIP_REPLACEMENT)
    return None  # refunding (the gateway acts), rejected (the customer may appeal), closed
