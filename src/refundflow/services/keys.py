"""Data keys: re-encrypting what is stored encrypted (payees' bank accounts) with the current
key, so an old key can be dropped. Batches of rows, one transaction each, so a shop keeps
working during a rotation; running it again is harmless (current rows are left as they are)."""

from __future__ import annotations

from dataclasses import dataclass

from refundflow.services import audit
from refundflow.services.unit_of_work import UnitOfWorkFactory

BATCH = 500


@dataclass(frozen=True, slots=True)
class Rotation:
    rewritten: int
    current: int


def rotate(uows: UnitOfWorkFactory, *, batch: int = BATCH) -> Rotation:
    rewritten = current = 0
    after = 0
    while True:
        with uows() as uow:
            last, done, kept = uow.refunds.rotate_accounts(after, batch)
            uow.commit()
        rewritten, current = rewritten + done, current + kept
        if last is None:
            break
        after = last
    with uows() as uow:
        audit.record(
            uow, "system", "keys.rotate", "refunds.payout_account", {"rewritten": rewritten}
        )
        uow.commit()
    return Rotation(rewritten, current)
