"""Owners and deadlines: every open step of a request is a work item with a due time.

``sync_work`` runs in the transaction that writes a request (``views.store_request`` calls
it): when the step a request waits on changes, the old item closes (its timers cancelled)
and a new one opens in the right queue, with its deadline from the most specific SLA rule
and timers for the reminder, the breach and the rule's automatic action. A request that
closes for a VIP customer, or after a complaint, gets a follow-up call for customer service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from refundflow.domain.calendar import BusinessCalendar, WorkingHours
from refundflow.domain.lifecycle import Status
from refundflow.domain.requests import RefundRequest
from refundflow.domain.sla import SlaContext, SlaRule, Step, pick
from refundflow.domain.work import Assignment, Queue, assignment_for
from refundflow.domain.workitems import ItemKind, ItemState, Timer, TimerKind, WorkItem
from refundflow.services.unit_of_work import UnitOfWork

CLOSING = frozenset({Status.REFUNDED, Status.EXCHANGED, Status.REJECTED, Status.CANCELLED})


@dataclass(frozen=True, slots=True)
class Deadline:
    due_at: datetime
    rule: SlaRule


def business_calendar(uow: UnitOfWork) -> BusinessCalendar:
    holidays: set[date] = set()
    workdays: set[date] = set()
    for day, kind, _ in uow.workflow.calendar_days():
        (holidays if kind == "holiday" else workdays).add(day)
    config = uow.config
    return BusinessCalendar(
        data=uow.workdays,
        tz=uow.tz,
        hours=WorkingHours(config.work_starts, config.work_ends),
        holidays=frozenset(holidays),
        workdays=frozenset(workdays),
    )


def deadline(
    uow: UnitOfWork, request: RefundRequest, step: Step, start: datetime
) -> tuple[SlaRule | None, datetime | None, BusinessCalendar | None]:
    rule = pick(
        uow.workflow.sla_rules(),
        SlaContext(
            step,
            request.channel,
            request.type.value,
            request.customer_tier,
            request.fast_track,
            request.order_shipped,
        ),
    )
    if rule is None:
        return None, None, None
    clock = business_calendar(uow) if rule.business_hours else None
    if clock is None:
        return rule, start + rule.duration, None
    return rule, clock.add(start, rule.duration, business=True), clock


def open_item(
    uow: UnitOfWork,
    request: RefundRequest,
    assignment: Assignment,
    kind: ItemKind,
    at: datetime,
    *,
    start: datetime | None = None,
    complaint_id: int | None = None,
    auto: bool = True,
) -> WorkItem:
    """Open a work item with its deadline and timers (reminder, breach, automatic action)."""
    begin = start or at
    rule, due_at, clock = deadline(uow, request, assignment.step, begin)
    item = WorkItem(
        request_id=request.id,
        kind=kind,
        queue=assignment.queue.value,
        step=assignment.step.value,
        state=ItemState.OPEN,
        priority=request.priority,
        created_at=at,
        due_at=due_at,
        business_hours=bool(rule and rule.business_hours),
        complaint_id=complaint_id,
    )
    uow.workflow.add_item(item)
    assert item.id is not None
    if rule is None or due_at is None:
        return item
    timers = []
    if rule.on_breach is not None and auto:
        timers.append(Timer(item.id, request.id, TimerKind.AUTO, due_at, rule.on_breach.value))
    if rule.remind_at is not None:
        lead = timedelta(minutes=int(rule.minutes * rule.remind_at))
        remind_at = clock.add(begin, lead, business=True) if clock else begin + lead
        timers.append(Timer(item.id, request.id, TimerKind.REMIND, max(remind_at, at)))
    timers.append(Timer(item.id, request.id, TimerKind.BREACH, due_at))
    uow.workflow.add_timers(timers)
    return item


def close_item(uow: UnitOfWork, item: WorkItem, at: datetime, state: ItemState) -> None:
    item.state = state
    item.closed_at = at
    uow.workflow.save_item(item)
    assert item.id is not None
    uow.workflow.cancel_timers(item.id, at)


def _same(item: WorkItem, want: Assignment, request: RefundRequest) -> bool:
    if item.queue != want.queue.value or item.step != want.step.value:
        return False
    # The carrier's delivery starts the receipt clock (and its automatic confirmation).
    delivered = request.return_delivered_at
    return not (want.step is Step.RECEIVE and delivered is not None and item.created_at < delivered)


def sync_work(uow: UnitOfWork, request: RefundRequest, *, new: bool = False) -> WorkItem | None:
    """Make the request's open status item match the step its status waits on; return it."""
    at = uow.now()
    want = assignment_for(request)
    items = [] if new else uow.workflow.open_items(request.id)
    current = next((i for i in items if i.kind is ItemKind.STATUS), None)
    if current is not None and want is not None and _same(current, want, request):
        if current.priority != request.priority:
            current.priority = request.priority
            uow.workflow.save_item(current)
        return current
    if current is not None:
        close_item(uow, current, at, ItemState.DONE)
    item = None
    if want is not None:
        start = None
        auto = True
        if want.step is Step.RECEIVE:
            start = request.return_delivered_at
            auto = start is not None  # confirm receipt for the shop only once delivered
        item = open_item(uow, request, want, ItemKind.STATUS, at, start=start, auto=auto)
    if request.status in CLOSING and not new:
        _follow_up_if_due(uow, request, items, at)
    return item


def _follow_up_if_due(
    uow: UnitOfWork, request: RefundRequest, items: list[WorkItem], at: datetime
) -> None:
    if any(i.kind is ItemKind.FOLLOW_UP for i in items):
        return
    vip = request.customer_tier == "vip"
    complained = uow.care.has_complaint(request.id)
    if vip or complained:
        open_item(uow, request, Assignment(Queue.CS, Step.FOLLOW_UP), ItemKind.FOLLOW_UP, at)
