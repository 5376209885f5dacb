"""Simulating a policy version on stored history, before it is published.

Every stored request made in ``[start, end)`` is re-decided under the version and under the
published policy, with the facts it had when it was made. The history facts are computed in
one pass over the requests sorted by customer and time (and the orders, in the same order),
never one query per request, and only one customer's history is held at a time — memory
stays bounded whatever the number of rows. It is a pure read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from refundflow.domain.actors import Actor
from refundflow.domain.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from refundflow.domain.money import CURRENCY_EXPONENTS, Money
from refundflow.domain.permissions import Operation, may
from refundflow.policy.compiler import CompiledPolicy
from refundflow.policy.history import (
    CustomerHistory,
    FactPlan,
    OrderSide,
    PastRequest,
    RequestSide,
    facts_for,
)
from refundflow.services.policies import compiled
from refundflow.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

SHOWN_CHANGES = 100
ZERO = Decimal(0)
NO_RULE = -1

# Positions in the rows of the history pass (adapters/db/history_repo.REQUEST_COLUMNS).
(
    ID,
    NUMBER,
    CUSTOMER,
    CREATED,
    STATUS,
    TYPE,
    REASON,
    INTAKE,
    CURRENCY,
    AMOUNT,
    CATEGORIES,
    SKUS,
    OUTCOME,
    APPROVED_AT,
    APPROVED,
    REFUNDED_AT,
    REFUNDED,
    ORDER,
    TOTAL,
    CHANNEL,
    METHODS,
    PAID_AT,
    SHIPPED_AT,
    DELIVERED_AT,
    TIER,
    ORDERS_BY_THEN,
) = range(26)
SEP = "\x1f"


def _version(uow: UnitOfWork, version: int) -> CompiledPolicy:
    stored = uow.policies.get(version)
    if stored is None:
        raise NotFoundError(f"no policy version {version}", details={"version": version})
    return compiled(uow, version, stored.digest)


def simulate(
    uows: UnitOfWorkFactory,
    actor: Actor,
    version: int,
    start: datetime,
    end: datetime,
    *,
    minutes_per_review: int,
) -> dict[str, Any]:
    if not may(actor.role, Operation.MANAGE_SETTINGS):
        raise PermissionDeniedError(f"the {actor.role.value} role cannot simulate policies")
    if end <= start:
        raise InvalidInputError("'to' must be after 'from'", details={"field": "to"})
    with uows(write=False) as uow:
        target = _version(uow, version)
        published_row = uow.policies.published()
        published = published_row[0] if published_row is not None else None
        current = compiled(uow, *published_row) if published_row is not None else None
        rows = uow.history.requests_before(end)
        result = _pass(uow, rows, start, current, target)
    reviews_saved = result["current_outcomes"]["review"] - result["simulated_outcomes"]["review"]
    return {
        "version": version,
        "current_version": published,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "count": result["count"],
        "outcomes": {
            "current": result["current_outcomes"],
            "simulated": result["simulated_outcomes"],
        },
        "changed": {"total": result["changed_total"], "requests": result["changed"]},
        "auto_approved": {
            "current": _amounts(result["current_money"]),
            "simulated": _amounts(result["simulated_money"]),
        },
        "minutes_per_review": minutes_per_review,
        "review_hours_saved": str(
            (Decimal(reviews_saved * minutes_per_review) / 60).quantize(Decimal("0.1"))
        ),
    }


def rules_under(
    uows: UnitOfWorkFactory, version: int, start: datetime, end: datetime
) -> dict[int, str | None]:
    """Which rule of ``version`` decides each request made in ``[start, end)``, with the
    facts it had then (None: no rule matches)."""
    decided: dict[int, str | None] = {}
    with uows(write=False) as uow:
        target = _version(uow, version)
        rows = uow.history.requests_before(end)
        _pass(uow, rows, start, None, target, decided.__setitem__)
    return decided


def _amounts(by_currency: dict[str, int]) -> dict[str, str]:
    return {c: Money.from_minor(minor, c).text() for c, minor in sorted(by_currency.items())}


def _pass(
    uow: UnitOfWork,
    rows: Iterator[tuple[Any, ...]],
    start: datetime,
    current: CompiledPolicy | None,
    target: CompiledPolicy,
    on_decision: Callable[[int, str | None], None] | None = None,
) -> dict[str, Any]:
    """One pass over the rows; written for speed (locals, tables, no work a policy does not
    need), since it runs once per stored request. ``on_decision(request_id, rule)`` hears
    each simulated decision."""
    time = uow.history.time_reader()
    start = start.astimezone(UTC).replace(tzinfo=None)  # the pass compares naive UTC times
    plan = FactPlan.of([*target.facts_used, *(current.facts_used if current else ())])
    reader = _Reader(plan, {*target.facts_used, *(current.facts_used if current else ())}, time)
    keep_history = plan.history
    used = {*target.facts_used, *(current.facts_used if current else ())}
    # What the history facts need of each earlier request and of the orders.
    refunds = bool(used & {"customer_refund_rate", "customer_refund_amount_90d"})
    approvals = "trust_quota_left" in used
    target_quota = target.document.trust_quota
    current_quota = current.document.trust_quota if current else target_quota
    same_quota = current is None or current_quota == target_quota
    target_rules = _rules(target)
    current_rules = _rules(current) if current is not None else _rules(None)
    current_counts = {"approve": 0, "reject": 0, "review": 0}
    simulated_counts = {"approve": 0, "reject": 0, "review": 0}
    current_money: dict[str, int] = {}
    simulated_money: dict[str, int] = {}
    changed: list[dict[str, Any]] = []
    changed_total = count = 0
    customer = None
    history = CustomerHistory()
    for row in rows:
        if keep_history and row[CUSTOMER] != customer:
            customer = row[CUSTOMER]
            history = CustomerHistory()
        created: datetime = time(row[CREATED])  # type: ignore[assignment]
        if created >= start:
            count += 1
            facts = reader.facts(row, created, history, target_quota)
            simulated_index = target.match(facts)
            if current is target:
                current_index = simulated_index
            elif current is None:
                current_index = None
            else:
                current_index = current.match(
                    facts if same_quota else reader.facts(row, created, history, current_quota)
                )
            now_outcome, now_rule = current_rules[current_index]
            new_outcome, new_rule = target_rules[simulated_index]
            if on_decision is not None:
                on_decision(row[ID], new_rule)
            current_counts[now_outcome] += 1
            simulated_counts[new_outcome] += 1
            currency = row[CURRENCY]
            if now_outcome == "approve":
                current_money[currency] = current_money.get(currency, 0) + row[AMOUNT]
            if new_outcome == "approve":
                simulated_money[currency] = simulated_money.get(currency, 0) + row[AMOUNT]
            if now_outcome != new_outcome:
                changed_total += 1
                if len(changed) < SHOWN_CHANGES:
                    changed.append(
                        {
                            "id": row[ID],
                            "number": row[NUMBER],
                            "current": {"outcome": now_outcome, "rule": now_rule},
                            "simulated": {"outcome": new_outcome, "rule": new_rule},
                        }
                    )
        if keep_history:
            currency = row[CURRENCY]
            history.requests.append(
                PastRequest(
                    created,
                    row[STATUS],
                    row[ORDER],
                    time(row[APPROVED_AT]) if approvals else None,
                    row[OUTCOME] == "approve",
                    _major(row[APPROVED], currency) if approvals else ZERO,
                    time(row[REFUNDED_AT]) if refunds else None,
                    _major(row[REFUNDED], currency) if refunds else ZERO,
                )
            )
    return {
        "count": count,
        "current_outcomes": current_counts,
        "simulated_outcomes": simulated_counts,
        "current_money": current_money,
        "simulated_money": simulated_money,
        "changed": changed,
        "changed_total": changed_total,
    }


def _rules(policy: CompiledPolicy | None) -> dict[int | None, tuple[str, str | None]]:
    """Rule index → (outcome, rule id); None (no rule matched) → review."""
    table: dict[int | None, tuple[str, str | None]] = {None: ("review", None)}
    for index, rule in enumerate(policy.document.rules if policy is not None else ()):
        table[index] = (rule.outcome.value, rule.id)
    return table


def _major(minor: int | None, currency: str) -> Decimal:
    if minor is None:
        return ZERO
    return Decimal(minor).scaleb(-CURRENCY_EXPONENTS[currency])


EMPTY: frozenset[str] = frozenset()


def _set(text: str) -> frozenset[str]:
    return frozenset(text.split(SEP)) if text else EMPTY


class _Reader:
    """Turns a row into facts, reading only the columns the plan's facts use."""

    def __init__(self, plan: FactPlan, used: set[str], time: Any) -> None:
        self.plan = plan
        self.time = time
        self.sets = ("category" in used, "sku" in used, "payment_method" in used)
        self.order_times = bool(plan.timed)
        self.total = "order_total" in used

    def facts(
        self,
        row: tuple[Any, ...],
        created: datetime,
        history: CustomerHistory,
        quota: Any,
    ) -> dict[str, object]:
        currency = row[CURRENCY]
        categories, skus, methods = self.sets
        time = self.time
        timed = self.order_times
        return facts_for(
            RequestSide(
                amount=_major(row[AMOUNT], currency),
                currency=currency,
                type=row[TYPE],
                reason=row[REASON],
                categories=_set(row[CATEGORIES]) if categories else EMPTY,
                skus=_set(row[SKUS]) if skus else EMPTY,
                intake_channel=row[INTAKE],
            ),
            OrderSide(
                total=_major(row[TOTAL], currency) if self.total else ZERO,
                channel=row[CHANNEL],
                payment_methods=_set(row[METHODS]) if methods else EMPTY,
                paid_at=time(row[PAID_AT]) if timed else None,
                shipped_at=time(row[SHIPPED_AT]) if timed else None,
                delivered_at=time(row[DELIVERED_AT]) if timed else None,
            ),
            row[TIER],
            history,
            created,
            quota,
            plan=self.plan,
            orders=row[ORDERS_BY_THEN],
        )
