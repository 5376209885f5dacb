"""Store credit and e-wallet balances: an internal ledger per customer, account and currency.

Every change is an entry (credits positive, debits negative) and the balance is the sum of
the entries; a debit that would take the balance below zero is refused. A refund record
credits the ledger at most once (one entry per record, enforced by a unique index), so the
store-credit route is exactly-once like the gateways. The same ledger takes compensation
credits (goodwill, coupons paid as credit) from other use cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from refundflow.domain.errors import ConflictError, InvalidInputError
from refundflow.domain.money import Money


class LedgerAccount(StrEnum):
    STORE_CREDIT = "store_credit"
    E_WALLET = "e_wallet"


class EntryKind(StrEnum):
    REFUND = "refund"
    COMPENSATION = "compensation"
    SPEND = "spend"
    ADJUSTMENT = "adjustment"


class InsufficientBalanceError(ConflictError):
    code = "insufficient_balance"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    customer_id: int
    account: LedgerAccount
    amount: Money
    kind: EntryKind
    balance_after: Money
    at: datetime
    reference: str | None = None
    refund_id: int | None = None
    note: str | None = None
    id: int | None = None


def post(
    balance: Money,
    *,
    customer_id: int,
    account: LedgerAccount,
    amount: Money,
    kind: EntryKind,
    at: datetime,
    reference: str | None = None,
    refund_id: int | None = None,
    note: str | None = None,
) -> LedgerEntry:
    """The entry that moves ``balance`` by ``amount``; a debit past zero is refused."""
    if not amount:
        raise InvalidInputError(
            "a ledger entry moves a non-zero amount", details={"field": "amount"}
        )
    if kind in (EntryKind.REFUND, EntryKind.COMPENSATION) and amount.is_negative():
        raise InvalidInputError(f"a {kind.value} credits the customer: the amount is positive")
    if kind is EntryKind.SPEND and not amount.is_negative():
        raise InvalidInputError("spending debits the customer: the amount is negative")
    after = balance + amount
    if after.is_negative():
        raise InsufficientBalanceError(
            f"the {account.value} balance is {balance}; it cannot pay {-amount}",
            details={"balance": balance.text(), "asked": (-amount).text()},
        )
    return LedgerEntry(customer_id, account, amount, kind, after, at, reference, refund_id, note)
