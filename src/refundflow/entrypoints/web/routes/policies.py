"""The refund policy over the API: drafts, publishing, versions, simulation, the text."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from refundflow.domain.permissions import Operation
from refundflow.entrypoints.web.deps import CallerDep, ContainerDep, allowed, run
from refundflow.entrypoints.web.responses import Json
from refundflow.entrypoints.web.schemas import ErrorPublic, Strict
from refundflow.services import policies, simulation

router = APIRouter(prefix="/api/v1/policies", tags=["policy"])

ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorPublic} for s in (401, 403, 404, 409, 422)
}
Operator = Literal["=", "!=", "<", "<=", ">", ">=", "in", "not_in", "between"]


class ConditionModel(Strict):
    fact: str = Field(examples=["amount"], description="one of the facts in policy/facts.py")
    operator: Operator
    value: Any = Field(
        examples=["100.00"],
        description='money and rates as decimal strings ("100.00", "0.10"); lists for in, '
        "not_in and between",
    )


class OfferModel(Strict):
    exchange: bool = False
    store_credit_bonus_pct: str | None = Field(None, examples=["10"])
    keep_item_refund_pct: str | None = Field(None, examples=["30"])


class OptionsModel(Strict):
    requires_return: bool | None = None
    auto_execute: bool | None = None
    queue: str | None = None
    priority: Literal["normal", "high"] | None = None
    fast_track: bool | None = None
    offer: OfferModel | None = None


class RuleModel(Strict):
    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=100)
    enabled: bool = True
    conditions: list[ConditionModel] = Field(default_factory=list, max_length=20)
    outcome: Literal["approve", "reject", "review"]
    customer_reason: str | dict[str, str] | None = None
    options: OptionsModel | None = None


class PolicyModel(Strict):
    """The policy document: ordered rules, first match decides."""

    version: int | None = Field(None, description="the draft's version (optimistic locking)")
    rules: list[RuleModel] = Field(max_length=200)
    trust_quota: dict[str, str] | None = Field(
        None, examples=[{"standard": "200.00", "vip": "3000.00"}]
    )
    status: str | None = Field(None, description="ignored on input")
    updated_at: str | None = Field(None, description="ignored on input")
    published_at: str | None = Field(None, description="ignored on input")


class PolicyPublic(BaseModel):
    model_config = ConfigDict(extra="allow")
    version: int
    status: Literal["draft", "published", "archived"]
    rules: list[dict[str, Any]]
    trust_quota: dict[str, str]


class SimulationBody(Strict):
    from_: AwareDatetime = Field(alias="from")
    to: AwareDatetime
    minutes_per_review: int | None = Field(None, ge=1, le=600)


def _raw(body: PolicyModel) -> dict[str, Any]:
    """The document as sent (what GET returns can be sent back as it is)."""
    return body.model_dump(
        exclude_none=True, mode="json", exclude={"status", "updated_at", "published_at"}
    )


@router.get("", summary="Every version, newest first", responses=ERRORS)
async def list_policies(caller: CallerDep) -> Json:
    return Json(await run(caller.box, policies.list_versions, caller.box.uows, caller.actor))


@router.get(
    "/draft", summary="The draft being edited", response_model=PolicyPublic, responses=ERRORS
)
async def get_draft(caller: CallerDep) -> Json:
    return Json(await run(caller.box, policies.get_draft, caller.box.uows, caller.actor))


@router.put(
    "/draft",
    dependencies=[allowed(Operation.MANAGE_SETTINGS)],
    summary="Save the draft (validated; errors name the rule and field)",
    response_model=PolicyPublic,
    responses=ERRORS,
)
async def put_draft(body: PolicyModel, caller: CallerDep) -> Json:
    return Json(
        await run(caller.box, policies.put_draft, caller.box.uows, caller.actor, _raw(body))
    )


@router.post(
    "/draft/publish",
    summary="Publish the draft; new requests use it at once",
    response_model=PolicyPublic,
    responses=ERRORS,
)
async def publish_draft(caller: CallerDep) -> Json:
    return Json(await run(caller.box, policies.publish_draft, caller.box.uows, caller.actor))


@router.get("/published/text", summary="The published policy in plain sentences (public)")
async def published_text(
    box: ContainerDep, lang: Annotated[Literal["zh-CN", "en"], Query()] = "zh-CN"
) -> Json:
    return Json(await run(box, policies.published_text, box.uows, lang))


@router.get("/{version}", summary="One version", response_model=PolicyPublic, responses=ERRORS)
async def get_policy(caller: CallerDep, version: int = Path(ge=1, le=10**9)) -> Json:
    return Json(await run(caller.box, policies.get_version, caller.box.uows, caller.actor, version))


@router.post(
    "/{version}/simulate",
    dependencies=[allowed(Operation.MANAGE_SETTINGS)],
    summary="Re-decide the stored requests of a period under a version (a pure read)",
    responses=ERRORS,
)
async def simulate(
    body: SimulationBody, caller: CallerDep, version: int = Path(ge=1, le=10**9)
) -> Json:
    minutes = body.minutes_per_review or caller.box.settings.minutes_per_review
    result = await run(
        caller.box,
        simulation.simulate,
        caller.box.uows,
        caller.actor,
        version,
        _utc(body.from_),
        _utc(body.to),
        minutes_per_review=minutes,
    )
    return Json(result)


def _utc(at: datetime) -> datetime:
    from datetime import UTC

    return at.astimezone(UTC)
