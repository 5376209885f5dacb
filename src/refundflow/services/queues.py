"""Queues: each role works its open steps, soonest due first; items are claimed, assigned
and released. Escalated items of every queue also show in the manager's queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from refundflow.domain.actors import Actor
from refundflow.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from refundflow.domain.money import Money
from refundflow.domain.permissions import Operation, Role, may
from refundflow.domain.work import Queue
from refundflow.domain.workitems import ItemState, WorkItem
from refundflow.services.unit_of_work import QueueFilter, QueueRow, UnitOfWork, UnitOfWorkFactory
from refundflow.services.views import iso, store_request

# Who works which queue (admin: all of them).
QUEUE_ROLES: dict[Queue, frozenset[Role]] = {
    Queue.CS: frozenset({Role.CS, Role.MANAGER}),
    Queue.CS_SENIOR: frozenset({Role.CS, Role.MANAGER}),
    Queue.WAREHOUSE: frozenset({Role.WAREHOUSE, Role.MANAGER}),
    Queue.FINANCE: frozenset({Role.FINANCE, Role.MANAGER}),
    Queue.MANAGER: frozenset({Role.MANAGER}),
}
MAX_PAGE = 200
QUEUES = frozenset(q.value for q in QUEUE_ROLES)


def queue_for(name: str) -> Queue:
    try:
        queue = Queue(name)
    except ValueError:
        queue = None
    if queue is None or queue not in QUEUE_ROLES:
        names = ", ".join(q.value for q in QUEUE_ROLES)
        raise NotFoundError(f"no queue {name!r}: the queues are {names}", details={"queue": name})
    return queue


def may_work(role: Role, queue: Queue) -> bool:
    return role is Role.ADMIN or role in QUEUE_ROLES.get(queue, frozenset())


def _require(actor: Actor, queue: Queue) -> None:
    if not may_work(actor.role, queue):
        raise PermissionDeniedError(
            f"the {actor.role.value} role does not work the {queue.value} queue",
            details={"queue": queue.value},
        )


def item_view(item: WorkItem, now: datetime) -> dict[str, Any]:
    due = item.due_at
    return {
        "id": item.id,
        "request_id": item.request_id,
        "kind": item.kind.value,
        "queue": item.queue,
        "step": item.step,
        "state": item.state.value,
        "owner": item.owner,
        "priority": item.priority,
        "due_at": iso(due),
        "seconds_left": int((due - now).total_seconds()) if due else None,
        "overdue": bool(due and due < now),
        "escalated": item.escalated_at is not None,
        "created_at": iso(item.created_at),
        "note": item.note,
    }


def _row_view(row: QueueRow, now: datetime) -> dict[str, Any]:
    return {
        **item_view(row.item, now),
        "request": {
            "number": row.number,
            "type": row.type,
            "reason": row.reason,
            "status": row.status,
            "amount": Money.from_minor(row.amount_minor, row.currency).text(),
            "currency": row.currency,
            "channel": row.channel,
            "customer_tier": row.tier,
            "fast_track": row.fast_track,
        },
    }


def list_queue(
    uows: UnitOfWorkFactory,
    actor: Actor,
    name: str,
    filters: QueueFilter,
    *,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of a queue's open items, soonest due first, and the next page's cursor."""
    queue = queue_for(name)
    _require(actor, queue)
    limit = max(1, min(limit, MAX_PAGE))
    after = None
    if cursor:
        due, _, item_id = cursor.rpartition("|")
        try:
            after = (datetime.fromisoformat(due) if due else None, int(item_id))
        except ValueError:
            raise InvalidInputError(
                "cursor must be a next_cursor value from an earlier page"
            ) from None
    with uows(write=False) as uow:
        now = uow.now()
        rows = uow.workflow.queue(queue.value, filters, limit=limit + 1, after=after)
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1].item
        next_cursor = f"{last.due_at.isoformat() if last.due_at else ''}|{last.id}"
    return [_row_view(row, now) for row in page], next_cursor


def _item(uow: UnitOfWork, item_id: int) -> WorkItem:
    item = uow.workflow.item(item_id, lock=True)
    if item is None:
        raise NotFoundError(f"no work item {item_id}", details={"id": item_id})
    return item


def _refresh(uow: UnitOfWork, request_id: int) -> None:
    """The request's document shows who owns its step: rewrite it."""
    request = uow.requests.get(request_id, lock=True)
    if request is not None:
        store_request(uow, request)


def claim(uows: UnitOfWorkFactory, actor: Actor, item_id: int) -> dict[str, Any]:
    with uows() as uow:
        item = _item(uow, item_id)
        _require(actor, queue_for(item.queue) if item.queue in QUEUES else Queue.MANAGER)
        if item.state is not ItemState.OPEN:
            raise ConflictError("this step is already done", details={"state": item.state.value})
        if item.owner not in (None, actor.id):
            raise ConflictError(
                f"{item.owner} already works on this step; ask a manager to reassign it",
                details={"owner": item.owner},
            )
        item.owner = actor.id
        uow.workflow.save_item(item)
        _refresh(uow, item.request_id)
        view = item_view(item, uow.now())
        uow.commit()
    return view


def assign(uows: UnitOfWorkFactory, actor: Actor, item_id: int, owner: str) -> dict[str, Any]:
    """Give a step to someone (managers and admins)."""
    if not may(actor.role, Operation.ASSIGN_WORK):
        raise PermissionDeniedError("only managers assign work")
    owner = owner.strip()
    if not owner or len(owner) > 64:
        raise InvalidInputError(
            "owner must be a staff id of 1–64 characters", details={"field": "owner"}
        )
    with uows() as uow:
        item = _item(uow, item_id)
        if item.state is not ItemState.OPEN:
            raise ConflictError("this step is already done", details={"state": item.state.value})
        item.owner = owner
        uow.workflow.save_item(item)
        _refresh(uow, item.request_id)
        view = item_view(item, uow.now())
        uow.commit()
    return view


def release(uows: UnitOfWorkFactory, actor: Actor, item_id: int) -> dict[str, Any]:
    """Give a step back to its queue: its owner, or a manager."""
    with uows() as uow:
        item = _item(uow, item_id)
        if item.owner != actor.id and not may(actor.role, Operation.ASSIGN_WORK):
            raise PermissionDeniedError("only its owner or a manager can release this step")
        item.owner = None
        uow.workflow.save_item(item)
        _refresh(uow, item.request_id)
        view = item_view(item, uow.now())
        uow.commit()
    return view
