"""HTTP for channels: one POST, and what its failure means (retry or give up)."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from refundflow.services.notifications.ports import PermanentChannelError, RetryableChannelError

TIMEOUT = 10.0  # seconds; well inside the delivery lease (60 s)


def post(
    url: str,
    *,
    content: bytes | None = None,
    data: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = TIMEOUT,
) -> httpx.Response:
    """POST; a connection failure or a timeout is retryable (the provider may be back soon)."""
    try:
        with httpx.Client(timeout=timeout) as client:
            return client.post(url, content=content, data=data, headers=headers)
    except httpx.HTTPError as exc:
        raise RetryableChannelError(f"{type(exc).__name__}: {exc}") from None


def check(response: httpx.Response, provider: str, *, gone: frozenset[int] = frozenset()) -> None:
    """Raise unless 2xx: 408, 425, 429 and 5xx are retryable, other 4xx are not; statuses in
    ``gone`` also tell that the recipient no longer exists."""
    status = response.status_code
    if 200 <= status < 300:
        return
    detail = f"{provider} answered {status}: {response.text[:300]}"
    if status in (408, 425, 429) or status >= 500:
        raise RetryableChannelError(detail)
    raise PermanentChannelError(detail, gone=status in gone)


def json_body(response: httpx.Response, provider: str) -> dict[str, object]:
    try:
        body = response.json()
    except ValueError:
        raise RetryableChannelError(f"{provider} answered something that is not JSON") from None
    if not isinstance(body, dict):
        raise RetryableChannelError(f"{provider} answered an unexpected JSON value")
    return body
