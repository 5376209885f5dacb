"""Reads: one request, a filtered page of requests."""

from __future__ import annotations

from typing import Any

from refundflow.domain.actors import Actor
from refundflow.domain.errors import NotFoundError, PermissionDeniedError
from refundflow.domain.permissions import Operation, may
from refundflow.services.unit_of_work import RequestFilter, UnitOfWorkFactory
from refundflow.services.views import request_view

MAX_PAGE = 200


def get_request(uows: UnitOfWorkFactory, ref: str, actor: Actor) -> bytes:
    """The request's stored document (JSON), by id or number: one primary-key read."""
    if not may(actor.role, Operation.READ_REQUEST):
        raise PermissionDeniedError(f"the {actor.role.value} role cannot read refund requests")
    with uows(write=False) as uow:
        if ref.isdigit():
            document = uow.requests.document(request_id=int(ref))
        else:
            document = uow.requests.document(number=ref)
    if document is None:
        raise NotFoundError(f"no refund request {ref}", details={"id": ref})
    return document


def list_requests(
    uows: UnitOfWorkFactory,
    filters: RequestFilter,
    actor: Actor,
    *,
    before_id: int | None,
    limit: int,
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of requests, newest first, and the cursor of the next page (or None)."""
    if not may(actor.role, Operation.READ_REQUEST):
        raise PermissionDeniedError(f"the {actor.role.value} role cannot read refund requests")
    limit = max(1, min(limit, MAX_PAGE))
    with uows(write=False) as uow:
        rows = uow.requests.search(filters, before_id=before_id, limit=limit + 1)
    page = rows[:limit]
    return [request_view(request, None) for request in page], (
        page[-1].id if len(rows) > limit else None
    )
