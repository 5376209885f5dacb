"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter

from refundflow.adapters.db.migrate import is_current
from refundflow.entrypoints.web.deps import ContainerDep, run
from refundflow.entrypoints.web.responses import Json, error

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> Json:
    return Json({"status": "ok"})


@router.get("/readyz", summary="The database is reachable and its schema is current")
async def readyz(box: ContainerDep) -> Json:
    try:
        current = await run(box, is_current, box.engine)
    except Exception as exc:  # any driver error means "not ready"
        return error(503, "database_unreachable", f"the database cannot be reached: {exc}")
    if not current:
        return error(503, "migrations_pending", "run 'refundflow migrate' to update the schema")
    return Json({"status": "ready"})
