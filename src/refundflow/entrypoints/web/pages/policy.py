"""The refund policy page customers read, generated from the published rules."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from refundflow.domain.errors import NotFoundError
from refundflow.entrypoints.web.deps import run
from refundflow.entrypoints.web.i18n import language
from refundflow.entrypoints.web.pages.templating import render
from refundflow.services import policies

router = APIRouter(include_in_schema=False)


@router.get("/policy", response_class=HTMLResponse)
async def policy_page(request: Request) -> HTMLResponse:
    box = request.app.state.container
    try:
        text = await run(box, policies.published_text, box.uows, language(request))
    except NotFoundError:
        text = None
    published = None
    if text and text.get("published_at"):
        from datetime import datetime

        at = datetime.fromisoformat(text["published_at"]).astimezone(box.settings.tz)
        published = f"{at:%Y-%m-%d %H:%M}"
    return render(request, "policy.html", {"policy": text, "published_at": published})
