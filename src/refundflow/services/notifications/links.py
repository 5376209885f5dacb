"""Links that customers open from a message without logging in: signed and expiring.

A survey link is ``{public_url}/survey/{token}``; the token is ``{request_id}.{expires}.{mac}``
where ``expires`` is a Unix time and ``mac`` an HMAC-SHA256 (keyed by the secret, labelled
with the link's purpose so a survey token is never valid for anything else). It names the
request by its id only: no personal data in URLs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from refundflow.domain.errors import AuthenticationError

SURVEY = "survey"


def _mac(secret: str, purpose: str, request_id: int, expires: int) -> str:
    key = hashlib.sha256(f"refundflow-link:{purpose}:{secret}".encode()).digest()
    digest = hmac.new(key, f"{request_id}.{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def sign_token(secret: str, request_id: int, expires_at: datetime, purpose: str = SURVEY) -> str:
    expires = int(expires_at.timestamp())
    return f"{request_id}.{expires}.{_mac(secret, purpose, request_id, expires)}"


def verify_token(secret: str, token: str, now: datetime, purpose: str = SURVEY) -> int:
    """The request id the token was issued for; AuthenticationError if it was altered, is
    for another purpose, or has expired."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        raise AuthenticationError("this link is not valid")
    request_id, expires = int(parts[0]), int(parts[1])
    if not hmac.compare_digest(parts[2], _mac(secret, purpose, request_id, expires)):
        raise AuthenticationError("this link is not valid")
    if now >= datetime.fromtimestamp(expires, UTC):
        raise AuthenticationError("this link has expired", details={"expired": True})
    return request_id


def survey_link(
    public_url: str, secret: str, request_id: int, now: datetime, valid: timedelta
) -> tuple[str, datetime]:
    """The survey link for a request and when it expires."""
    expires_at = now + valid
    token = sign_token(secret, request_id, expires_at)
    return f"{public_url.rstrip('/')}/survey/{token}", expires_at
