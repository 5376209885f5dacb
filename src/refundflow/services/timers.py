"""Timers: reminders, escalations and the automatic actions of SLA rules, run by the worker.

A timer row fires at most once: the worker leases due rows, then in one transaction per
timer marks it fired (a conditional update that only one worker can win) and acts. A timer
whose step closed meanwhile was cancelled with it and does nothing. A worker that was down
catches up on everything that fell due, oldest first.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from refundflow.domain.actors import Actor
from refundflow.domain.errors import ConflictError
from refundflow.domain.events import DomainEvent
from refundflow.domain.lifecycle import Status
from refundflow.domain.sla import AutoAction
from refundflow.domain.workitems import ItemState, Timer, TimerKind, WorkItem
from refundflow.services.intake import finance_threshold
from refundflow.services.unit_of_work import UnitOfWork, UnitOfWorkFactory
from refundflow.services.views import store_request

LEASE = timedelta(seconds=60)
SLA = Actor.system("sla")

REASONS = {
    AutoAction.APPROVE: "处理时限已到，系统自动同意退款（平台规则）",
    AutoAction.CANCEL: "退货时限内未寄回商品，申请已自动关闭",
    AutoAction.CONFIRM_RECEIPT: "承运商已签收，收货时限已到，系统自动确认收货",
}


def fire_due_timers(uows: UnitOfWorkFactory, worker_id: str, *, limit: int = 50) -> int:
    """Act on up to ``limit`` due timers; return how many were leased."""
    with uows() as uow:
        now = uow.now()
        due = uow.workflow.due_timers(now, limit, worker_id, now + LEASE)
        uow.commit()
    for timer in due:
        fire_timer(uows, timer)
    return len(due)


def fire_timer(uows: UnitOfWorkFactory, timer: Timer) -> bool:
    """Act on one leased timer unless another worker already did (or its step closed);
    return whether it acted."""
    assert timer.id is not None
    with uows() as uow:
        if not uow.workflow.fire(timer.id, uow.now()):
            return False
        _act(uow, timer)
        uow.commit()
    return True


def _event(uow: UnitOfWork, topic: str, item: WorkItem, **extra: Any) -> DomainEvent:
    return DomainEvent(
        topic,
        f"refund_request:{item.request_id}",
        uow.now(),
        {
            "work_item_id": item.id,
            "request_id": item.request_id,
            "queue": item.queue,
            "step": item.step,
            "owner": item.owner,
            "due_at": item.due_at.isoformat() if item.due_at else None,
            **extra,
        },
    )


def _act(uow: UnitOfWork, timer: Timer) -> None:
    item = uow.workflow.item(timer.work_item_id, lock=True)
    if item is None or item.state is not ItemState.OPEN:
        return
    now = uow.now()
    if timer.kind is TimerKind.REMIND:
        item.reminded_at = now
        uow.workflow.save_item(item)
        audience = "customer" if item.queue == "customer" else "staff"
        uow.outbox.add([_event(uow, "work_item.reminder", item, audience=audience)])
        return
    request = uow.requests.get(item.request_id, lock=True)
    if request is None:
        return
    if timer.kind is TimerKind.BREACH:
        item.escalated_at = now
        uow.workflow.save_item(item)
        request.note(
            "escalate",
            SLA,
            now,
            f"{item.step} overdue: escalated to a manager",
            queue=item.queue,
            step=item.step,
            work_item_id=item.id,
        )
        uow.outbox.add([_event(uow, "work_item.escalated", item)])
        store_request(uow, request)
        return
    action = AutoAction(timer.action) if timer.action else None
    try:
        if action is AutoAction.APPROVE and request.status is Status.PENDING_REVIEW:
            request.approve(
                SLA, now, reason=REASONS[action], finance_above=finance_threshold(uow, request)
            )
        elif action is AutoAction.CANCEL and not request.return_tracking_no:
            request.cancel(SLA, now, reason=REASONS[action])
        elif action is AutoAction.CONFIRM_RECEIPT:
            request.receive(SLA, now, note=REASONS[action])
        else:
            return
    except ConflictError:
        return  # the request moved on in a way the rule did not foresee: nothing to do
    store_request(uow, request)
