"""Jinja2 templates with the page's language and translations in every context."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from refundflow.entrypoints.web.i18n import LANGUAGES, language, translate

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    lang = language(request)
    settings = request.app.state.container.settings
    response = TEMPLATES.TemplateResponse(
        request,
        name,
        {
            "lang": lang,
            "other_lang": next(code for code in LANGUAGES if code != lang),
            "t": lambda key: translate(key, lang),
            "shop_name": settings.shop_name,
            **context,
        },
        status_code=status,
    )
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return response
