"""JSON responses written with orjson, and the one error shape of the API."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class Json(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> Json:
    return Json(
        {"error": {"code": code, "message": message, "details": details or {}}}, status_code=status
    )
