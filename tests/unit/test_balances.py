"""Refundable balances: never more units or money than bought and paid, to the cent."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refundflow.domain.balances import Holds, LineHold, balance, price_request
from refundflow.domain.errors import BalanceExceededError, InvalidInputError
from refundflow.domain.money import Money
from refundflow.domain.orders import OrderLine
from tests.builders import cny, line, order


def _hold(holds: Holds, sku_line: OrderLine, quantity: int, value: Money) -> None:
    assert sku_line.id is not None
    old = holds.line(sku_line)
    holds.lines[sku_line.id] = LineHold(old.units + quantity, old.value + value)


@st.composite
def baskets(draw: st.DrawFn) -> tuple[list[OrderLine], str, list[list[int]]]:
    """Lines with odd prices and discounts, a shipping fee, and for each line a random
    split of its units into successive requests."""
    count = draw(st.integers(1, 5))
    lines, splits = [], []
    for i in range(count):
        quantity = draw(st.integers(1, 7))
        price_minor = draw(st.integers(1, 99_999))
        discount_minor = draw(st.integers(0, price_minor * quantity))
        lines.append(
            OrderLine(
                f"S{i}",
                f"item {i}",
                "cat",
                quantity,
                Money.from_minor(price_minor, "CNY"),
                Money.from_minor(discount_minor, "CNY"),
                id=i + 1,
            )
        )
        parts, left = [], quantity
        while left:
            take = draw(st.integers(1, left))
            parts.append(take)
            left -= take
        splits.append(parts)
    shipping = str(Decimal(draw(st.integers(0, 2000))) / 100)
    return lines, shipping, splits


@settings(max_examples=10_000, deadline=None)
@given(basket=baskets(), data=st.data())
def test_refunding_a_basket_line_by_line_sums_exactly_to_what_was_paid(
    basket: tuple[list[OrderLine], str, list[list[int]]], data: st.DataObject
) -> None:
    lines, shipping, splits = basket
    o = order(*lines, shipping=shipping)
    holds = Holds("CNY")
    refunded = Money.zero("CNY")
    # Interleave the lines' requests in a random order; shipping goes with one of them.
    queue = [(i, part) for i, parts in enumerate(splits) for part in parts]
    queue = data.draw(st.permutations(queue))
    shipping_at = data.draw(st.integers(0, len(queue) - 1))
    for n, (i, part) in enumerate(queue):
        with_shipping = n == shipping_at
        pricing = price_request(
            o, holds, [(lines[i].sku, part)], include_shipping=with_shipping, moves_money=True
        )
        assert not pricing.amount.is_negative()
        _hold(holds, lines[i], part, pricing.lines[0].amount)
        holds.shipping = holds.shipping or with_shipping
        holds.money = holds.money_held + pricing.amount
        refunded = refunded + pricing.amount
    assert refunded == o.paid
    left = balance(o, holds)
    assert all(b.units_refundable == 0 and not b.value_refundable for b in left.lines)
    assert not left.money_refundable


def test_refuses_more_units_than_remain() -> None:
    o = order(line(quantity=2))
    holds = Holds("CNY")
    _hold(holds, o.lines[0], 1, cny("100.00"))
    with pytest.raises(BalanceExceededError, match="only 1 of 2 units"):
        price_request(o, holds, [("SKU-1", 2)], include_shipping=False, moves_money=True)


def test_refuses_more_money_than_was_paid() -> None:
    o = order(line(quantity=1, price="100.00"), paid="60.00")
    with pytest.raises(BalanceExceededError, match="still refundable"):
        price_request(o, Holds("CNY"), [("SKU-1", 1)], include_shipping=False, moves_money=True)


def test_the_shipping_fee_goes_back_only_once() -> None:
    o = order(line(quantity=2), shipping="12.00")
    holds = Holds("CNY", shipping=True)
    with pytest.raises(BalanceExceededError, match="shipping fee"):
        price_request(o, holds, [("SKU-1", 1)], include_shipping=True, moves_money=True)


def test_an_exchange_holds_units_but_no_money() -> None:
    o = order(line(quantity=2))
    pricing = price_request(
        o, Holds("CNY"), [("SKU-1", 1)], include_shipping=False, moves_money=False
    )
    assert pricing.amount == cny("0")
    assert pricing.lines[0].amount == cny("100.00"), "the units' value is still held"


@pytest.mark.parametrize(
    ("asked", "message"),
    [
        ([("NOPE", 1)], "not on order"),
        ([("SKU-1", 0)], "at least 1"),
        ([("SKU-1", 1), ("SKU-1", 1)], "listed twice"),
        ([], "at least one line"),
    ],
)
def test_refuses_malformed_asks(asked: list[tuple[str, int]], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        price_request(
            order(line(quantity=3)), Holds("CNY"), asked, include_shipping=False, moves_money=True
        )
