"""Outgoing webhooks: who subscribes to what, how a delivery is signed, when it is retried.

Rules:
- a subscription names an http(s) URL and event types from the catalogue (or ``*``);
- every delivery is signed ``X-Refundflow-Signature: t=<unix>,v1=<hex>`` where ``<hex>`` is
  HMAC-SHA256 over ``"<t>.<body>"`` with the subscription's secret; while a rotated-out
  secret is still within its overlap window the header carries one ``v1=`` per active
  secret, so a receiver may switch secrets at any moment of the window;
- a delivery that fails is retried with a growing delay for 24 hours after the event, with
  one last attempt at the 24-hour mark; then it is ``failed`` until someone replays it;
- deliveries of one subscription that share an ordering key (one refund request) go out one
  at a time, in the order of their events.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from refundflow.domain.catalogue import CATALOGUE
from refundflow.domain.errors import InvalidInputError

SIGNATURE_HEADER = "X-Refundflow-Signature"
ALL_EVENTS = "*"
RETRY_WINDOW = timedelta(hours=24)
MAX_ROTATION_OVERLAP = timedelta(days=7)
SECRET_PATTERN = re.compile(r"^[\x21-\x7e]{24,128}$")

# Delay after the n-th failed attempt (then the last one repeats): about 17 attempts in 24 h.
RETRY_DELAYS = (
    timedelta(seconds=10),
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=3),
)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"``."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secrets: list[str], timestamp: int, body: bytes) -> str:
    return ",".join([f"t={timestamp}", *(f"v1={sign(s, timestamp, body)}" for s in secrets)])


def next_attempt(
    attempts: int, now: datetime, expires_at: datetime, rng: random.Random | None = None
) -> datetime | None:
    """When to try again after ``attempts`` failed attempts, or None when the 24 hours are
    over. ±10 % jitter keeps many failing deliveries from retrying in step."""
    if now >= expires_at:
        return None
    delay = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1] if attempts else RETRY_DELAYS[0]
    at = now + delay * (rng or random).uniform(0.9, 1.1)
    return min(at, expires_at)


def check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError(
            "url must be an absolute http(s) URL such as https://erp.example.cn/hooks/refunds",
            details={"field": "url"},
        )
    if parts.username or parts.password:
        raise InvalidInputError(
            "url must not carry a user name or password; the signature authenticates us",
            details={"field": "url"},
        )
    if len(url) > 2000:
        raise InvalidInputError("url is longer than 2000 characters", details={"field": "url"})
    return url


def check_events(events: list[str]) -> list[str]:
    """Known event types (or ``*``), each once, in catalogue order."""
    if not events:
        raise InvalidInputError(
            "events needs at least one event type, or '*' for all", details={"field": "events"}
        )
    unknown = [e for e in events if e != ALL_EVENTS and e not in CATALOGUE]
    if unknown:
        raise InvalidInputError(
            f"unknown event type {unknown[0]!r}; GET /api/v1/events/schema lists them",
            details={"field": "events", "known": sorted(CATALOGUE)},
        )
    if ALL_EVENTS in events:
        return [ALL_EVENTS]
    return [name for name in CATALOGUE if name in set(events)]


def check_secret(secret: str) -> str:
    if not SECRET_PATTERN.match(secret):
        raise InvalidInputError(
            "secret must be 24 to 128 printable ASCII characters without spaces",
            details={"field": "secret"},
        )
    return secret


@dataclass(slots=True)
class Subscription:
    id: int | None
    url: str
    events: list[str]
    description: str
    secret: str
    active: bool
    previous_secret: str | None = None
    previous_secret_expires_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def wants(self, event_type: str) -> bool:
        return self.active and (ALL_EVENTS in self.events or event_type in self.events)

    def signing_secrets(self, now: datetime) -> list[str]:
        """The current secret, then the previous one while its overlap lasts."""
        secrets = [self.secret]
        if (
            self.previous_secret
            and self.previous_secret_expires_at is not None
            and now < self.previous_secret_expires_at
        ):
            secrets.append(self.previous_secret)
        return secrets

    def rotate(self, new_secret: str, now: datetime, overlap: timedelta) -> None:
        if overlap < timedelta(0) or overlap > MAX_ROTATION_OVERLAP:
            raise InvalidInputError(
                "overlap_hours must be between 0 and 168", details={"field": "overlap_hours"}
            )
        if new_secret == self.secret:
            raise InvalidInputError(
                "the new secret must differ from the current one", details={"field": "secret"}
            )
        self.previous_secret = self.secret
        self.previous_secret_expires_at = now + overlap
        self.secret = check_secret(new_secret)
        self.updated_at = now
