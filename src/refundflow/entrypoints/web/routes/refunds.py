"""Refund records for finance: the queue, one record, marking one paid or failed, bank
payout batches (CSV out, result file in) and statement reconciliation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from refundflow.domain.errors import InvalidInputError
from refundflow.domain.lifecycle import Action
from refundflow.domain.payouts import PayoutRoute
from refundflow.entrypoints.web.deps import CallerDep, allowed, run
from refundflow.entrypoints.web.responses import Json
from refundflow.entrypoints.web.schemas import ErrorPublic, RecordMark
from refundflow.services import privacy
from refundflow.services.payouts import bank, reconcile, records

router = APIRouter(prefix="/api/v1", tags=["refunds"])

ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorPublic} for s in (401, 403, 404, 409, 422)
}
MAX_FILE = 20 * 1024 * 1024
RecordId = Annotated[int, Path(ge=1, le=10**12)]


async def _file(request: Request) -> bytes:
    body = await request.body()
    if not body:
        raise InvalidInputError("send the file as the request body", details={"field": "body"})
    if len(body) > MAX_FILE:
        raise InvalidInputError("the file is larger than 20 MB: split it by day")
    return body


@router.get(
    "/refunds/queue",
    summary="What needs finance: reconcile, failed, bank transfers",
    responses=ERRORS,
)
async def finance_queue(caller: CallerDep) -> Json:
    return Json(await run(caller.box, records.finance_queue, caller.box.uows, caller.actor))


@router.get("/refunds/{refund_id}", summary="One refund record with its attempts", responses=ERRORS)
async def get_refund(
    refund_id: RecordId,
    caller: CallerDep,
    unmask: Annotated[
        bool,
        Query(
            description="show the payee's account number in full (finance, admin); the look "
            "is audited. Without it the number reads ****5678."
        ),
    ] = False,
) -> Json:
    return Json(
        await run(
            caller.box, privacy.refund, caller.box.uows, caller.actor, refund_id, unmask=unmask
        )
    )


@router.post(
    "/refunds/{refund_id}/mark-paid",
    dependencies=[allowed(Action.MARK_REFUNDED)],
    summary="Finance confirms one refund paid (e.g. a bank transfer, with its reference)",
    responses=ERRORS,
)
async def mark_paid(refund_id: RecordId, body: RecordMark, caller: CallerDep) -> Json:
    return Json(
        await run(
            caller.box,
            records.mark_paid,
            caller.box.uows,
            refund_id,
            body.reference or "",
            caller.actor,
        )
    )


@router.post(
    "/refunds/{refund_id}/mark-failed",
    dependencies=[allowed(Action.MARK_REFUNDED)],
    summary="Finance declares one refund failed (e.g. the bank returned the transfer)",
    responses=ERRORS,
)
async def mark_failed(refund_id: RecordId, body: RecordMark, caller: CallerDep) -> Json:
    return Json(
        await run(
            caller.box,
            records.mark_failed,
            caller.box.uows,
            refund_id,
            body.reason or "",
            caller.actor,
        )
    )


@router.post(
    "/payout-batches", summary="Export pending bank transfers as a CSV batch", responses=ERRORS
)
async def export_batch(caller: CallerDep, currency: str = "CNY") -> Json:
    return Json(await run(caller.box, bank.export_batch, caller.box.uows, caller.actor, currency))


@router.get(
    "/payout-batches/{batch_id}.csv", summary="A payout batch file, as exported", responses=ERRORS
)
async def batch_file(batch_id: RecordId, caller: CallerDep) -> Response:
    body = await run(caller.box, bank.batch_file, caller.box.uows, batch_id, caller.actor)
    return Response(body, media_type="text/csv; charset=utf-8")


@router.post(
    "/payout-batches/results",
    summary="Import the bank's result file (reference,status,bank_reference,amount,reason)",
    responses=ERRORS,
)
async def import_results(request: Request, caller: CallerDep) -> Json:
    records.require_finance(caller.actor, "import bank results")  # before reading the file
    text = (await _file(request)).decode("utf-8-sig", errors="replace")
    return Json(await run(caller.box, bank.import_result, caller.box.uows, text, caller.actor))


@router.post(
    "/reconciliations/{route}",
    summary="Match a gateway statement (Alipay/WeChat Pay bill CSV, Stripe balance export)",
    responses=ERRORS,
)
async def reconcile_statement(route: str, request: Request, caller: CallerDep) -> Json:
    from refundflow.adapters.gateways.statements import parse_statement
    from refundflow.services.parsing import parse_enum

    records.require_finance(caller.actor, "reconcile statements")  # before reading the file
    which = parse_enum(PayoutRoute, route, "route")
    rows = parse_statement(which, await _file(request))
    return Json(
        await run(
            caller.box,
            reconcile.reconcile,
            caller.box.uows,
            which,
            rows,
            source=request.headers.get("x-filename", "upload"),
            actor=caller.actor,
        )
    )
