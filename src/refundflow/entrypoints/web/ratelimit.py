"""Rate limits on the doors people knock on: the portal's lookup and code entry, the
console's sign-in, and the shops' webhooks. Counted per client address in a moving
window by the ``limits`` package (in memory per process, or shared through the storage URL
in ``REFUNDFLOW_RATE_LIMIT_STORAGE``, e.g. ``redis://127.0.0.1:6379``); over the limit the
answer is 429 with ``Retry-After`` and the request goes no further.

The per-order cap on login codes (three per ten minutes) and the account lockout after five
failed sign-ins live in the services; these limits are the outer wall.
"""

from __future__ import annotations

import math
import time

import orjson
from limits import RateLimitItem, parse, storage, strategies
from starlette.types import ASGIApp, Receive, Scope, Send

from refundflow.entrypoints.web.i18n import DEFAULT

# (method, path or path prefix) → limit per client address.
RULES: list[tuple[str, str, str]] = [
    ("POST", "/api/v1/portal/lookup", "20/minute"),
    ("POST", "/lookup", "20/minute"),
    ("POST", "/api/v1/portal/verify", "30/minute"),
    ("POST", "/verify", "30/minute"),
    ("POST", "/console/login", "20/minute"),
    ("POST", "/console/totp", "20/minute"),
    ("POST", "/api/v1/integrations/", "600/minute"),
]
MESSAGES = {
    "zh-CN": "请求过于频繁，请 {seconds} 秒后再试。",
    "en": "Too many attempts: try again in {seconds} seconds.",
}


def _rule(method: str, path: str) -> tuple[str, RateLimitItem] | None:
    for rule_method, rule_path, limit in RULES:
        if method == rule_method and (
            path == rule_path or (rule_path.endswith("/") and path.startswith(rule_path))
        ):
            return rule_path, parse(limit)
    return None


class RateLimits:
    def __init__(self, app: ASGIApp, *, storage_url: str = "memory://") -> None:
        self.app = app
        self.limiter = strategies.MovingWindowRateLimiter(storage.storage_from_string(storage_url))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            rule = _rule(scope["method"], scope["path"])
            if rule is not None:
                name, item = rule
                client = scope.get("client") or ("unknown", 0)
                if not self.limiter.hit(item, name, client[0]):
                    stats = self.limiter.get_window_stats(item, name, client[0])
                    wait = max(1, math.ceil(stats.reset_time - time.time()))
                    await _refuse(scope, send, wait)
                    return
        await self.app(scope, receive, send)


async def _refuse(scope: Scope, send: Send, wait: int) -> None:
    lang = "en" if b"lang=en" in scope.get("query_string", b"") else DEFAULT
    for name, value in scope.get("headers", []):
        if name == b"cookie" and b"lang=en" in value:
            lang = "en"
    message = MESSAGES[lang].format(seconds=wait)
    body = orjson.dumps(
        {"error": {"code": "rate_limited", "message": message, "details": {"retry_after": wait}}}
    )
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"retry-after", str(wait).encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
