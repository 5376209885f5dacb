"""Shop webhook signatures: base64(HMAC-SHA256(secret, raw body)), compared in constant time
against every secret in force (the current one, and the previous one during a rotation)
before anything is parsed."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable

from refundflow.domain.errors import AuthenticationError


class InvalidSignatureError(AuthenticationError):
    code = "invalid_signature"


def digest(secret: str, body: bytes) -> bytes:
    return hmac.new(secret.encode(), body, hashlib.sha256).digest()


def verify_base64_hmac(body: bytes, header: str | None, secrets: Iterable[str], shop: str) -> None:
    """Refuse the delivery unless ``header`` is the signature of ``body`` under one of
    ``secrets``. Every secret is tried, so the time taken says nothing about which failed."""
    if not header:
        raise InvalidSignatureError(f"missing {shop} signature header")
    try:
        given = base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSignatureError(f"the {shop} signature is not base64") from None
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(digest(secret, body), given)
    if not matched:
        raise InvalidSignatureError(f"the {shop} signature does not match the body")
