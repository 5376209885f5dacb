"""The customer portal's pages (mobile first): find my order, ask for a refund, follow it
live, ship the goods back, appeal, and rate the service when it is over."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
from fastapi import APIRouter, Request
from sse_starlette.sse import EventSourceResponse
from starlette.datastructures import FormData, UploadFile
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)

from refundflow.adapters.channels.webpush import application_server_key, load_vapid
from refundflow.domain.errors import (
    AuthenticationError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    RefundflowError,
)
from refundflow.domain.lifecycle import Action
from refundflow.entrypoints.web.deps import Caller, run
from refundflow.entrypoints.web.errors import status_of
from refundflow.entrypoints.web.i18n import language, translate
from refundflow.entrypoints.web.pages.templating import render
from refundflow.entrypoints.web.portal_auth import (
    CSRF_FIELD,
    SESSION_COOKIE,
    check_csrf,
    csrf_token,
    keep_csrf_cookie,
    require_session,
    session_cookie,
)
from refundflow.entrypoints.web.routes.portal_api import stream
from refundflow.services import actions, customer, intake, notifications, portal, uploads
from refundflow.services.notifications import verify_token
from refundflow.services.reasons import active_reasons

router = APIRouter(include_in_schema=False)
CUSTOMER_ACTIONS = {
    "cancel": Action.CANCEL,
    "return-shipment": Action.RETURN_SHIPMENT,
    "appeal": Action.APPEAL,
}


def _survey_request(box: Any, token: str) -> int:
    """The request a survey link was sent for (the link is signed and expires; see
    ``services.notifications.links``), or AuthenticationError."""
    return verify_token(box.settings.secret_key, token, box.uows.clock())


async def _page(
    request: Request, name: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    context = {"csrf": csrf_token(request), "csrf_field": CSRF_FIELD, **context}
    response = render(request, name, context, status)
    keep_csrf_cookie(request, response)
    return response


async def _guarded(request: Request, body: Callable[[], Awaitable[Response]]) -> Response:
    """Run a page; refusals become a page with the message (sign-in errors go home)."""
    try:
        return await body()
    except AuthenticationError:
        return RedirectResponse(f"/?lang={language(request)}", status_code=303)
    except RefundflowError as exc:
        return await _page(request, "portal_error.html", {"message": exc.message}, status_of(exc))


def _caller(request: Request) -> Caller:
    return Caller(require_session(request), request.app.state.container)


def _form_text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    async def body() -> Response:
        mine: list[dict[str, Any]] = []
        if request.cookies.get(SESSION_COOKIE):
            try:
                caller = _caller(request)
                mine = await run(caller.box, customer.own_requests, caller.box.uows, caller.actor)
            except AuthenticationError:
                mine = []
        return await _page(request, "portal_home.html", {"requests": mine})

    return await _guarded(request, body)


@router.post("/lookup", response_class=HTMLResponse)
async def lookup(request: Request) -> Response:
    async def body() -> Response:
        form = await request.form()
        check_csrf(request, _form_text(form, CSRF_FIELD))
        order_no, contact = _form_text(form, "order_no"), _form_text(form, "contact")
        box = request.app.state.container
        await run(
            box,
            portal.request_code,
            box.uows,
            box.notifier,
            order_no,
            contact,
            language(request),
        )
        return await _page(
            request, "portal_code.html", {"order_no": order_no, "contact": contact, "error": None}
        )

    return await _guarded(request, body)


@router.post("/verify", response_class=HTMLResponse)
async def verify(request: Request) -> Response:
    form = await request.form()
    order_no, contact = _form_text(form, "order_no"), _form_text(form, "contact")

    async def body() -> Response:
        check_csrf(request, _form_text(form, CSRF_FIELD))
        box = request.app.state.container
        token = await run(
            box, portal.verify_code, box.uows, order_no, contact, _form_text(form, "code")
        )
        response = RedirectResponse(f"/orders/{order_no}", status_code=303)
        session_cookie(request, response, token, box.uows.config.portal_session_hours)
        return response

    try:
        return await body()
    except AuthenticationError:
        return await _page(
            request,
            "portal_code.html",
            {
                "order_no": order_no,
                "contact": contact,
                "error": translate("wrong_code", language(request)),
            },
            401,
        )
    except RefundflowError as exc:
        return await _page(request, "portal_error.html", {"message": exc.message}, status_of(exc))


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await request.form()
    check_csrf(request, _form_text(form, CSRF_FIELD))
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        box = request.app.state.container
        await run(box, portal.sign_out, box.uows, token)
        request.app.state.portal_authenticator.forget(token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/orders/{order_no}", response_class=HTMLResponse)
async def order_page(request: Request, order_no: str) -> Response:
    async def body() -> Response:
        caller = _caller(request)
        order = await run(caller.box, customer.own_order, caller.box.uows, caller.actor, order_no)
        reasons = await run(caller.box, active_reasons, caller.box.uows)
        return await _page(request, "portal_order.html", {"order": order, "reasons": reasons})

    return await _guarded(request, body)


def _command(form: FormData, order_no: str, lang: str) -> intake.SubmitRefundRequest:
    lines = []
    for key, value in form.multi_items():
        if key.startswith("qty_") and isinstance(value, str) and value.strip().isdigit():
            quantity = int(value)
            if quantity > 0:
                lines.append((key[4:], quantity))
    return intake.SubmitRefundRequest(
        order_no=order_no,
        type=_form_text(form, "type") or "refund_only",
        reason=_form_text(form, "reason"),
        lines=lines,
        description=_form_text(form, "description"),
        refund_route=_form_text(form, "refund_route") or "original",
        intake_channel="portal",
        language=lang,
    )


@router.post("/orders/{order_no}/preview", response_class=HTMLResponse)
async def preview(request: Request, order_no: str) -> Response:
    async def body() -> Response:
        async with request.form(max_files=uploads.MAX_PHOTOS + 1) as form:
            check_csrf(request, _form_text(form, CSRF_FIELD))
            command = _command(form, order_no, language(request))
        caller = _caller(request)
        result = await run(caller.box, customer.preview, caller.box.uows, caller.actor, command)
        return await _page(request, "partials/portal_preview.html", {"preview": result})

    try:
        return await body()
    except RefundflowError as exc:
        return await _page(
            request, "partials/portal_preview.html", {"preview": None, "message": exc.message}
        )


@router.post("/orders/{order_no}/requests")
async def submit(request: Request, order_no: str) -> Response:
    async def body() -> Response:
        async with request.form(max_files=uploads.MAX_PHOTOS + 1) as form:
            check_csrf(request, _form_text(form, CSRF_FIELD))
            caller = _caller(request)
            files = [f for f in form.getlist("photos") if isinstance(f, UploadFile) and f.filename]
            data = [await f.read(uploads.MAX_BYTES + 1) for f in files]
            # Photos are checked before the request is stored: a bad photo refuses both.
            saved = (
                await run(caller.box, uploads.save_photos, caller.box.photos, data) if data else []
            )
            submitted = await run(
                caller.box,
                intake.submit_refund_request,
                caller.box.uows,
                _command(form, order_no, language(request)),
                caller.actor,
            )
            number = submitted.view["number"]
        if saved:
            await run(
                caller.box, uploads.attach_photos, caller.box.uows, caller.actor, number, saved
            )
        return RedirectResponse(f"/r/{number}", status_code=303)

    return await _guarded(request, body)


@router.get("/r/{number}", response_class=HTMLResponse)
async def request_page(request: Request, number: str) -> Response:
    async def body() -> Response:
        caller = _caller(request)
        view = await run(caller.box, customer.own_request, caller.box.uows, caller.actor, number)
        settings = caller.box.settings
        return await _page(
            request,
            "portal_request.html",
            {
                "r": view,
                "tz": settings.tz,
                "hotline": settings.hotline,
                "chat_url": settings.chat_url,
                "local": _local(settings.tz),
                "push_key": _push_key(settings.vapid_private_key),
            },
        )

    return await _guarded(request, body)


@lru_cache(maxsize=4)
def _push_key(private_key: str | None) -> str | None:
    """The public key browsers subscribe with, when Web Push is configured."""
    return application_server_key(load_vapid(private_key)) if private_key else None


# The portal's service worker is served from the site's root so that its scope is the
# whole portal; it only shows pushed notifications and opens the request on a click.
SERVICE_WORKER = Path(__file__).parent.parent / "static" / "portal-sw.js"


@router.get("/portal-sw.js")
async def service_worker() -> Response:
    return FileResponse(
        SERVICE_WORKER,
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


async def _push_body(request: Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise InvalidInputError("the body is JSON: {endpoint, keys, csrf}") from None
    if not isinstance(body, dict):
        raise InvalidInputError("the body is a JSON object: {endpoint, keys, csrf}")
    check_csrf(request, body.get("csrf") if isinstance(body.get("csrf"), str) else None)
    if not isinstance(body.get("endpoint"), str):
        raise InvalidInputError("endpoint is the subscription's URL", details={"field": "endpoint"})
    return body


async def _push_answer(request: Request, body: Callable[[], Awaitable[Any]]) -> Response:
    """Portal push calls come from the page's script: answers are JSON, errors too."""
    try:
        return JSONResponse(await body())
    except RefundflowError as exc:
        return JSONResponse({"error": exc.message}, status_code=status_of(exc))


@router.post("/push")
async def push_on(request: Request) -> Response:
    async def body() -> Any:
        data = await _push_body(request)
        caller = _caller(request)
        keys = data.get("keys")
        return await run(
            caller.box,
            notifications.subscribe_push,
            caller.box.uows,
            caller.actor,
            int(caller.actor.id or 0),
            "webpush",
            data["endpoint"],
            keys if isinstance(keys, dict) else {},
        )

    return await _push_answer(request, body)


@router.post("/push/off")
async def push_off(request: Request) -> Response:
    async def body() -> Any:
        data = await _push_body(request)
        caller = _caller(request)
        await run(
            caller.box,
            notifications.unsubscribe_push,
            caller.box.uows,
            caller.actor,
            int(caller.actor.id or 0),
            None,
            data["endpoint"],
        )
        return {"ok": True}

    return await _push_answer(request, body)


@router.get("/r/{number}/timeline", response_class=HTMLResponse)
async def timeline_part(request: Request, number: str) -> Response:
    async def body() -> Response:
        caller = _caller(request)
        view = await run(caller.box, customer.own_request, caller.box.uows, caller.actor, number)
        return await _page(
            request,
            "partials/portal_progress.html",
            {"r": view, "local": _local(caller.box.settings.tz)},
        )

    return await _guarded(request, body)


@router.get("/r/{number}/stream")
async def page_stream(request: Request, number: str) -> Response:
    caller = _caller(request)
    first = await run(caller.box, customer.own_request, caller.box.uows, caller.actor, number)
    return EventSourceResponse(stream(request, caller, number, first), ping=15)


@router.post("/r/{number}/{action}")
async def act(request: Request, number: str, action: str) -> Response:
    async def body() -> Response:
        form = await request.form()
        check_csrf(request, _form_text(form, CSRF_FIELD))
        if action not in CUSTOMER_ACTIONS:
            raise NotFoundError("no such action")
        caller = _caller(request)
        await run(
            caller.box,
            actions.perform,
            caller.box.uows,
            number,
            CUSTOMER_ACTIONS[action],
            caller.actor,
            actions.ActionInput(
                reason=_form_text(form, "reason") or None,
                carrier=_form_text(form, "carrier") or None,
                tracking_no=_form_text(form, "tracking_no") or None,
            ),
        )
        return RedirectResponse(f"/r/{number}", status_code=303)

    return await _guarded(request, body)


@router.get("/photos/{photo_id}")
async def photo(request: Request, photo_id: int) -> Response:
    caller = _caller(request)

    def load() -> dict[str, Any] | None:
        with caller.box.uows(write=False) as uow:
            return uow.portal.upload(photo_id)

    found = await run(caller.box, load)
    if found is None or str(found["customer_id"]) != caller.actor.id:
        raise NotFoundError("no such photo")
    return FileResponse(
        caller.box.photos.path(found["path"]),
        media_type=found["content_type"],
        headers={"Cache-Control": "private, no-store"},
    )


@router.get("/survey/{token}", response_class=HTMLResponse)
async def survey_page(request: Request, token: str) -> Response:
    box = request.app.state.container
    try:
        _survey_request(box, token)
    except AuthenticationError:
        return await _page(
            request,
            "portal_error.html",
            {"message": translate("link_expired", language(request))},
            404,
        )
    return await _page(request, "portal_survey.html", {"token": token, "done": False})


@router.post("/survey/{token}", response_class=HTMLResponse)
async def survey_answer(request: Request, token: str) -> Response:
    async def body() -> Response:
        form = await request.form()
        check_csrf(request, _form_text(form, CSRF_FIELD))
        box = request.app.state.container
        try:
            request_id = _survey_request(box, token)
        except AuthenticationError:
            raise PermissionDeniedError(translate("link_expired", language(request))) from None
        csat = _form_text(form, "csat")
        await run(
            box,
            customer.answer_survey,
            box.uows,
            int(request_id),
            csat=int(csat) if csat.isdigit() else 0,
            resolved=_form_text(form, "resolved") == "yes",
            comment=_form_text(form, "comment"),
        )
        return await _page(request, "portal_survey.html", {"token": token, "done": True})

    return await _guarded(request, body)


def _local(tz: Any) -> Callable[[str | None], str]:
    def local(value: str | None) -> str:
        if not value:
            return ""
        return datetime.fromisoformat(value).astimezone(tz).strftime("%Y-%m-%d %H:%M")

    return local
