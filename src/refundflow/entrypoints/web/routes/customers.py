"""Customers' balances: ``GET /api/v1/customers/{id}/store-credit``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from refundflow.entrypoints.web.deps import CallerDep, run
from refundflow.entrypoints.web.responses import Json
from refundflow.entrypoints.web.schemas import ErrorPublic, StoreCreditPublic
from refundflow.services import ledger

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])

ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorPublic} for s in (401, 403, 404, 422)}


@router.get(
    "/{customer_id}/store-credit",
    summary="A customer's store-credit (or e-wallet) balance and entries, newest first",
    response_model=StoreCreditPublic,
    responses=ERRORS,
)
async def store_credit(
    caller: CallerDep,
    customer_id: Annotated[int, Path(ge=1, le=10**12)],
    account: Literal["store_credit", "e_wallet"] = "store_credit",
    currency: Annotated[str | None, Query(pattern="^[A-Z]{3}$")] = None,
) -> Json:
    return Json(
        await run(
            caller.box,
            ledger.balance_view,
            caller.box.uows,
            customer_id,
            caller.actor,
            account=account,
            currency=currency,
        )
    )
