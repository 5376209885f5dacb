from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refundflow.domain.errors import InvalidMoneyError
from refundflow.domain.money import CURRENCY_EXPONENTS, Money


def test_parses_a_decimal_string_to_the_currency_minor_unit() -> None:
    assert Money.parse("129.5", "CNY").text() == "129.50"
    assert Money.parse("129.5", "CNY").minor == 12950
    assert Money.parse("500", "JPY").minor == 500
    assert Money.parse("1.234", "KWD").minor == 1234


@pytest.mark.parametrize("amount", [129.0, 129, True, None, Decimal("1")])
def test_refuses_anything_but_a_string_on_input(amount: object) -> None:
    with pytest.raises(InvalidMoneyError, match="decimal string"):
        Money.parse(amount, "CNY")


def test_refuses_a_float_even_when_built_directly() -> None:
    with pytest.raises(InvalidMoneyError, match="not float"):
        Money(0.1, "CNY")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "currency"), [("1.005", "CNY"), ("1.5", "JPY"), ("0.0001", "KWD")]
)
def test_refuses_more_decimals_than_the_currency_has(text: str, currency: str) -> None:
    with pytest.raises(InvalidMoneyError, match="more decimals"):
        Money.parse(text, currency)


@pytest.mark.parametrize("text", ["", "abc", "1,00", "NaN", "Infinity", "1e400000000"])
def test_refuses_text_that_is_not_a_finite_decimal(text: str) -> None:
    with pytest.raises(InvalidMoneyError):
        Money.parse(text, "CNY")


def test_refuses_an_unknown_currency() -> None:
    with pytest.raises(InvalidMoneyError, match="unknown currency"):
        Money.parse("1.00", "XYZ")


def test_refuses_to_mix_currencies() -> None:
    with pytest.raises(InvalidMoneyError, match="cannot combine CNY with USD"):
        _ = Money.parse("1", "CNY") + Money.parse("1", "USD")


def test_shares_round_half_up_to_the_minor_unit() -> None:
    assert Money.parse("0.05", "CNY").share(1, 2).text() == "0.03"
    assert Money.parse("100.00", "CNY").share(1, 3).text() == "33.33"


@given(
    minor=st.integers(min_value=-(10**13) + 1, max_value=10**13 - 1),
    currency=st.sampled_from(sorted(CURRENCY_EXPONENTS)),
)
def test_minor_units_round_trip_exactly(minor: int, currency: str) -> None:
    money = Money.from_minor(minor, currency)
    assert money.minor == minor
    assert Money.parse(money.text(), currency) == money
