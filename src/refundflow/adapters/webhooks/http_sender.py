"""``WebhookSender`` over HTTP with httpx: one POST, no redirects followed (a 3xx is a
failure the subscriber should fix), a bounded wait, the first 500 characters of the answer
kept for the delivery log."""

from __future__ import annotations

import time
from collections.abc import Mapping

import httpx

from refundflow.services.webhook_delivery import SendResult

EXCERPT = 500


class HttpWebhookSender:
    def __init__(self, *, timeout: float = 10.0) -> None:
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            follow_redirects=False,
            trust_env=False,
        )

    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult:
        started = time.monotonic()
        try:
            response = self._client.post(url, content=body, headers=dict(headers))
        except httpx.HTTPError as exc:
            return SendResult(None, _ms(started), None, f"{type(exc).__name__}: {exc}"[:1000])
        text = response.text
        excerpt = text if len(text) <= EXCERPT else text[:EXCERPT] + "…"
        return SendResult(response.status_code, _ms(started), excerpt, None)

    def close(self) -> None:
        self._client.close()


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
