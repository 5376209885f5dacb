"""The warehouse desk (one input for the scanner, then grade and confirm), the finance
screen, and customers' photos for staff."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData, UploadFile
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from refundflow.adapters.gateways.statements import parse_statement
from refundflow.domain.errors import InvalidInputError, NotFoundError, RefundflowError
from refundflow.domain.lifecycle import Action
from refundflow.domain.payouts import PayoutRoute
from refundflow.domain.permissions import Role, may
from refundflow.entrypoints.web.console.access import check_form, require_role, staff
from refundflow.entrypoints.web.console.render import guarded, page
from refundflow.entrypoints.web.deps import Caller, run
from refundflow.entrypoints.web.portal_auth import CSRF_FIELD
from refundflow.services import queries, queues, warehouse
from refundflow.services.parsing import parse_enum
from refundflow.services.payouts import bank, reconcile, records
from refundflow.services.unit_of_work import QueueFilter

router = APIRouter(include_in_schema=False)

MAX_UPLOAD = 20 * 1024 * 1024
# Routes with a statement format (services/payouts/reconcile, adapters/gateways/statements).
STATEMENT_ROUTES = [
    PayoutRoute.ALIPAY.value,
    PayoutRoute.WECHAT_PAY.value,
    PayoutRoute.STRIPE.value,
]

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


def _finance_context(caller: Caller) -> dict[str, Any]:
    items = _queue(caller, "finance")
    by_step: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_step.setdefault(item["step"], []).append(item)
    payouts = None
    if may(caller.actor.role, Action.MARK_REFUNDED):  # finance (and admin) settle money
        payouts = records.finance_desk(caller.box.uows, caller.actor)
    return {
        "sections": FINANCE_SECTIONS,
        "by_step": by_step,
        "payouts": payouts,
        "statement_routes": STATEMENT_ROUTES,
        "now": caller.box.uows.clock().isoformat(),
    }


async def _finance_page(
    request: Request, caller: Caller, extra: dict[str, Any] | None = None, status: int = 200
) -> Response:
    context = await run(caller.box, _finance_context, caller)
    return await page(
        request, "console/finance.html", {**context, **(extra or {})}, status, actor=caller.actor
    )


def _finance_caller(request: Request) -> Caller:
    caller = staff(request)
    require_role(caller.actor, Role.FINANCE.value, Role.MANAGER.value)
    return caller


@router.get("/console/finance", response_class=HTMLResponse)
async def finance(request: Request) -> Response:
    async def body() -> Response:
        return await _finance_page(request, _finance_caller(request))

    return await guarded(request, body)


async def _finance_form(request: Request) -> tuple[Caller, FormData]:
    """Every form of the finance screen moves money: finance only (managers look on), and
    refused before an uploaded file is read."""
    caller = _finance_caller(request)
    records.require_finance(caller.actor)
    form = await request.form()
    token = form.get(CSRF_FIELD)
    check_form(request, token if isinstance(token, str) else None)
    return caller, form


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


async def _upload(form: FormData) -> tuple[bytes, str]:
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        raise InvalidInputError("choose a file to upload", details={"field": "file"})
    try:
        data = await file.read(MAX_UPLOAD + 1)
    finally:
        await file.close()
    if not data:
        raise InvalidInputError("the file is empty", details={"field": "file"})
    if len(data) > MAX_UPLOAD:
        raise InvalidInputError("the file is larger than 20 MB: split it by day")
    return data, file.filename


@router.post("/console/finance/refunds/{record_id}/{outcome}", response_class=HTMLResponse)
async def settle_record(request: Request, record_id: int, outcome: str) -> Response:
    """Finance settles one record in doubt: paid (with the reference) or failed (why)."""

    async def body() -> Response:
        caller, form = await _finance_form(request)
        if outcome == "mark-paid":
            await run(
                caller.box,
                records.mark_paid,
                caller.box.uows,
                record_id,
                _text(form, "reference"),
                caller.actor,
            )
        elif outcome == "mark-failed":
            await run(
                caller.box,
                records.mark_failed,
                caller.box.uows,
                record_id,
                _text(form, "reason"),
                caller.actor,
            )
        else:
            raise NotFoundError("no such action")
        return RedirectResponse("/console/finance#payouts", status_code=303)

    return await guarded(request, body)


@router.post("/console/finance/batches", response_class=HTMLResponse)
async def export_batch(request: Request) -> Response:
    async def body() -> Response:
        caller, _ = await _finance_form(request)
        made = await run(caller.box, bank.export_batch, caller.box.uows, caller.actor)
        return await _finance_page(request, caller, {"batch_made": made})

    return await guarded(request, body)


@router.get("/console/finance/batches/{batch_id}.csv")
async def batch_csv(request: Request, batch_id: int) -> Response:
    async def body() -> Response:
        caller = _finance_caller(request)
        text = await run(caller.box, bank.batch_file, caller.box.uows, batch_id, caller.actor)
        return Response(
            text.encode("utf-8-sig"),  # Excel opens it as UTF-8
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="payout-batch-{batch_id}.csv"',
                "Cache-Control": "no-store",
            },
        )

    return await guarded(request, body)


@router.post("/console/finance/bank-results", response_class=HTMLResponse)
async def bank_results(request: Request) -> Response:
    async def body() -> Response:
        caller, form = await _finance_form(request)
        data, _ = await _upload(form)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInputError(
                "the result file is not UTF-8 text: save it as CSV (UTF-8)",
                details={"field": "file"},
            ) from None
        result = await run(caller.box, bank.import_result, caller.box.uows, text, caller.actor)
        return await _finance_page(request, caller, {"bank_result": result})

    return await guarded(request, body)


@router.post("/console/finance/reconcile", response_class=HTMLResponse)
async def reconcile_statement(request: Request) -> Response:
    async def body() -> Response:
        caller, form = await _finance_form(request)
        route = parse_enum(PayoutRoute, _text(form, "route"), "route")
        data, filename = await _upload(form)
        rows = parse_statement(route, data)
        result = await run(
            caller.box,
            reconcile.reconcile,
            caller.box.uows,
            route,
            rows,
            source=filename,
            actor=caller.actor,
        )
        return await _finance_page(request, caller, {"reconciled": result})

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
