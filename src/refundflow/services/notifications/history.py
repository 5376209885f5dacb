"""What was sent to whom: notification rows as staff see them (contents of one-time codes
are erased once sent, so they never show here)."""

from __future__ import annotations

from typing import Any

from refundflow.domain.actors import Actor
from refundflow.domain.errors import InvalidInputError, PermissionDeniedError
from refundflow.domain.permissions import Operation, may
from refundflow.services.actions import load_request
from refundflow.services.notifications.ports import StoredNotification
from refundflow.services.unit_of_work import UnitOfWorkFactory

STATUSES = ("pending", "sent", "failed", "skipped", "expired")


def notification_view(row: StoredNotification) -> dict[str, Any]:
    return {
        "id": row.id,
        "request_id": row.request_id,
        "notice": row.notice,
        "occurrence": row.occurrence,
        "channel": row.channel.value,
        "recipient": row.recipient,
        "language": row.language,
        "status": row.status,
        "attempts": row.attempts,
        "created_at": row.created_at.isoformat(),
        "next_attempt_at": row.available_at.isoformat() if row.status == "pending" else None,
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
        "provider_ref": row.provider_ref,
        "last_error": row.last_error,
        "subject": row.content.get("subject") or row.content.get("short"),
    }


def list_notifications(
    uows: UnitOfWorkFactory,
    actor: Actor,
    *,
    request: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    if not may(actor.role, Operation.READ_REQUEST) or actor.role.value == "customer":
        raise PermissionDeniedError(f"the {actor.role.value} role cannot list notifications")
    if status is not None and status not in STATUSES:
        raise InvalidInputError(
            f"status is one of {', '.join(STATUSES)}", details={"field": "status"}
        )
    with uows(write=False) as uow:
        request_id = load_request(uow, request).id if request else None
        rows = uow.notifications.search(request_id=request_id, status=status, limit=limit)
    return [notification_view(row) for row in rows]
