"""The refund request: what a customer asks back, and the one place its status changes.

Every status change goes through ``RefundRequest._move``, which checks the move against
``lifecycle.TRANSITIONS``, appends a timeline event (actor, time, from, to, reason) and emits
a domain event. Nothing else assigns ``status``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from refundflow.domain.actors import Actor
from refundflow.domain.balances import Pricing
from refundflow.domain.decisions import Decision
from refundflow.domain.errors import ConflictError, IllegalTransitionError, InvalidInputError
from refundflow.domain.events import (
    DomainEvent,
    refund_request_decided,
    refund_request_status_changed,
    refund_request_submitted,
)
from refundflow.domain.inspection import (
    RESELLABLE,
    Grade,
    InspectionRules,
    LineGrade,
    after_deductions,
)
from refundflow.domain.lifecycle import RELEASED, TRANSITIONS, Action, RequestType, Status
from refundflow.domain.money import Money
from refundflow.domain.orders import Order


class RefundRoute(StrEnum):
    ORIGINAL = "original"
    BANK_TRANSFER = "bank_transfer"
    E_WALLET = "e_wallet"
    STORE_CREDIT = "store_credit"


class IntakeChannel(StrEnum):
    PORTAL = "portal"
    HOTLINE = "hotline"
    CHAT = "chat"
    EMAIL = "email"
    API = "api"


SUBMIT = "submit"


@dataclass(frozen=True, slots=True)
class ExchangeTarget:
    """What an exchange sends instead: another sku (size, colour) at its unit price."""

    sku: str
    name: str
    unit_price: Money


DECIDE = "decide"
LANGUAGES = ("zh-CN", "en")


def request_number(request_id: int, local_day: date) -> str:
    """The number customers and staff quote, e.g. ``RF20261126-000123``: the shop's date of
    the request and its id, so the number is unique because the id is."""
    day = local_day.year * 10000 + local_day.month * 100 + local_day.day
    return f"RF{day:08d}-{request_id:06d}"


def request_id_of(number: str) -> int | None:
    """The id inside a request number, or None if ``number`` is not one."""
    prefix, _, digits = number.partition("-")
    if len(prefix) != 10 or not prefix.startswith("RF") or not prefix[2:].isdigit():
        return None
    return int(digits) if digits.isdigit() else None


@dataclass(slots=True)
class RequestLine:
    order_line_id: int
    sku: str
    name: str
    quantity: int
    amount: Money
    id: int | None = None
    grade: str | None = None


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    at: datetime
    actor: Actor
    action: str
    from_status: Status | None
    to_status: Status
    reason: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def _text(value: str | None, field_name: str, *, required: bool, limit: int = 500) -> str | None:
    if value is not None:
        value = value.strip()
    if not value:
        if required:
            raise InvalidInputError(f"{field_name} is required", details={"field": field_name})
        return None
    if len(value) > limit:
        raise InvalidInputError(
            f"{field_name} is longer than {limit} characters", details={"field": field_name}
        )
    return value


@dataclass(slots=True)
class RefundRequest:
    id: int
    number: str
    order_id: int
    order_no: str
    customer_id: int
    type: RequestType
    reason: str
    description: str
    lines: list[RequestLine]
    include_shipping: bool
    shipping_amount: Money
    refund_route: RefundRoute
    intake_channel: IntakeChannel
    currency: str
    amount_requested: Money
    status: Status
    created_at: datetime
    updated_at: datetime
    amount_approved: Money | None = None
    amount_refunded: Money | None = None
    requires_return: bool | None = None
    goods_received: bool = False
    appealed: bool = False
    return_carrier: str | None = None
    return_tracking_no: str | None = None
    language: str = "zh-CN"
    categories: tuple[str, ...] = ()
    skus: tuple[str, ...] = ()
    decision: Decision | None = None
    priority: str = "normal"
    fast_track: bool = False
    queue: str | None = None
    auto_execute: bool = False
    approved_at: datetime | None = None
    refunded_at: datetime | None = None
    approved_by: str | None = None
    finance_approval_required: bool = False
    finance_approved_by: str | None = None
    return_delivered_at: datetime | None = None
    root_cause: str | None = None
    exchange_sku: str | None = None
    exchange_name: str | None = None
    exchange_price: Money | None = None
    amount_payable: Money | None = None
    parent_id: int | None = None
    channel: str = ""
    customer_tier: str = "standard"
    order_shipped: bool = False
    new_timeline: list[TimelineEvent] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)

    # ------------------------------------------------------------------ creation
    @classmethod
    def submit(
        cls,
        *,
        request_id: int,
        number: str,
        order: Order,
        pricing: Pricing,
        include_shipping: bool,
        type: RequestType,
        reason: str,
        description: str,
        refund_route: RefundRoute,
        intake_channel: IntakeChannel,
        actor: Actor,
        at: datetime,
        language: str = "zh-CN",
        exchange: ExchangeTarget | None = None,
        parent_id: int | None = None,
    ) -> RefundRequest:
        assert order.id is not None and order.customer.id is not None
        if language not in LANGUAGES:
            raise InvalidInputError(
                f"language must be one of {', '.join(LANGUAGES)}", details={"field": "language"}
            )
        request = cls(
            id=request_id,
            number=number,
            order_id=order.id,
            order_no=order.order_no,
            customer_id=order.customer.id,
            type=type,
            reason=reason,
            description=_text(description, "description", required=False, limit=2000) or "",
            lines=[
                RequestLine(p.line.id or 0, p.line.sku, p.line.name, p.quantity, p.amount)
                for p in pricing.lines
            ],
            include_shipping=include_shipping,
            shipping_amount=pricing.shipping,
            refund_route=refund_route,
            intake_channel=intake_channel,
            currency=order.currency,
            amount_requested=pricing.amount,
            status=Status.PENDING_REVIEW,
            created_at=at,
            updated_at=at,
            language=language,
            categories=tuple(sorted({p.line.category for p in pricing.lines})),
            skus=tuple(sorted({p.line.sku for p in pricing.lines})),
            channel=order.channel,
            customer_tier=order.customer.tier.value,
            order_shipped=order.shipped_at is not None,
            parent_id=parent_id,
        )
        if exchange is not None:
            request._set_exchange(exchange)
        request.new_timeline.append(
            TimelineEvent(at, actor, SUBMIT, None, Status.PENDING_REVIEW, None)
        )
        request.events.append(refund_request_submitted(request_id, number, at, request.summary()))
        return request

    # ------------------------------------------------------------------ the chokepoint
    def _check(self, action: Action) -> None:
        if action not in TRANSITIONS[self.status]:
            allowed = [a.value for a in TRANSITIONS[self.status]]
            raise IllegalTransitionError(
                f"cannot {action.value} a request that is {self.status.value}; "
                + (f"allowed now: {', '.join(allowed)}" if allowed else "it is closed"),
                details={
                    "status": self.status.value,
                    "action": action.value,
                    "allowed_actions": allowed,
                },
            )

    def check(self, action: Action) -> None:
        """Refuse ``action`` now if the status does not allow it (before any side work)."""
        self._check(action)

    def _move(
        self,
        action: Action,
        to: Status,
        actor: Actor,
        at: datetime,
        reason: str | None = None,
        **data: Any,
    ) -> None:
        self._check(action)
        if to not in TRANSITIONS[self.status][action]:
            raise IllegalTransitionError(
                f"{action.value} cannot lead from {self.status.value} to {to.value}",
                details={"status": self.status.value, "action": action.value, "to": to.value},
            )
        from_status = self.status
        self.status = to
        self.updated_at = at
        self.new_timeline.append(
            TimelineEvent(at, actor, action.value, from_status, to, reason, data)
        )
        self.events.append(
            refund_request_status_changed(
                self.id,
                at,
                {
                    **self.summary(),
                    "action": action.value,
                    "from_status": from_status.value,
                    "to_status": to.value,
                    "actor": actor.as_dict(),
                    "reason": reason,
                },
            )
        )

    # ------------------------------------------------------------------ views
    @property
    def moves_money(self) -> bool:
        return self.type is not RequestType.EXCHANGE

    @property
    def money_held(self) -> Money:
        """What this request holds against the order's paid money."""
        if self.status in RELEASED:
            return Money.zero(self.currency)
        if self.amount_refunded is not None:
            return self.amount_refunded
        if self.amount_approved is not None:
            return self.amount_approved
        return self.amount_requested

    @property
    def holds_balance(self) -> bool:
        return self.status not in RELEASED

    def allowed_actions(self) -> list[Action]:
        return list(TRANSITIONS[self.status])

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.number,
            "order_no": self.order_no,
            "type": self.type.value,
            "status": self.status.value,
            "currency": self.currency,
            "amount_requested": self.amount_requested.text(),
        }

    # ------------------------------------------------------------------ actions
    def approve(
        self,
        actor: Actor,
        at: datetime,
        *,
        amount: Money | None = None,
        requires_return: bool | None = None,
        reason: str | None = None,
        extra: dict[str, Any] | None = None,
        finance_above: Money | None = None,
    ) -> None:
        """Approve; the goods come back first unless the request is refund-only or
        the approver waives the return (a returnless refund). A refund above
        ``finance_above`` then waits for a finance approval by another person."""
        self._check(Action.APPROVE)
        if amount is not None:
            if not self.moves_money:
                raise InvalidInputError(
                    "an exchange moves no money: approve it without an amount",
                    details={"field": "amount"},
                )
            if amount.currency != self.currency:
                raise InvalidInputError(
                    f"amount must be in {self.currency}", details={"field": "amount"}
                )
            if amount.is_negative() or amount > self.amount_requested:
                raise InvalidInputError(
                    f"the approved amount must be between 0 and the requested "
                    f"{self.amount_requested.text()}",
                    details={"field": "amount", "requested": self.amount_requested.text()},
                )
        if requires_return is None:
            requires_return = self.type is not RequestType.REFUND_ONLY
        if self.goods_received:
            requires_return = False
        if not requires_return and not self.moves_money:
            raise InvalidInputError(
                "an exchange needs the goods back first; reject it or let the customer "
                "ask for a refund instead",
                details={"field": "requires_return"},
            )
        self.amount_approved = amount if amount is not None else self.amount_requested
        self.requires_return = requires_return
        self.approved_at = at
        self.approved_by = actor.id
        self.finance_approval_required = bool(
            self.moves_money
            and finance_above is not None
            and finance_above.currency == self.currency
            and self.amount_approved > finance_above
        )
        target = Status.AWAITING_RETURN if requires_return else Status.REFUND_PENDING
        self._move(
            Action.APPROVE,
            target,
            actor,
            at,
            _text(reason, "reason", required=False),
            amount_approved=self.amount_approved.text(),
            requires_return=requires_return,
            **(extra or {}),
        )

    def reject(
        self,
        actor: Actor,
        at: datetime,
        *,
        reason: str | None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self._check(Action.REJECT)
        self._move(
            Action.REJECT,
            Status.REJECTED,
            actor,
            at,
            _text(reason, "reason", required=True),
            **(extra or {}),
        )

    def cancel(self, actor: Actor, at: datetime, *, reason: str | None = None) -> None:
        self._check(Action.CANCEL)
        self._move(
            Action.CANCEL, Status.CANCELLED, actor, at, _text(reason, "reason", required=False)
        )

    def record_return_shipment(
        self, actor: Actor, at: datetime, *, carrier: str | None, tracking_no: str | None
    ) -> None:
        self._check(Action.RETURN_SHIPMENT)
        self.return_carrier = _text(carrier, "carrier", required=True, limit=64)
        self.return_tracking_no = _text(tracking_no, "tracking_no", required=True, limit=64)
        self._move(
            Action.RETURN_SHIPMENT,
            Status.AWAITING_RETURN,
            actor,
            at,
            None,
            carrier=self.return_carrier,
            tracking_no=self.return_tracking_no,
        )

    def carrier_delivered(self, actor: Actor, at: datetime, *, delivered_at: datetime) -> None:
        """The carrier says the return parcel arrived: the receipt deadline starts."""
        self._check(Action.CARRIER_DELIVERED)
        if not self.return_tracking_no:
            raise ConflictError("no return shipment is recorded for this request yet")
        self.return_delivered_at = min(delivered_at, at)
        self._move(
            Action.CARRIER_DELIVERED,
            Status.AWAITING_RETURN,
            actor,
            at,
            None,
            delivered_at=self.return_delivered_at.isoformat(),
        )

    def receive(self, actor: Actor, at: datetime, *, note: str | None = None) -> None:
        self._check(Action.RECEIVE)
        self.goods_received = True
        self._move(Action.RECEIVE, Status.RECEIVED, actor, at, _text(note, "note", required=False))

    def inspect(
        self,
        actor: Actor,
        at: datetime,
        *,
        passed: bool,
        note: str | None = None,
        grades: list[LineGrade] | None = None,
        rules: InspectionRules | None = None,
    ) -> None:
        """A passed inspection sends the money (or the replacement) on its way, less the
        grade deductions the customer answers for; the graded lines go back to stock
        (A, B) or are scrapped (C). A failed one sends the request back to customer service
        with the warehouse's note."""
        self._check(Action.INSPECT)
        rules = rules or InspectionRules()
        graded = {g.sku: g for g in grades or []}
        data: dict[str, Any] = {"result": "pass" if passed else "fail"}
        if graded:
            data["grades"] = {sku: g.grade.value for sku, g in graded.items()}
        if passed:
            target = Status.REFUND_PENDING if self.moves_money else Status.EXCHANGE_PENDING
            if graded and self.moves_money:
                amount = self.shipping_amount
                for line in self.lines:
                    grade = graded[line.sku].grade
                    amount = amount + after_deductions(
                        line.amount, rules.deduction(grade, self.reason)
                    )
                held = self.amount_approved or self.amount_requested
                self.amount_approved = amount if amount < held else held
                data["amount_approved"] = self.amount_approved.text()
        else:
            target = Status.PENDING_REVIEW
        for line in self.lines:
            if line.sku in graded:
                line.grade = graded[line.sku].grade.value
        self._move(
            Action.INSPECT, target, actor, at, _text(note, "note", required=not passed), **data
        )
        if passed:
            for line in self.lines:
                grade = Grade(line.grade) if line.grade else Grade.A
                topic = "inventory.restocked" if grade in RESELLABLE else "inventory.scrapped"
                self.events.append(
                    DomainEvent(
                        topic,
                        f"refund_request:{self.id}",
                        at,
                        {
                            "request_id": self.id,
                            "number": self.number,
                            "order_no": self.order_no,
                            "sku": line.sku,
                            "quantity": line.quantity,
                            "grade": grade.value,
                        },
                    )
                )

    def finance_approve(self, actor: Actor, at: datetime, *, note: str | None = None) -> None:
        """The second signature on a large refund: finance, and never the person who
        approved the request (maker–checker)."""
        self._check(Action.FINANCE_APPROVE)
        if not self.finance_approval_required:
            raise ConflictError(
                f"{self.amount_approved} is below the finance approval threshold: execute it",
                details={"action": Action.FINANCE_APPROVE.value},
            )
        if self.finance_approved_by is not None:
            raise ConflictError(
                "finance already approved this refund",
                details={"approved_by": self.finance_approved_by},
            )
        if actor.id is not None and actor.id == self.approved_by:
            raise ConflictError(
                "the person who approved the request cannot also give the finance approval: "
                "a second person must",
                details={"approved_by": self.approved_by},
            )
        self.finance_approved_by = actor.id
        self._move(
            Action.FINANCE_APPROVE,
            Status.REFUND_PENDING,
            actor,
            at,
            _text(note, "note", required=False),
            approved_by=actor.id,
            amount=self.money_held.text(),
        )

    def execute(self, actor: Actor, at: datetime) -> None:
        self._check(Action.EXECUTE)
        if self.finance_approval_required and self.finance_approved_by is None:
            raise ConflictError(
                f"a refund of {self.amount_approved} needs finance approval by a second "
                "person before it is executed",
                details={"allowed_actions": [Action.FINANCE_APPROVE.value, Action.CANCEL.value]},
            )
        self._move(Action.EXECUTE, Status.REFUNDING, actor, at)

    def retry(self, actor: Actor, at: datetime, *, reason: str | None = None) -> None:
        self._move(
            Action.RETRY, Status.REFUNDING, actor, at, _text(reason, "reason", required=False)
        )

    def mark_refunded(self, actor: Actor, at: datetime, *, reference: str | None = None) -> None:
        self._check(Action.MARK_REFUNDED)
        self.amount_refunded = self.amount_approved or self.amount_requested
        self.refunded_at = at
        self._move(
            Action.MARK_REFUNDED,
            Status.REFUNDED,
            actor,
            at,
            None,
            amount_refunded=self.amount_refunded.text(),
            reference=_text(reference, "reference", required=False, limit=128),
        )

    def mark_failed(self, actor: Actor, at: datetime, *, reason: str | None) -> None:
        self._check(Action.MARK_FAILED)
        self._move(
            Action.MARK_FAILED,
            Status.REFUND_FAILED,
            actor,
            at,
            _text(reason, "reason", required=True),
        )

    def ship_replacement(
        self, actor: Actor, at: datetime, *, carrier: str | None, tracking_no: str | None
    ) -> None:
        self._check(Action.SHIP_REPLACEMENT)
        self._move(
            Action.SHIP_REPLACEMENT,
            Status.EXCHANGED,
            actor,
            at,
            None,
            carrier=_text(carrier, "carrier", required=True, limit=64),
            tracking_no=_text(tracking_no, "tracking_no", required=True, limit=64),
        )

    def appeal(self, actor: Actor, at: datetime, *, reason: str | None) -> None:
        """A rejected request may be appealed once; it goes back to review. The caller must
        hold the order's lock and check that the balance still covers it."""
        self._check(Action.APPEAL)
        if self.appealed:
            raise IllegalTransitionError(
                "this request was already appealed once; open a complaint instead",
                details={"status": self.status.value, "action": Action.APPEAL.value},
            )
        self.appealed = True
        self._move(
            Action.APPEAL, Status.PENDING_REVIEW, actor, at, _text(reason, "reason", required=True)
        )

    def _set_exchange(self, target: ExchangeTarget) -> None:
        if self.type is not RequestType.EXCHANGE:
            raise InvalidInputError(
                "only an exchange names a replacement", details={"field": "exchange_sku"}
            )
        if len(self.lines) != 1:
            raise InvalidInputError(
                "an exchange swaps one line for its replacement", details={"field": "lines"}
            )
        if target.unit_price.currency != self.currency or target.unit_price.is_negative():
            raise InvalidInputError(
                f"the replacement's price is an amount in {self.currency}",
                details={"field": "exchange_price"},
            )
        self.exchange_sku = target.sku
        self.exchange_name = target.name
        self.exchange_price = target.unit_price
        difference = self.exchange_difference
        if difference is not None and difference.is_negative():
            self.amount_payable = -difference

    @property
    def exchange_difference(self) -> Money | None:
        """What the returned units were worth less what the replacement costs: positive is
        refunded to the customer, negative is owed by them."""
        if self.exchange_price is None or not self.lines:
            return None
        line = self.lines[0]
        return line.amount - self.exchange_price.times(line.quantity)

    def note(
        self, action: str, actor: Actor, at: datetime, reason: str | None = None, **data: Any
    ) -> None:
        """A timeline event that is not a status change (a decision to review, an
        escalation, a tag): the status stays, the event is still recorded."""
        self.updated_at = at
        self.new_timeline.append(
            TimelineEvent(at, actor, action, self.status, self.status, reason, data)
        )

    def tag_root_cause(self, actor: Actor, at: datetime, code: str) -> None:
        self.root_cause = code
        self.note("root-cause", actor, at, None, root_cause=code)

    def apply_decision(
        self, decision: Decision, at: datetime, *, finance_above: Money | None = None
    ) -> None:
        """The policy's decision on a new request: approve or reject through the lifecycle,
        or leave it for review with its queue and priority; either way the timeline says
        which policy version and rule decided, and why."""
        if self.status is not Status.PENDING_REVIEW:
            raise IllegalTransitionError(
                "only a request waiting for review can be decided",
                details={"status": self.status.value},
            )
        self.decision = decision
        self.fast_track = decision.fast_track
        self.priority = "high" if decision.fast_track else decision.priority
        self.queue = decision.queue
        actor = Actor.policy(decision.policy_version or 0)
        reason = decision.explanation(self.language).customer
        data = {
            "policy_version": decision.policy_version,
            "rule": decision.rule,
            "rule_number": decision.rule_number,
        }
        self.events.append(
            refund_request_decided(
                self.id,
                at,
                {
                    **self.summary(),
                    "outcome": decision.outcome,
                    "policy_version": decision.policy_version,
                    "rule": decision.rule,
                },
            )
        )
        if decision.outcome == "approve":
            self.auto_execute = decision.auto_execute
            # An exchange always needs the goods back, whatever the rule says.
            requires_return = decision.requires_return if self.moves_money else True
            self.approve(
                actor,
                at,
                requires_return=requires_return,
                reason=reason,
                extra=data,
                finance_above=finance_above,
            )
        elif decision.outcome == "reject":
            self.reject(actor, at, reason=reason, extra=data)
        else:
            self.note(DECIDE, actor, at, reason, **data, outcome="review")

    def pull_events(self) -> tuple[list[TimelineEvent], list[DomainEvent]]:
        timeline, events = self.new_timeline, self.events
        self.new_timeline, self.events = [], []
        return timeline, events
