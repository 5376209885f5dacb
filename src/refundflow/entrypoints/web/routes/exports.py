"""Refund requests out for finance and ERP imports: CSV or Excel over a period."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from anyio import to_thread
from fastapi import APIRouter, Query
from fastapi.responses import Response

from refundflow.adapters.files.tables import csv_chunks, xlsx_bytes
from refundflow.entrypoints.web.deps import CallerDep, run
from refundflow.entrypoints.web.schemas import ErrorPublic
from refundflow.services import exports

router = APIRouter(prefix="/api/v1/refund-requests", tags=["refund requests"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/export",
    summary="Refund requests of a period as CSV or Excel (finance, managers)",
    description="Rows whose `by` time (created, updated or refunded) is in [from, to). "
    "`from`/`to` are dates (midnight in the shop's time zone) or date-times with offsets. "
    "Amounts are exact decimals; times are in the shop's time zone.",
    responses={
        200: {"content": {"text/csv": {}, XLSX: {}}},
        **{s: {"model": ErrorPublic} for s in (401, 403, 422)},
    },
)
async def export_refund_requests(
    caller: CallerDep,
    start: Annotated[str, Query(alias="from", max_length=40, examples=["2026-11-01"])],
    end: Annotated[str, Query(alias="to", max_length=40, examples=["2026-12-01"])],
    format: Literal["csv", "xlsx"] = "csv",
    by: Literal["created", "updated", "refunded"] = "created",
) -> Response:
    box = caller.box
    begin, finish = exports.period(start, end, box.settings.tz)

    def rows() -> list[list[Any]]:
        return list(
            exports.export_rows(
                box.uows, caller.actor, begin, finish, by=by, typed=format == "xlsx"
            )
        )

    data = await run(box, rows)
    tz = box.settings.tz
    name = f"refund-requests-{begin.astimezone(tz):%Y%m%d}-{finish.astimezone(tz):%Y%m%d}"
    if format == "xlsx":
        body = await to_thread.run_sync(lambda: xlsx_bytes(exports.COLUMNS, data, title="refunds"))
        media = XLSX
    else:
        body = b"".join(csv_chunks(exports.COLUMNS, data))
        media = "text/csv; charset=utf-8"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}.{format}"'},
    )
