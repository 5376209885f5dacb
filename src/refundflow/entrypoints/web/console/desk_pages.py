"""The warehouse desk (one input for the scanner, then grade and confirm), the finance
screen, and customers' photos for staff."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import FileResponse, HTMLResponse, Response

from refundflow.domain.errors import NotFoundError, RefundflowError
from refundflow.domain.lifecycle import Action
from refundflow.domain.permissions import Role, may
from refundflow.entrypoints.web.console.access import check_form, require_role, staff
from refundflow.entrypoints.web.console.render import guarded, page
from refundflow.entrypoints.web.deps import Caller, run
from refundflow.entrypoints.web.portal_auth import CSRF_FIELD
from refundflow.services import queries, queues, warehouse
from refundflow.services.unit_of_work import QueueFilter

router = APIRouter(include_in_schema=False)

# The finance screen's sections: work item step → heading.
FINANCE_SECTIONS = [
    ("finance_approval", "c_second_approval"),
    ("refund_failed", "step_refund_failed"),
    ("execute", "step_execute"),
]


def _queue(caller: Caller, name: str) -> list[dict[str, Any]]:
    items, _ = queues.list_queue(caller.box.uows, caller.actor, name, QueueFilter(), limit=200)
    return items


def _mine(caller: Caller, document: dict[str, Any]) -> list[str]:
    return [a for a in document["allowed_actions"] if may(caller.actor.role, Action(a))]


async def _warehouse_page(
    request: Request,
    caller: Caller,
    document: dict[str, Any] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    items = await run(caller.box, _queue, caller, "warehouse")
    return await page(
        request,
        "console/warehouse.html",
        {
            "items": items,
            "r": document,
            "my_actions": _mine(caller, document) if document else [],
            "error": error,
            "now": caller.box.uows.clock().isoformat(),
        },
        status,
        caller.actor,
    )


@router.get("/console/warehouse", response_class=HTMLResponse)
async def desk(request: Request) -> Response:
    async def body() -> Response:
        caller = staff(request)
        require_role(caller.actor, Role.WAREHOUSE.value)
        document = None
        if request.query_params.get("r"):
            document = json.loads(
                await run(
                    caller.box,
                    queries.get_request,
                    caller.box.uows,
                    request.query_params["r"],
                    caller.actor,
                )
            )
        return await _warehouse_page(request, caller, document)

    return await guarded(request, body)


@router.post("/console/warehouse/scan", response_class=HTMLResponse)
async def scan(request: Request) -> Response:
    """Receive the scanned parcel (a parcel already received is just shown) and offer the
    inspection form at once."""

    async def body() -> Response:
        form = await request.form()
        submitted = form.get(CSRF_FIELD)
        check_form(request, submitted if isinstance(submitted, str) else None)
        caller = staff(request)
        require_role(caller.actor, Role.WAREHOUSE.value)
        code = form.get("code")
        try:
            document = await run(
                caller.box,
                warehouse.scan,
                caller.box.uows,
                caller.actor,
                code if isinstance(code, str) else "",
            )
        except RefundflowError as exc:
            return await _warehouse_page(request, caller, None, exc.message, 200)
        return await _warehouse_page(request, caller, document)

    return await guarded(request, body)


@router.get("/console/finance", response_class=HTMLResponse)
async def finance(request: Request) -> Response:
    async def body() -> Response:
        caller = staff(request)
        require_role(caller.actor, Role.FINANCE.value, Role.MANAGER.value)
        items = await run(caller.box, _queue, caller, "finance")
        by_step: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            by_step.setdefault(item["step"], []).append(item)
        return await page(
            request,
            "console/finance.html",
            {
                "sections": FINANCE_SECTIONS,
                "by_step": by_step,
                "now": caller.box.uows.clock().isoformat(),
            },
            actor=caller.actor,
        )

    return await guarded(request, body)


@router.get("/console/photos/{photo_id}")
async def photo(request: Request, photo_id: int) -> Response:
    async def body() -> Response:
        caller = staff(request)
        if caller.actor.role is Role.INTEGRATION:
            raise NotFoundError("no such photo")

        def load() -> dict[str, Any] | None:
            with caller.box.uows(write=False) as uow:
                return uow.portal.upload(photo_id)

        found = await run(caller.box, load)
        if found is None:
            raise NotFoundError("no such photo")
        return FileResponse(
            caller.box.photos.path(found["path"]),
            media_type=found["content_type"],
            headers={"Cache-Control": "private, no-store"},
        )

    return await guarded(request, body)
