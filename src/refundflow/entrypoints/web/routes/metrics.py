"""The dashboard's figures as JSON (managers and admins)."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Query

from refundflow.entrypoints.web.deps import CallerDep
from refundflow.entrypoints.web.responses import Json
from refundflow.entrypoints.web.schemas import ErrorPublic
from refundflow.services import metrics

router = APIRouter(tags=["metrics"])
ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorPublic} for s in (401, 403, 422)}


@router.get(
    "/api/v1/metrics/summary",
    summary="Dashboard figures of a period, the previous period, breakdowns, daily trend",
    description="`from`/`to` are dates in the shop's time zone, both included (default: the "
    "last 30 days). Figures are about the refund requests created in the period; rates are "
    "fractions 0–1 (null without a denominator), money a list of `{amount, currency}`. "
    "Definitions: docs/metrics.md.",
    responses=ERRORS,
)
async def summary(
    caller: CallerDep,
    start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=40)] = None,
) -> Json:
    box = caller.box
    metrics.check_access(caller.actor)
    today = box.uows.clock().astimezone(box.settings.tz).date()
    period = metrics.parse_period(start, end, today)
    # Aggregates can take a while on a large history: off the event loop, whatever the
    # database (deps.run keeps SQLite calls on the loop, where microseconds are the norm).
    return Json(await to_thread.run_sync(partial(metrics.summary, box.uows, caller.actor, period)))
