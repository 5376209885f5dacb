"""The console's working pages: each role's queue (countdowns, filters, search, bulk
actions) and the case page of one request (everything about it, and the actions this
user may take now)."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, RedirectResponse, Response

from refundflow.domain.errors import InvalidInputError, PermissionDeniedError
from refundflow.domain.lifecycle import Action
from refundflow.domain.permissions import Operation, Role, may
from refundflow.domain.privacy import mask_phone
from refundflow.entrypoints.web.console.access import check_form, staff
from refundflow.entrypoints.web.console.render import guarded, page
from refundflow.entrypoints.web.deps import run
from refundflow.entrypoints.web.i18n import language
from refundflow.entrypoints.web.portal_auth import CSRF_FIELD
from refundflow.services import actions, care, privacy, queries, queues
from refundflow.services import orders as orders_service
from refundflow.services import reasons as reasons_service
from refundflow.services.unit_of_work import QueueFilter, RequestFilter

router = APIRouter(include_in_schema=False)

HOME_QUEUES = {
    Role.CS: ["cs", "cs_senior"],
    Role.MANAGER: ["manager", "cs", "cs_senior", "warehouse", "finance"],
    Role.WAREHOUSE: ["warehouse"],
    Role.FINANCE: ["finance"],
    Role.ADMIN: ["cs", "cs_senior", "warehouse", "finance", "manager"],
}
UNMASK = Operation.UNMASK_PHONE


def _field(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


@router.get("/console", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    async def body() -> Response:
        caller = staff(request)
        allowed = HOME_QUEUES.get(caller.actor.role, [])
        if not allowed:
            return await page(
                request,
                "console/error.html",
                {"message": "integration tokens have no console"},
                403,
                caller.actor,
            )
        params = request.query_params
        queue = params.get("queue") if params.get("queue") in allowed else allowed[0]
        min_amount = None
        try:
            if params.get("min_amount"):
                min_amount = int(Decimal(params["min_amount"]) * 100)
        except InvalidOperation:
            raise InvalidInputError("the minimum amount is a number") from None
        filters = QueueFilter(
            type=params.get("type") or None,
            reason=params.get("reason") or None,
            channel=params.get("channel") or None,
            tier=params.get("tier") or None,
            min_amount_minor=min_amount,
            overdue_at=caller.box.uows.clock() if params.get("overdue") else None,
        )
        items, next_cursor = await run(
            caller.box,
            queues.list_queue,
            caller.box.uows,
            caller.actor,
            queue,
            filters,
            limit=100,
            cursor=params.get("cursor"),
        )
        found: list[dict[str, Any]] = []
        if params.get("q"):
            found, _ = await run(
                caller.box,
                queries.list_requests,
                caller.box.uows,
                RequestFilter(q=params["q"]),
                caller.actor,
                before_id=None,
                limit=20,
            )
        lang = language(request)
        reasons = [
            (r["code"], r["label_zh"] if lang == "zh-CN" else r["label_en"])
            for r in await run(caller.box, reasons_service.active_reasons, caller.box.uows)
        ]
        return await page(
            request,
            "console/home.html",
            {
                "reasons": reasons,
                "reason_names": dict(reasons),
                "queue": queue,
                "queues": allowed,
                "items": items,
                "next_cursor": next_cursor,
                "found": found,
                "params": params,
                "now": caller.box.uows.clock().isoformat(),
            },
            actor=caller.actor,
        )

    return await guarded(request, body)


@router.post("/console/bulk")
async def bulk(request: Request) -> Response:
    """Approve, or assign, several requests at once."""

    async def body() -> Response:
        form = await request.form()
        check_form(request, _field(form, CSRF_FIELD))
        caller = staff(request)
        picked = [v for v in form.getlist("item") if isinstance(v, str)]
        what = _field(form, "bulk")
        for value in picked:
            item_id, _, request_id = value.partition(":")
            if what == "approve":
                await run(
                    caller.box,
                    actions.perform,
                    caller.box.uows,
                    request_id,
                    Action.APPROVE,
                    caller.actor,
                    actions.ActionInput(),
                )
            elif what == "assign":
                await run(
                    caller.box,
                    queues.assign,
                    caller.box.uows,
                    caller.actor,
                    int(item_id),
                    _field(form, "owner") or "",
                )
        return RedirectResponse(request.headers.get("referer") or "/console", status_code=303)

    return await guarded(request, body)


@router.post("/console/items/{item_id}/{what}")
async def item(request: Request, item_id: int, what: str) -> Response:
    async def body() -> Response:
        form = await request.form()
        check_form(request, _field(form, CSRF_FIELD))
        caller = staff(request)
        if what == "claim":
            await run(caller.box, queues.claim, caller.box.uows, caller.actor, item_id)
        elif what == "release":
            await run(caller.box, queues.release, caller.box.uows, caller.actor, item_id)
        elif what == "follow-up":
            await run(
                caller.box,
                care.complete_follow_up,
                caller.box.uows,
                caller.actor,
                item_id,
                channel=_field(form, "channel") or "call",
                summary=_field(form, "summary") or "",
            )
        else:
            raise InvalidInputError("unknown work item action")
        return RedirectResponse(request.headers.get("referer") or "/console", status_code=303)

    return await guarded(request, body)


def _case(caller: Any, ref: str, unmask: bool) -> dict[str, Any]:
    """Everything the case page shows, read in one go."""
    box = caller.box
    request = json.loads(queries.get_request(box.uows, ref, caller.actor))
    order = orders_service.get_order(box.uows, request["order_no"])
    customer = order["customer"]
    history, _ = queries.list_requests(
        box.uows, RequestFilter(customer_id=customer["id"]), caller.actor, before_id=None, limit=20
    )
    contacts = care.contacts(box.uows, caller.actor, ref) if may_care(caller.actor) else []
    comps = care.compensations(box.uows, caller.actor, ref=ref) if may_care(caller.actor) else {}
    complaints = (
        care.list_complaints(box.uows, caller.actor, ref=ref) if may_care(caller.actor) else []
    )
    with box.uows(write=False) as uow:
        photos = [p["id"] for p in uow.portal.uploads(request["id"])]
        tags = [t for t in care.root_causes(box.uows) if t["active"]]
    phone = customer.get("phone")
    customer["phone_shown"] = phone if unmask else mask_phone(phone)
    mine = [a for a in request["allowed_actions"] if may(caller.actor.role, Action(a))]
    return {
        "r": request,
        "order": order,
        "customer": customer,
        "history": history,
        "contacts": contacts,
        "compensations": comps,
        "complaints": complaints,
        "photos": photos,
        "tags": tags,
        "my_actions": mine,
        "can_unmask": may(caller.actor.role, UNMASK),
        "may_care": may_care(caller.actor),
    }


def may_care(actor: Any) -> bool:
    """The contact log, complaints, compensation and full phone numbers."""
    return may(actor.role, Operation.CUSTOMER_CARE)


@router.get("/console/requests/{ref}", response_class=HTMLResponse)
async def case(request: Request, ref: str) -> Response:
    async def body() -> Response:
        caller = staff(request)
        context = await run(caller.box, _case, caller, ref, False)
        return await page(request, "console/case.html", context, actor=caller.actor)

    return await guarded(request, body)


@router.post("/console/requests/{ref}/unmask", response_class=HTMLResponse)
async def unmask(request: Request, ref: str) -> Response:
    """Show the full phone number to a role that may see it; the look is audited."""

    async def body() -> Response:
        form = await request.form()
        check_form(request, _field(form, CSRF_FIELD))
        caller = staff(request)
        if not may(caller.actor.role, UNMASK):  # before anything is read
            raise PermissionDeniedError("your role sees masked numbers only")
        context = await run(caller.box, _case, caller, ref, True)
        subject = f"request:{context['r']['id']}"
        # Checks the role and writes the audit row before the number is shown.
        await run(caller.box, privacy.reveal, caller.box.uows, caller.actor, UNMASK, subject, True)
        return await page(request, "console/partials/phone.html", context, actor=caller.actor)

    return await guarded(request, body)


def _action_input(form: FormData) -> actions.ActionInput:
    grades = []
    for key, value in form.multi_items():
        if key.startswith("grade_") and isinstance(value, str) and value:
            grades.append((key[6:], value, _field(form, f"note_{key[6:]}")))
    percent = _field(form, "percent")
    return actions.ActionInput(
        reason=_field(form, "reason"),
        note=_field(form, "note"),
        amount=_field(form, "amount"),
        carrier=_field(form, "carrier"),
        tracking_no=_field(form, "tracking_no"),
        result=_field(form, "result"),
        reference=_field(form, "reference"),
        grades=grades or None,
        percent=int(percent) if percent and percent.isdigit() else None,
        requires_return=None if _field(form, "returnless") is None else False,
    )


@router.post("/console/requests/{ref}/act/{action}")
async def act(request: Request, ref: str, action: str) -> Response:
    async def body() -> Response:
        form = await request.form()
        check_form(request, _field(form, CSRF_FIELD))
        caller = staff(request)
        await run(
            caller.box,
            actions.perform,
            caller.box.uows,
            ref,
            Action(action),
            caller.actor,
            _action_input(form),
        )
        if _field(form, "back") == "/console/warehouse":
            return RedirectResponse("/console/warehouse", status_code=303)
        return RedirectResponse(f"/console/requests/{ref}", status_code=303)

    return await guarded(request, body)


@router.post("/console/requests/{ref}/{what}")
async def care_action(request: Request, ref: str, what: str) -> Response:
    """The contact log, complaints, compensation and the root cause, from the case page."""

    async def body() -> Response:
        form = await request.form()
        check_form(request, _field(form, CSRF_FIELD))
        caller = staff(request)
        uows, actor = caller.box.uows, caller.actor
        if what == "contact":
            await run(
                caller.box,
                care.log_contact,
                uows,
                actor,
                ref,
                channel=_field(form, "channel") or "call",
                direction=_field(form, "direction") or "out",
                summary=_field(form, "summary") or "",
            )
        elif what == "complaint":
            await run(
                caller.box,
                care.open_complaint,
                uows,
                actor,
                ref,
                source=_field(form, "source") or "phone",
                severity=_field(form, "severity") or "medium",
                text=_field(form, "text") or "",
            )
        elif what == "compensation":
            expires = _field(form, "expires_at")
            points = _field(form, "points")
            await run(
                caller.box,
                care.issue_compensation,
                uows,
                actor,
                ref,
                kind=_field(form, "kind") or "",
                amount=_field(form, "amount"),
                points=int(points) if points and points.isdigit() else None,
                code=_field(form, "code"),
                expires_at=datetime.fromisoformat(expires).replace(tzinfo=caller.box.settings.tz)
                if expires
                else None,
            )
        elif what == "root-cause":
            await run(caller.box, care.tag_root_cause, uows, actor, ref, _field(form, "code") or "")
        else:
            raise InvalidInputError("unknown case action")
        return RedirectResponse(f"/console/requests/{ref}", status_code=303)

    return await guarded(request, body)


@router.post("/console/complaints/{complaint_id}/resolve")
async def resolve(request: Request, complaint_id: int) -> Response:
    async def body() -> Response:
        form = await request.form()
        check_form(request, _field(form, CSRF_FIELD))
        caller = staff(request)
        await run(
            caller.box,
            care.resolve_complaint,
            caller.box.uows,
            caller.actor,
            complaint_id,
            _field(form, "resolution") or "",
        )
        return RedirectResponse(request.headers.get("referer") or "/console", status_code=303)

    return await guarded(request, body)
