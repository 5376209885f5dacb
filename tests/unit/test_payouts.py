"""Refund records, split-tender allocation and the ledger: plain domain rules."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refundflow.domain.allocation import AllocationRule, allocate
from refundflow.domain.errors import BalanceExceededError, ConflictError, IllegalTransitionError
from refundflow.domain.ledger import EntryKind, InsufficientBalanceError, LedgerAccount, post
from refundflow.domain.money import Money
from refundflow.domain.orders import Payment, PaymentMethod
from refundflow.domain.payouts import (
    RECORD_TRANSITIONS,
    PayoutRoute,
    RecordStatus,
    RefundRecord,
    refund_key,
)
from refundflow.domain.requests import RefundRoute
from tests.builders import cny

AT = datetime(2026, 11, 26, tzinfo=UTC)


def record(status: RecordStatus = RecordStatus.PENDING, attempts: int = 0) -> RefundRecord:
    return RefundRecord(
        1,
        1,
        1,
        1,
        PayoutRoute.ALIPAY,
        cny("10.00"),
        status,
        refund_key(1),
        AT,
        AT,
        attempts=attempts,
    )


def test_the_key_is_derived_from_the_record_id_alone() -> None:
    assert refund_key(42) == refund_key(42) == "rf000000000042"
    assert refund_key(42, "shop") == "shop000000000042"
    assert refund_key(1) != refund_key(2)
    assert len(refund_key(10**11)) < 32
    with pytest.raises(ValueError, match="positive"):
        refund_key(0)


@pytest.mark.parametrize("start", list(RecordStatus))
@pytest.mark.parametrize("to", list(RecordStatus))
def test_a_record_moves_only_as_its_table_allows(start: RecordStatus, to: RecordStatus) -> None:
    item = record(start)
    moves = {
        RecordStatus.SUCCEEDED: lambda: item.succeed(AT, reference="R"),
        RecordStatus.FAILED: lambda: item.fail(AT, reason="no"),
        RecordStatus.NEEDS_RECONCILIATION: lambda: item.escalate(AT, reason="?"),
        RecordStatus.PENDING: lambda: item.reopen(AT, actor="finance"),
    }
    if to in RECORD_TRANSITIONS[start]:
        moves[to]()
        assert item.status is to
        assert [(c.from_status, c.to_status) for c in item.changes] == [(start, to)]
    else:
        with pytest.raises(IllegalTransitionError):
            moves[to]()
        assert item.status is start
        assert item.changes == []


def test_a_succeeded_record_is_final_and_only_a_failed_one_is_replaced() -> None:
    assert RECORD_TRANSITIONS[RecordStatus.SUCCEEDED] == frozenset()
    with pytest.raises(ConflictError):
        record(RecordStatus.PENDING).replace(2, AT)
    failed = record(RecordStatus.FAILED)
    failed.replace(2, AT)
    assert failed.replaced_by == 2
    assert not failed.holds_payment
    with pytest.raises(ConflictError):
        failed.replace(3, AT)


def pay(method: PaymentMethod, amount: str, pid: int) -> Payment:
    return Payment(method, cny(amount), f"REF-{pid}", id=pid)


def test_the_default_order_takes_store_credit_first_then_the_gateways() -> None:
    payments = [pay(PaymentMethod.ALIPAY, "80.00", 1), pay(PaymentMethod.STORE_CREDIT, "20.00", 2)]
    parts = allocate(cny("50.00"), payments, {}, RefundRoute.ORIGINAL, AllocationRule())
    assert [(p.route, p.amount) for p in parts] == [
        (PayoutRoute.STORE_CREDIT, cny("20.00")),
        (PayoutRoute.ALIPAY, cny("30.00")),
    ]


def test_a_chosen_route_keeps_the_payments_it_takes_from() -> None:
    payments = [pay(PaymentMethod.WECHAT_PAY, "100.00", 1)]
    parts = allocate(cny("40.00"), payments, {}, RefundRoute.BANK_TRANSFER, AllocationRule())
    assert [(p.route, p.payment.id) for p in parts] == [(PayoutRoute.BANK_TRANSFER, 1)]


def test_a_payment_never_gives_more_than_it_has_left() -> None:
    payments = [pay(PaymentMethod.ALIPAY, "100.00", 1)]
    with pytest.raises(BalanceExceededError):
        allocate(cny("30.01"), payments, {1: cny("70.00")}, RefundRoute.ORIGINAL, AllocationRule())


@given(
    amounts=st.lists(st.integers(1, 100_000), min_size=1, max_size=4),
    used=st.lists(st.integers(0, 100_000), min_size=4, max_size=4),
    share=st.integers(0, 100),
    mode=st.sampled_from(["order", "proportion"]),
)
def test_allocation_adds_up_to_the_cent_within_every_payment(
    amounts: list[int], used: list[int], share: int, mode: str
) -> None:
    methods = [
        PaymentMethod.ALIPAY,
        PaymentMethod.WECHAT_PAY,
        PaymentMethod.STORE_CREDIT,
        PaymentMethod.CARD,
    ]
    payments = [
        Payment(methods[i], Money.from_minor(a, "CNY"), None, id=i + 1)
        for i, a in enumerate(amounts)
    ]
    taken = {
        p.id or 0: Money.from_minor(min(used[i], amounts[i]), "CNY") for i, p in enumerate(payments)
    }
    left = sum(amounts) - sum(t.minor for t in taken.values())
    amount = Money.from_minor(left * share // 100, "CNY")
    parts = allocate(amount, payments, taken, RefundRoute.ORIGINAL, AllocationRule(mode))
    assert sum(p.amount.minor for p in parts) == amount.minor
    for part in parts:
        assert part.amount.minor > 0
        assert part.amount + taken[part.payment.id or 0] <= part.payment.amount


def test_proportion_splits_by_captured_value() -> None:
    payments = [pay(PaymentMethod.ALIPAY, "75.00", 1), pay(PaymentMethod.WECHAT_PAY, "25.00", 2)]
    parts = allocate(cny("10.00"), payments, {}, RefundRoute.ORIGINAL, AllocationRule("proportion"))
    assert {p.route: p.amount for p in parts} == {
        PayoutRoute.ALIPAY: cny("7.50"),
        PayoutRoute.WECHAT_PAY: cny("2.50"),
    }


def test_a_ledger_balance_never_goes_below_zero() -> None:
    entry = post(
        cny("5.00"),
        customer_id=1,
        account=LedgerAccount.STORE_CREDIT,
        amount=-cny("5.00"),
        kind=EntryKind.SPEND,
        at=AT,
    )
    assert entry.balance_after == cny("0.00")
    with pytest.raises(InsufficientBalanceError):
        post(
            cny("5.00"),
            customer_id=1,
            account=LedgerAccount.STORE_CREDIT,
            amount=-cny("5.01"),
            kind=EntryKind.SPEND,
            at=AT,
        )
    with pytest.raises(Exception, match="credits the customer"):
        post(
            cny("5.00"),
            customer_id=1,
            account=LedgerAccount.E_WALLET,
            amount=Money(Decimal("-1.00"), "CNY"),
            kind=EntryKind.REFUND,
            at=AT,
        )
