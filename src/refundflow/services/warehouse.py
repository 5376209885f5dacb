"""The warehouse desk: a parcel is scanned (request number or tracking number) and received."""

from __future__ import annotations

import json
from typing import Any

from refundflow.domain.actors import Actor
from refundflow.domain.errors import ConflictError, InvalidInputError, NotFoundError
from refundflow.domain.lifecycle import Action, Status
from refundflow.domain.requests import request_id_of
from refundflow.services.actions import ActionInput, perform
from refundflow.services.unit_of_work import RequestFilter, UnitOfWorkFactory


def find_by_code(uows: UnitOfWorkFactory, code: str) -> int:
    """The request a scanned code names: its number, or the return's tracking number."""
    code = code.strip()
    if not code or len(code) > 64:
        raise InvalidInputError(
            "scan a request number or a tracking number", details={"field": "code"}
        )
    with uows(write=False) as uow:
        if request_id_of(code) is not None:
            request = uow.requests.get_by_number(code)
            if request is not None:
                return request.id
        matches = uow.requests.search(RequestFilter(q=code), before_id=None, limit=2)
    if not matches:
        raise NotFoundError(f"no request or return parcel {code}", details={"code": code})
    if len(matches) > 1:
        raise ConflictError(
            f"{code} matches several requests: scan the request number", details={"code": code}
        )
    return matches[0].id


def scan(
    uows: UnitOfWorkFactory, actor: Actor, code: str, note: str | None = None
) -> dict[str, Any]:
    """Receive the parcel a code names; a parcel already received shows its request."""
    request_id = find_by_code(uows, code)
    with uows(write=False) as uow:
        request = uow.requests.get(request_id)
        assert request is not None
        status = request.status
    if status is Status.AWAITING_RETURN:
        return perform(
            uows, str(request_id), Action.RECEIVE, actor, ActionInput(note=note or "扫码签收")
        )
    if status is Status.RECEIVED:
        with uows(write=False) as uow:
            document = uow.requests.document(request_id=request_id)
        assert document is not None
        return dict(json.loads(document))
    raise ConflictError(
        f"request {request.number} is {status.value}: nothing to receive",
        details={"status": status.value, "number": request.number},
    )
