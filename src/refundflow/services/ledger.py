"""Store credit and e-wallet: crediting a refund record once, compensation, spending, and the
customer's balance view (``GET /api/v1/customers/{id}/store-credit``).

Every posting locks the balance row first (PostgreSQL ``FOR UPDATE``; SQLite writers are
serialised), so concurrent postings see each other and a balance never goes below zero (a
CHECK constraint backs the rule up). A refund record's credit is inserted before the
balance moves, guarded by the unique index on ``ledger_entries.refund_id``: delivering the
same record twice credits once.
"""

from __future__ import annotations

from typing import Any

from refundflow.domain.actors import Actor
from refundflow.domain.errors import NotFoundError, PermissionDeniedError
from refundflow.domain.ledger import EntryKind, LedgerAccount, LedgerEntry, post
from refundflow.domain.money import Money
from refundflow.domain.permissions import Operation, may
from refundflow.services.parsing import parse_enum, parse_money, parse_text
from refundflow.services.unit_of_work import UnitOfWork, UnitOfWorkFactory


def credit_refund(
    uow: UnitOfWork,
    *,
    customer_id: int,
    account: LedgerAccount,
    amount: Money,
    refund_id: int,
    reference: str,
) -> int | None:
    """Credit a refund record; None when it was credited before (a redelivery)."""
    now = uow.now()
    draft = LedgerEntry(
        customer_id, account, amount, EntryKind.REFUND, amount, now, reference, refund_id
    )
    entry_id = uow.ledger.claim_refund_entry(draft)
    if entry_id is None:
        return None
    balance = uow.ledger.balance(customer_id, account, amount.currency, lock=True)
    entry = post(
        balance,
        customer_id=customer_id,
        account=account,
        amount=amount,
        kind=EntryKind.REFUND,
        at=now,
        reference=reference,
        refund_id=refund_id,
    )
    uow.ledger.set_balance(entry_id, entry)
    return entry_id


def _post(
    uow: UnitOfWork,
    customer_id: int,
    account: LedgerAccount,
    amount: Money,
    kind: EntryKind,
    reference: str | None,
    note: str | None,
) -> LedgerEntry:
    if not uow.ledger.customer_exists(customer_id):
        raise NotFoundError(f"no customer {customer_id}", details={"customer_id": customer_id})
    balance = uow.ledger.balance(customer_id, account, amount.currency, lock=True)
    entry = post(
        balance,
        customer_id=customer_id,
        account=account,
        amount=amount,
        kind=kind,
        at=uow.now(),
        reference=reference,
        note=note,
    )
    entry_id = uow.ledger.add(entry)
    uow.ledger.set_balance(entry_id, entry)
    return entry


def credit(
    uows: UnitOfWorkFactory,
    customer_id: int,
    amount: str,
    currency: str,
    *,
    account: str = "store_credit",
    kind: str = "compensation",
    reference: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Credit a customer (compensation, goodwill): for other use cases to call."""
    which = parse_enum(LedgerAccount, account, "account")
    what = parse_enum(EntryKind, kind, "kind")
    money = parse_money(amount, currency, "amount")
    with uows() as uow:
        entry = _post(
            uow,
            customer_id,
            which,
            money,
            what,
            reference,
            parse_text(note, "note", limit=500, required=False) or None,
        )
        uow.commit()
    return entry_view(entry)


def spend(
    uows: UnitOfWorkFactory,
    customer_id: int,
    amount: str,
    currency: str,
    *,
    account: str = "store_credit",
    reference: str | None = None,
) -> dict[str, Any]:
    """The customer pays with the balance; refused past zero."""
    which = parse_enum(LedgerAccount, account, "account")
    money = parse_money(amount, currency, "amount")
    with uows() as uow:
        entry = _post(uow, customer_id, which, -money, EntryKind.SPEND, reference, None)
        uow.commit()
    return entry_view(entry)


def entry_view(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "amount": entry.amount.text(),
        "currency": entry.amount.currency,
        "kind": entry.kind.value,
        "balance_after": entry.balance_after.text(),
        "reference": entry.reference,
        "refund_id": entry.refund_id,
        "note": entry.note,
        "at": entry.at.isoformat(),
    }


def balance_view(
    uows: UnitOfWorkFactory,
    customer_id: int,
    actor: Actor,
    *,
    account: str = "store_credit",
    currency: str | None = None,
) -> dict[str, Any]:
    """``{customer_id, account, balance, currency, entries}``: entries newest first."""
    if not may(actor.role, Operation.READ_ORDER):
        raise PermissionDeniedError(f"the {actor.role.value} role cannot read balances")
    which = parse_enum(LedgerAccount, account, "account")
    with uows(write=False) as uow:
        if not uow.ledger.customer_exists(customer_id):
            raise NotFoundError(f"no customer {customer_id}", details={"customer_id": customer_id})
        balances = uow.ledger.balances(customer_id, which)
        entries = uow.ledger.entries(customer_id, which)
    chosen = currency or (next(iter(balances)) if balances else "CNY")
    balance = balances.get(chosen) or Money.zero(chosen)
    return {
        "customer_id": customer_id,
        "account": which.value,
        "balance": balance.text(),
        "currency": chosen,
        "balances": {cur: money.text() for cur, money in balances.items()},
        "entries": [entry_view(e) for e in entries if e.amount.currency == chosen],
    }
