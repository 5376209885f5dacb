"""Forgetting customers: on request (``refundflow privacy erase --customer ID``) and after the
retention period (``refundflow privacy retain``, daily from cron): a customer whose requests
are all closed and untouched for ``REFUNDFLOW_RETENTION_DAYS`` (three years by default), with
no order since, is anonymised. The financial records stay — amounts, statuses, references,
the ledger — so the books still add up; only what identifies the person goes. Each erasure
is one transaction with its audit row (counts only, nothing personal)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from refundflow.domain.actors import Actor
from refundflow.domain.errors import ConflictError, NotFoundError
from refundflow.services import audit
from refundflow.services.customer import CLOSED
from refundflow.services.unit_of_work import UnitOfWorkFactory

_CLOSED = sorted(status.value for status in CLOSED)


@dataclass(frozen=True, slots=True)
class Erased:
    customer_id: int
    rows: dict[str, int]


def erase_customer(
    uows: UnitOfWorkFactory, customer_id: int, actor: Actor | str = "system"
) -> Erased:
    """Anonymise one customer now; refused while a request of theirs is open (money may
    still move to the account it names) and for an unknown customer."""
    with uows() as uow:
        state = uow.privacy.customer_state(customer_id)
        if state is None:
            raise NotFoundError(f"no customer {customer_id}", details={"customer_id": customer_id})
        open_ = uow.privacy.open_requests(customer_id, _CLOSED)
        if open_:
            raise ConflictError(
                f"customer {customer_id} has open requests ({', '.join(open_[:5])}): "
                "close them first",
                details={"open_requests": open_},
            )
        rows = uow.privacy.erase_customer(customer_id, uow.now())
        audit.record(
            uow, actor, "privacy.erase", f"customer:{customer_id}", {"rows": rows, "was": state}
        )
        uow.commit()
    return Erased(customer_id, rows)


def due(uows: UnitOfWorkFactory, retention: timedelta, limit: int = 1000) -> list[int]:
    with uows(write=False) as uow:
        return uow.privacy.due_for_retention(uow.now() - retention, _CLOSED, limit)


def retain(uows: UnitOfWorkFactory, retention: timedelta, *, batch: int = 200) -> list[int]:
    """Erase every customer past the retention period; the ids erased."""
    erased: list[int] = []
    while True:
        ids = due(uows, retention, batch)
        if not ids:
            return erased
        for customer_id in ids:
            erase_customer(uows, customer_id, "system:retention")
            erased.append(customer_id)
