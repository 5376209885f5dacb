"""Reading personal data: masked unless the caller's role may see the field in full *and*
asks to (``unmask``); every full look is an audit row (who, which field, of what)."""

from __future__ import annotations

from typing import Any

from refundflow.domain.actors import Actor
from refundflow.domain.errors import PermissionDeniedError
from refundflow.domain.permissions import Operation, may
from refundflow.domain.privacy import masked_order, masked_preferences, masked_refund
from refundflow.services import audit
from refundflow.services.notifications import get_preferences
from refundflow.services.orders import get_order
from refundflow.services.payouts.records import get_record
from refundflow.services.unit_of_work import UnitOfWorkFactory

FIELD = {Operation.UNMASK_PHONE: "phone", Operation.UNMASK_BANK: "account_no"}


def reveal(
    uows: UnitOfWorkFactory, actor: Actor, field: Operation, subject: str, unmask: bool
) -> bool:
    """Whether ``field`` of ``subject`` is shown in full; asking without the permission is
    refused (and the refusal audited like any other)."""
    if not unmask:
        return False
    if not may(actor.role, field):
        raise PermissionDeniedError(
            f"the {actor.role.value} role sees {FIELD[field]} masked only",
            details={"field": FIELD[field]},
        )
    with uows() as uow:
        audit.record(uow, actor, "pii.unmask", subject, {"field": FIELD[field]})
        uow.commit()
    return True


def order(
    uows: UnitOfWorkFactory, actor: Actor, order_no: str, *, unmask: bool = False
) -> dict[str, Any]:
    """An order for staff: the customer's phone masked unless revealed."""
    view = get_order(uows, order_no)
    if reveal(uows, actor, Operation.UNMASK_PHONE, f"order:{order_no}", unmask):
        return view
    return masked_order(view)


def refund(
    uows: UnitOfWorkFactory, actor: Actor, record_id: int, *, unmask: bool = False
) -> dict[str, Any]:
    """A refund record for finance: the payee's account number masked unless revealed."""
    view = get_record(uows, record_id, actor)
    if reveal(uows, actor, Operation.UNMASK_BANK, f"refund:{record_id}", unmask):
        return view
    return masked_refund(view)


def preferences(
    uows: UnitOfWorkFactory, actor: Actor, customer_id: int, *, unmask: bool = False
) -> dict[str, Any]:
    """A customer's notification preferences: phones masked unless revealed."""
    view = get_preferences(uows, actor, customer_id)
    if reveal(uows, actor, Operation.UNMASK_PHONE, f"customer:{customer_id}", unmask):
        return view
    return masked_preferences(view)
