"""Complaints, the contact log, compensation, follow-up calls and root causes.

A complaint raises the request's priority, opens a step in the senior queue with its own
deadline and counts in the complaint rate; compensation (coupons, points, store credit) is
booked with its cost on the request and in the compensation ledger, and announced to the
merchant's systems (``compensation.issued``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from refundflow.domain.actors import Actor
from refundflow.domain.care import (
    Compensation,
    CompensationKind,
    Complaint,
    Contact,
    ContactChannel,
    Direction,
    Severity,
)
from refundflow.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from refundflow.domain.events import DomainEvent
from refundflow.domain.money import Money
from refundflow.domain.permissions import Operation, may
from refundflow.domain.reasons import ReasonCode
from refundflow.domain.requests import RefundRequest
from refundflow.domain.sla import Step
from refundflow.domain.work import Assignment, Queue
from refundflow.domain.workitems import ItemKind, ItemState
from refundflow.services import audit
from refundflow.services.actions import load_request
from refundflow.services.parsing import parse_enum, parse_money, parse_text, parse_time
from refundflow.services.unit_of_work import UnitOfWorkFactory
from refundflow.services.views import iso, store_request
from refundflow.services.workflow import close_item, open_item

SOURCES = ("phone", "chat", "email", "portal", "platform", "social")


def _staff(actor: Actor, what: str) -> None:
    if not may(actor.role, Operation.CUSTOMER_CARE):
        raise PermissionDeniedError(f"the {actor.role.value} role cannot {what}")


def _event(topic: str, request: RefundRequest, at: datetime, **data: Any) -> DomainEvent:
    return DomainEvent(
        topic,
        f"refund_request:{request.id}",
        at,
        {"request_id": request.id, "number": request.number, "order_no": request.order_no, **data},
    )


# ---------------------------------------------------------------------------- complaints
def complaint_view(complaint: Complaint) -> dict[str, Any]:
    return {
        "id": complaint.id,
        "request_id": complaint.request_id,
        "source": complaint.source,
        "severity": complaint.severity.value,
        "text": complaint.text,
        "state": complaint.state,
        "opened_by": complaint.opened_by,
        "opened_at": iso(complaint.opened_at),
        "resolved_by": complaint.resolved_by,
        "resolved_at": iso(complaint.resolved_at),
        "resolution": complaint.resolution,
    }


def open_complaint(
    uows: UnitOfWorkFactory, actor: Actor, ref: str, *, source: str, severity: str, text: str
) -> dict[str, Any]:
    if not may(actor.role, Operation.OPEN_COMPLAINT):
        raise PermissionDeniedError(f"the {actor.role.value} role cannot open complaints")
    if source not in SOURCES:
        raise InvalidInputError(
            f"source must be one of {', '.join(SOURCES)}", details={"field": "source"}
        )
    level = parse_enum(Severity, severity, "severity")
    body = parse_text(text, "text", limit=2000)
    with uows() as uow:
        request = load_request(uow, ref, lock=True)
        now = uow.now()
        complaint = Complaint(request.id, source, level, body, "open", now, opened_by=actor.id)
        uow.care.add_complaint(complaint)
        request.priority = "high"
        request.note(
            "complaint",
            actor,
            now,
            body,
            complaint_id=complaint.id,
            severity=level.value,
            source=source,
        )
        request.events.append(
            _event(
                "complaint.opened",
                request,
                now,
                complaint_id=complaint.id,
                severity=level.value,
                source=source,
            )
        )
        open_item(
            uow,
            request,
            Assignment(Queue.CS_SENIOR, Step.COMPLAINT),
            ItemKind.COMPLAINT,
            now,
            complaint_id=complaint.id,
        )
        store_request(uow, request)
        uow.commit()
    return complaint_view(complaint)


def resolve_complaint(
    uows: UnitOfWorkFactory, actor: Actor, complaint_id: int, resolution: str
) -> dict[str, Any]:
    _staff(actor, "resolve complaints")
    text = parse_text(resolution, "resolution", limit=2000)
    with uows() as uow:
        complaint = uow.care.complaint(complaint_id, lock=True)
        if complaint is None:
            raise NotFoundError(f"no complaint {complaint_id}")
        if complaint.state != "open":
            raise ConflictError("this complaint is already resolved")
        now = uow.now()
        complaint.state, complaint.resolution = "resolved", text
        complaint.resolved_at, complaint.resolved_by = now, actor.id
        uow.care.save_complaint(complaint)
        for item in uow.workflow.open_items(complaint.request_id):
            if item.kind is ItemKind.COMPLAINT and item.complaint_id == complaint.id:
                close_item(uow, item, now, ItemState.DONE)
        request = uow.requests.get(complaint.request_id, lock=True)
        assert request is not None
        request.note("complaint-resolved", actor, now, text, complaint_id=complaint.id)
        store_request(uow, request)
        uow.commit()
    return complaint_view(complaint)


def list_complaints(
    uows: UnitOfWorkFactory, actor: Actor, *, ref: str | None = None, state: str | None = None
) -> list[dict[str, Any]]:
    _staff(actor, "read complaints")
    with uows(write=False) as uow:
        request_id = load_request(uow, ref).id if ref else None
        return [complaint_view(c) for c in uow.care.complaints(request_id, state)]


# ---------------------------------------------------------------------------- contacts
def contact_view(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "channel": contact.channel.value,
        "direction": contact.direction.value,
        "summary": contact.summary,
        "by": contact.by_name,
        "at": iso(contact.at),
    }


def log_contact(
    uows: UnitOfWorkFactory,
    actor: Actor,
    ref: str,
    *,
    channel: str,
    direction: str,
    summary: str,
) -> dict[str, Any]:
    """An agent's call, chat or e-mail with the customer, on the request's record."""
    _staff(actor, "log contacts")
    contact_channel = parse_enum(ContactChannel, channel, "channel")
    way = parse_enum(Direction, direction, "direction")
    text = parse_text(summary, "summary", limit=2000)
    with uows() as uow:
        request = load_request(uow, ref)
        contact = Contact(
            request.id,
            contact_channel,
            way,
            text,
            actor.name or str(actor.id),
            uow.now(),
            by_id=actor.id,
        )
        contact_id = uow.care.add_contact(contact)
        uow.commit()
    return {**contact_view(contact), "id": contact_id}


def contacts(uows: UnitOfWorkFactory, actor: Actor, ref: str) -> list[dict[str, Any]]:
    _staff(actor, "read the contact log")
    with uows(write=False) as uow:
        return [contact_view(c) for c in uow.care.contacts(load_request(uow, ref).id)]


def complete_follow_up(
    uows: UnitOfWorkFactory, actor: Actor, item_id: int, *, channel: str, summary: str
) -> dict[str, Any]:
    """A follow-up call (回访) made: it goes in the contact log and the step closes."""
    _staff(actor, "complete follow-ups")
    contact_channel = parse_enum(ContactChannel, channel, "channel")
    text = parse_text(summary, "summary", limit=2000)
    with uows() as uow:
        item = uow.workflow.item(item_id, lock=True)
        if item is None or item.kind is not ItemKind.FOLLOW_UP:
            raise NotFoundError(f"no follow-up {item_id}")
        if item.state is not ItemState.OPEN:
            raise ConflictError("this follow-up is already done")
        now = uow.now()
        uow.care.add_contact(
            Contact(
                item.request_id,
                contact_channel,
                Direction.OUTBOUND,
                text,
                actor.name or str(actor.id),
                now,
                by_id=actor.id,
            )
        )
        item.note = text
        close_item(uow, item, now, ItemState.DONE)
        uow.commit()
    return {"id": item_id, "state": "done"}


# ---------------------------------------------------------------------------- compensation
def compensation_view(item: Compensation) -> dict[str, Any]:
    return {
        "id": item.id,
        "request_id": item.request_id,
        "customer_id": item.customer_id,
        "kind": item.kind.value,
        "amount": item.amount.text() if item.amount else None,
        "points": item.points,
        "code": item.code,
        "expires_at": iso(item.expires_at),
        "cost": item.cost.text(),
        "currency": item.cost.currency,
        "issued_by": item.issued_by,
        "issued_at": iso(item.issued_at),
    }


def issue_compensation(
    uows: UnitOfWorkFactory,
    actor: Actor,
    ref: str,
    *,
    kind: str,
    amount: str | None = None,
    points: int | None = None,
    code: str | None = None,
    expires_at: datetime | None = None,
) -> dict[str, Any]:
    _staff(actor, "give compensation")
    what = parse_enum(CompensationKind, kind, "kind")
    with uows() as uow:
        request = load_request(uow, ref, lock=True)
        now = uow.now()
        currency = request.currency
        value: Money | None = None
        if what is CompensationKind.POINTS:
            if not isinstance(points, int) or isinstance(points, bool) or not 0 < points <= 10**7:
                raise InvalidInputError(
                    "points must be a whole number from 1 to 10,000,000",
                    details={"field": "points"},
                )
            cost = Money.rounded(Decimal(points) * uow.config.point_value, currency)
        else:
            value = parse_money(amount, currency, "amount")
            if not value.amount > 0:
                raise InvalidInputError(
                    "amount must be greater than zero", details={"field": "amount"}
                )
            cost = value
        expiry = parse_time(expires_at, "expires_at")
        if what is CompensationKind.COUPON:
            code = parse_text(code, "code", limit=64)
            if expiry is None or expiry <= now:
                raise InvalidInputError(
                    "a coupon needs an expiry in the future", details={"field": "expires_at"}
                )
        item = Compensation(
            request.id,
            request.customer_id,
            what,
            cost,
            now,
            amount=value,
            points=points if what is CompensationKind.POINTS else None,
            code=code if what is CompensationKind.COUPON else None,
            expires_at=expiry,
            issued_by=actor.id,
        )
        item_id = uow.care.add_compensation(item)
        view = {**compensation_view(item), "id": item_id}
        request.note(
            "compensate",
            actor,
            now,
            None,
            kind=what.value,
            cost=cost.text(),
            compensation_id=item_id,
        )
        request.events.append(
            _event(
                "compensation.issued",
                request,
                now,
                **{k: v for k, v in view.items() if k != "request_id"},
            )
        )
        store_request(uow, request)
        uow.commit()
    return view


def compensations(
    uows: UnitOfWorkFactory,
    actor: Actor,
    *,
    ref: str | None = None,
    customer_id: int | None = None,
) -> dict[str, Any]:
    """Compensation given, and what it cost per currency (the ledger)."""
    if not may(actor.role, Operation.READ_COMPENSATION):
        raise PermissionDeniedError(f"the {actor.role.value} role cannot read compensation")
    with uows(write=False) as uow:
        request_id = load_request(uow, ref).id if ref else None
        items = uow.care.compensations(request_id=request_id, customer_id=customer_id)
    totals: dict[str, Money] = {}
    for item in items:
        currency = item.cost.currency
        totals[currency] = totals.get(currency, Money.zero(currency)) + item.cost
    return {
        "items": [compensation_view(i) for i in items],
        "total_cost": {c: m.text() for c, m in sorted(totals.items())},
    }


# ---------------------------------------------------------------------------- root causes
def tag_root_cause(uows: UnitOfWorkFactory, actor: Actor, ref: str, code: str) -> dict[str, Any]:
    """Why this refund happened, for the dashboard (product defect, logistics, …)."""
    if not may(actor.role, Operation.TAG_ROOT_CAUSE):
        raise PermissionDeniedError(f"the {actor.role.value} role cannot tag root causes")
    with uows() as uow:
        tags = {t.code: t for t in uow.care.root_causes() if t.active}
        if code not in tags:
            raise InvalidInputError(
                f"root cause {code!r} is not one of {', '.join(tags)}", details={"field": "code"}
            )
        request = load_request(uow, ref, lock=True)
        request.tag_root_cause(actor, uow.now(), code)
        view = store_request(uow, request)
        uow.commit()
    return view


def root_causes(uows: UnitOfWorkFactory) -> list[dict[str, Any]]:
    with uows(write=False) as uow:
        return [
            {
                "code": t.code,
                "label_zh": t.label_zh,
                "label_en": t.label_en,
                "active": t.active,
                "position": i,
            }
            for i, t in enumerate(uow.care.root_causes())
        ]


def put_root_cause(
    uows: UnitOfWorkFactory,
    actor: Actor,
    code: str,
    label_zh: str,
    label_en: str,
    active: bool,
) -> dict[str, Any]:
    if not may(actor.role, Operation.MANAGE_SETTINGS):
        raise PermissionDeniedError("only managers edit root-cause tags")
    tag = ReasonCode(
        code,
        parse_text(label_zh, "label_zh", limit=100),
        parse_text(label_en, "label_en", limit=100),
        active,
    )
    with uows() as uow:
        codes = [t.code for t in uow.care.root_causes()]
        position = codes.index(code) if code in codes else len(codes)
        uow.care.put_root_cause(tag, position)
        audit.record(
            uow,
            actor,
            "root_cause.put",
            f"root_cause:{code}",
            {"label_zh": tag.label_zh, "label_en": tag.label_en, "active": active},
        )
        uow.commit()
    return {
        "code": code,
        "label_zh": tag.label_zh,
        "label_en": tag.label_en,
        "active": active,
        "position": position,
    }
