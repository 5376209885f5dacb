"""Gateway callbacks: ``POST /api/v1/gateways/{route}/callbacks``.

No API token: the gateway's signature over the raw body is the authentication. The body is
read raw (a re-serialised JSON would not verify), checked by the route's adapter, and
applied in one short transaction; the answer is the one each gateway expects.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response

from refundflow.domain.errors import NotFoundError
from refundflow.domain.payouts import PayoutRoute
from refundflow.entrypoints.web.deps import ContainerDep, run
from refundflow.entrypoints.web.schemas import ErrorPublic
from refundflow.services.payouts.callbacks import receive_callback
from refundflow.services.payouts.ports import ForgedCallbackError

router = APIRouter(prefix="/api/v1/gateways", tags=["gateways"])
log = logging.getLogger("refundflow.callbacks")

MAX_BODY = 64 * 1024


@router.post(
    "/{route}/callbacks",
    summary="A payment gateway's refund notification (signed by the gateway)",
    include_in_schema=True,
    responses={
        400: {"description": "refused: the signature or the body is not the gateway's"},
        401: {"description": "refused: the signature does not verify"},
        404: {"model": ErrorPublic, "description": "no such gateway, or it is not configured"},
        413: {"description": "the body is larger than 64 KiB"},
    },
)
async def gateway_callback(route: str, request: Request, box: ContainerDep) -> Response:
    try:
        which = PayoutRoute(route)
        gateway = box.gateways.callbacks[which]
    except (ValueError, KeyError):
        raise NotFoundError(
            f"no callbacks for {route!r}: alipay, wechat_pay and stripe send them when configured"
        ) from None
    body = await request.body()
    if len(body) > MAX_BODY:
        status, media, content = gateway.callback_answer(False)
        return Response(content, status_code=413, media_type=media)
    try:
        event = gateway.parse_callback(dict(request.headers), body)
    except ForgedCallbackError as exc:
        log.warning("refused a %s callback: %s", route, exc.message)
        status, media, content = gateway.callback_answer(False)
        return Response(content, status_code=status, media_type=media)
    outcome = await run(box, receive_callback, box.uows, which, event)
    log.info("%s callback %s: %s", route, event.event_id, outcome)
    status, media, content = gateway.callback_answer(True)
    return Response(content, status_code=status, media_type=media)
