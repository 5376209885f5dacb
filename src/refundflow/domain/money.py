"""Money: an exact decimal amount in one ISO 4217 currency.

Amounts are ``Decimal`` quantized to the currency's minor unit and stored as integer minor
units. A ``float`` is refused everywhere: binary fractions cannot hold 0.10 exactly, and a
refund desk that loses a cent per refund loses the merchant's trust.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from refundflow.domain.errors import InvalidMoneyError

# ISO 4217 active codes and their minor units; every code not listed under another exponent
# has two decimals.
_EXPONENT_0 = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_EXPONENT_3 = "BHD IQD JOD KWD LYD OMR TND"
_EXPONENT_4 = "CLF UYW"
_EXPONENT_2 = (
    "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN "
    "BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP "
    "GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT "
    "LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN "
    "NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE "
    "SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES "
    "WST XCD XCG YER ZAR ZMW ZWG"
)
CURRENCY_EXPONENTS: dict[str, int] = {
    code: exponent
    for exponent, codes in ((0, _EXPONENT_0), (2, _EXPONENT_2), (3, _EXPONENT_3), (4, _EXPONENT_4))
    for code in codes.split()
}

# Stored minor units must fit a signed 64-bit integer whatever the currency's exponent.
MAX_DIGITS = 14

_QUANTA = {exponent: Decimal(1).scaleb(-exponent) for exponent in set(CURRENCY_EXPONENTS.values())}


def currency_exponent(currency: str) -> int:
    """The number of decimals of ``currency``; an unknown code is refused."""
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise InvalidMoneyError(
            f"unknown currency {currency!r}: use an ISO 4217 code such as 'CNY' or 'USD'",
            details={"currency": currency},
        ) from None


def check_currency(currency: Any) -> str:
    if not isinstance(currency, str):
        raise InvalidMoneyError("currency must be a three-letter ISO 4217 code such as 'CNY'")
    currency_exponent(currency)
    return currency


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An amount with its currency. Arithmetic between two currencies is refused."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise InvalidMoneyError(
                f"money must be a Decimal, not {type(self.amount).__name__}: "
                'send amounts as decimal strings such as "129.00"'
            )
        if not self.amount.is_finite():
            raise InvalidMoneyError("money must be a finite number")
        exponent = currency_exponent(self.currency)
        if self.amount and self.amount.adjusted() >= MAX_DIGITS:
            raise InvalidMoneyError(
                f"{self.amount} is too large: amounts stay below 10^{MAX_DIGITS}",
                details={"amount": str(self.amount), "currency": self.currency},
            )
        quantized = self.amount.quantize(_QUANTA[exponent])
        if quantized != self.amount:
            raise InvalidMoneyError(
                f"{self.amount} has more decimals than {self.currency} allows ({exponent})",
                details={"amount": str(self.amount), "currency": self.currency},
            )
        object.__setattr__(self, "amount", quantized)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def parse(cls, text: Any, currency: str, *, field: str = "amount") -> Money:
        """Read a decimal string such as ``"129.00"``. JSON numbers and floats are refused."""
        if isinstance(text, bool) or not isinstance(text, str):
            raise InvalidMoneyError(
                f'{field} must be a decimal string such as "129.00", not {type(text).__name__}',
                details={"field": field},
            )
        try:
            amount = Decimal(text.strip())
        except InvalidOperation:
            raise InvalidMoneyError(
                f'{field}: {text!r} is not a decimal number; write it like "129.00"',
                details={"field": field},
            ) from None
        if not amount.is_finite():
            raise InvalidMoneyError(f"{field} must be a finite number", details={"field": field})
        try:
            return cls(amount, currency)
        except InvalidMoneyError as error:
            raise InvalidMoneyError(f"{field}: {error.message}", details={"field": field}) from None

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        """From stored integer minor units: exact by construction, so no re-check (hot path)."""
        if isinstance(minor, bool) or not isinstance(minor, int):
            raise InvalidMoneyError("minor units must be an integer")
        money = object.__new__(cls)
        object.__setattr__(money, "amount", Decimal(minor).scaleb(-currency_exponent(currency)))
        object.__setattr__(money, "currency", currency)
        return money

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls.from_minor(0, currency)

    @classmethod
    def rounded(cls, amount: Decimal, currency: str) -> Money:
        """The nearest representable amount (half up) of a computed ``amount``."""
        return cls(amount.quantize(_QUANTA[currency_exponent(currency)], ROUND_HALF_UP), currency)

    # ------------------------------------------------------------------ views
    @property
    def minor(self) -> int:
        """The amount in integer minor units, as stored."""
        return int(self.amount.scaleb(currency_exponent(self.currency)))

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    def text(self) -> str:
        """The decimal string used on the wire, e.g. ``"129.00"``."""
        return str(self.amount)

    # ------------------------------------------------------------------ arithmetic
    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise InvalidMoneyError(
                f"cannot combine {self.currency} with {other.currency}",
                details={"currencies": [self.currency, other.currency]},
            )
        return other

    def _exact(self, amount: Decimal) -> Money:
        """A result of adding or subtracting amounts of one currency: already on its minor
        unit, so it skips the checks of ``__init__`` (the hot path of every balance)."""
        money = object.__new__(Money)
        object.__setattr__(money, "amount", amount)
        object.__setattr__(money, "currency", self.currency)
        return money

    def __add__(self, other: Money) -> Money:
        return self._exact(self.amount + self._same(other).amount)

    def __sub__(self, other: Money) -> Money:
        return self._exact(self.amount - self._same(other).amount)

    def __neg__(self) -> Money:
        return self._exact(-self.amount)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other).amount

    def __bool__(self) -> bool:
        return bool(self.amount)

    def is_negative(self) -> bool:
        return self.amount < 0

    def times(self, quantity: int) -> Money:
        return self._exact(self.amount * quantity)

    def share(self, numerator: int, denominator: int) -> Money:
        """``self × numerator / denominator``, rounded half up to the minor unit."""
        return Money.rounded(self.amount * numerator / denominator, self.currency)


def total(amounts: list[Money], currency: str) -> Money:
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result
