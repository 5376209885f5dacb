"""Notification templates (managers edit, staff preview), customers' preferences, and the
record of what was sent."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import Field
from starlette.responses import Response

from refundflow.domain.permissions import Operation
from refundflow.domain.privacy import masked_preferences
from refundflow.entrypoints.web.deps import CallerDep, CallerOrCustomerDep, allowed, run
from refundflow.entrypoints.web.responses import Json
from refundflow.entrypoints.web.schemas import ErrorPublic, Strict
from refundflow.services import notifications, privacy
from refundflow.services.notifications.history import list_notifications

router = APIRouter(tags=["notifications"])
ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorPublic} for s in (401, 403, 404, 409, 422)
}
NOTICE = Path(pattern=r"^[a-z_]{2,32}$", examples=["request_received"])
LANGUAGE = Path(pattern=r"^(zh-CN|en)$", examples=["zh-CN"])
CONTEXT = "sms values: number, status, amount, deadline, link, code, reason, survey"


class TemplatePut(Strict):
    subject: str | None = Field(None, max_length=500, description="email subject / push title")
    text: str | None = Field(None, max_length=20_000, description="the email's text part")
    html: str | None = Field(None, max_length=50_000, description="the email's HTML part")
    short: str | None = Field(None, max_length=1_000, description="the SMS and push body")
    sms_template: str | None = Field(
        None, max_length=64, description="the provider's template code (Alibaba SMS_…, Tencent id)"
    )
    sms_params: list[str] | None = Field(None, max_length=10, description=CONTEXT)


class PreviewBody(Strict):
    request: str | None = Field(
        None, max_length=32, description="a request id or number; sample data when left out"
    )
    draft: TemplatePut | None = Field(None, description="unsaved changes to preview")


class PreferencesPut(Strict):
    language: Literal["zh-CN", "en"] | None = None
    email: bool | None = None
    sms: bool | None = None
    push: bool | None = None
    contact_email: str | None = Field(None, max_length=254)
    contact_phone: str | None = Field(None, max_length=32, examples=["13912345678"])


class PushKeys(Strict):
    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=64)


class PushSubscriptionPost(Strict):
    kind: Literal["webpush", "app", "fcm"] = Field(
        description="webpush: a browser's subscription; app: a token for the merchant's app "
        "backend; fcm: a Firebase Cloud Messaging registration token"
    )
    endpoint: str = Field(
        min_length=1, max_length=2000, description="PushSubscription.endpoint, or the token"
    )
    keys: PushKeys | None = Field(None, description="webpush only: PushSubscription keys")


@router.get(
    "/api/v1/notification-templates",
    summary="Every notice's template in every language",
    responses=ERRORS,
)
async def list_templates(caller: CallerDep) -> Json:
    return Json(await run(caller.box, notifications.list_templates, caller.box.uows, caller.actor))


@router.get(
    "/api/v1/notification-templates/{notice}/{language}",
    summary="One template (Jinja2: subject, text, html, short)",
    responses=ERRORS,
)
async def get_template(caller: CallerDep, notice: str = NOTICE, language: str = LANGUAGE) -> Json:
    return Json(
        await run(
            caller.box,
            notifications.get_template,
            caller.box.uows,
            caller.actor,
            notice,
            language,
        )
    )


@router.put(
    "/api/v1/notification-templates/{notice}/{language}",
    dependencies=[allowed(Operation.MANAGE_SETTINGS)],
    summary="Change a template (checked by rendering it against sample data)",
    responses=ERRORS,
)
async def put_template(
    body: TemplatePut, caller: CallerDep, notice: str = NOTICE, language: str = LANGUAGE
) -> Json:
    return Json(
        await run(
            caller.box,
            notifications.put_template,
            caller.box.uows,
            caller.box.notifier,
            caller.actor,
            notice,
            language,
            body.model_dump(exclude_unset=True),
        )
    )


@router.delete(
    "/api/v1/notification-templates/{notice}/{language}",
    summary="Back to the shipped wording",
    responses=ERRORS,
)
async def reset_template(caller: CallerDep, notice: str = NOTICE, language: str = LANGUAGE) -> Json:
    return Json(
        await run(
            caller.box,
            notifications.reset_template,
            caller.box.uows,
            caller.actor,
            notice,
            language,
        )
    )


@router.post(
    "/api/v1/notification-templates/{notice}/{language}/preview",
    summary="Render a template per channel against a real request or sample data",
    responses=ERRORS,
)
async def preview_template(
    body: PreviewBody, caller: CallerDep, notice: str = NOTICE, language: str = LANGUAGE
) -> Json:
    return Json(
        await run(
            caller.box,
            notifications.preview_template,
            caller.box.uows,
            caller.box.notifier,
            caller.actor,
            notice,
            language,
            request=body.request,
            draft=body.draft.model_dump(exclude_unset=True) if body.draft else None,
        )
    )


@router.get(
    "/api/v1/customers/{customer_id}/preferences",
    summary="A customer's channels, language and contacts for notifications",
    responses=ERRORS,
)
async def get_preferences(
    caller: CallerOrCustomerDep,
    customer_id: int = Path(ge=1, le=10**12),
    unmask: bool = Query(
        False, description="show phones in full (cs, manager, admin); the look is audited"
    ),
) -> Json:
    box = caller.box
    return Json(
        await run(box, privacy.preferences, box.uows, caller.actor, customer_id, unmask=unmask)
    )


@router.put(
    "/api/v1/customers/{customer_id}/preferences",
    dependencies=[allowed(Operation.CUSTOMER_PREFERENCES, customers=True)],
    summary="Change a customer's preferences (fields left out keep their value)",
    responses=ERRORS,
)
async def put_preferences(
    body: PreferencesPut, caller: CallerOrCustomerDep, customer_id: int = Path(ge=1, le=10**12)
) -> Json:
    view = await run(
        caller.box,
        notifications.put_preferences,
        caller.box.uows,
        caller.actor,
        customer_id,
        body.model_dump(exclude_unset=True),
    )
    return Json(masked_preferences(view))


@router.get(
    "/api/v1/notifications",
    summary="Notifications, newest first: status, attempts, provider reference, last error",
    responses=ERRORS,
)
async def get_notifications(
    caller: CallerDep,
    request: str | None = Query(None, max_length=32, description="a request id or number"),
    status: str | None = Query(None, max_length=8),
    limit: int = Query(100, ge=1, le=500),
) -> Json:
    return Json(
        await run(
            caller.box,
            list_notifications,
            caller.box.uows,
            caller.actor,
            request=request,
            status=status,
            limit=limit,
        )
    )


@router.post(
    "/api/v1/customers/{customer_id}/push-subscriptions",
    dependencies=[allowed(Operation.CUSTOMER_PREFERENCES, customers=True)],
    summary="Push a customer's notifications to a browser, the merchant's app or FCM",
    status_code=201,
    responses=ERRORS,
)
async def post_push_subscription(
    body: PushSubscriptionPost,
    caller: CallerOrCustomerDep,
    customer_id: int = Path(ge=1, le=10**12),
) -> Json:
    view = await run(
        caller.box,
        notifications.subscribe_push,
        caller.box.uows,
        caller.actor,
        customer_id,
        body.kind,
        body.endpoint,
        body.keys.model_dump() if body.keys else None,
    )
    return Json(view, status_code=201)


@router.delete(
    "/api/v1/customers/{customer_id}/push-subscriptions/{subscription_id}",
    summary="Stop pushing to one subscription",
    status_code=204,
    responses=ERRORS,
)
async def delete_push_subscription(
    caller: CallerOrCustomerDep,
    customer_id: int = Path(ge=1, le=10**12),
    subscription_id: int = Path(ge=1, le=10**12),
) -> Response:
    await run(
        caller.box,
        notifications.unsubscribe_push,
        caller.box.uows,
        caller.actor,
        customer_id,
        subscription_id,
    )
    return Response(status_code=204)
