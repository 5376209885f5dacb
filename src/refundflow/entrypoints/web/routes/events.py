"""The event catalogue: every event type webhook subscribers can receive, with its JSON
Schema (docs/webhooks.md explains the envelope, signatures and retries)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from refundflow.domain.catalogue import CATALOGUE, ENVELOPE_VERSION
from refundflow.domain.errors import PermissionDeniedError
from refundflow.domain.permissions import Operation, may
from refundflow.domain.webhooks import SIGNATURE_HEADER
from refundflow.entrypoints.web.deps import CallerDep
from refundflow.entrypoints.web.responses import Json
from refundflow.entrypoints.web.schemas import ErrorPublic

router = APIRouter(prefix="/api/v1/events", tags=["webhooks"])


def catalogue() -> dict[str, Any]:
    return {
        "envelope_version": ENVELOPE_VERSION,
        "signature": {
            "header": SIGNATURE_HEADER,
            "format": "t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<raw body>'>[,v1=…]",
        },
        "events": [event.describe() for event in CATALOGUE.values()],
    }


@router.get(
    "/schema",
    summary="Event types and the JSON Schema of each",
    responses={s: {"model": ErrorPublic} for s in (401, 403)},
)
async def event_schema(caller: CallerDep) -> Json:
    if not may(caller.actor.role, Operation.READ_SETTINGS):
        raise PermissionDeniedError(f"the {caller.actor.role.value} role cannot read this")
    return Json(catalogue())
