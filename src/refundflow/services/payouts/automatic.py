"""Auto-execution: a request the policy approved with ``auto_execute`` is executed by the
system as soon as it reaches ``refund_pending`` (at once for a returnless refund, after a
passed inspection otherwise), without a finance step.

The worker runs this on the request's ``refund_request.status_changed`` outbox event, so the
approval's transaction stays short and a crash in between loses nothing (the event is
delivered again; executing twice is refused by the lifecycle table and changes nothing).
"""

from __future__ import annotations

from typing import Any

from refundflow.domain.actors import Actor
from refundflow.domain.errors import IllegalTransitionError
from refundflow.domain.lifecycle import Action, Status
from refundflow.services.actions import ActionInput, perform
from refundflow.services.payouts.execution import PayoutOptions
from refundflow.services.unit_of_work import UnitOfWorkFactory

AUTO_EXECUTOR = "auto-execute"


def execute_if_automatic(
    uows: UnitOfWorkFactory, payload: dict[str, Any], options: PayoutOptions
) -> bool:
    """Execute the request of a status-change event when it is due; True if it was."""
    if payload.get("to_status") != Status.REFUND_PENDING.value:
        return False
    with uows(write=False) as uow:
        request = uow.requests.get(int(payload["id"]))
    if request is None or not request.auto_execute or request.status is not Status.REFUND_PENDING:
        return False
    try:
        perform(
            uows,
            str(request.id),
            Action.EXECUTE,
            Actor.system(AUTO_EXECUTOR),
            ActionInput(),
            options=options,
        )
    except IllegalTransitionError:
        return False  # someone executed (or cancelled) it meanwhile
    return True
