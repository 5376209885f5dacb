"""Alibaba Cloud SMS (短信服务 Dysmsapi 2017-05-25) ``SendSms``, signed with the V3 request
signature ACS3-HMAC-SHA256.

The SDK (alibabacloud-dysmsapi20170525 and its Tea runtime) would bring a dozen packages for
one call; the signature is documented and short, so it is computed here:

    CanonicalRequest = METHOD \\n PATH \\n CanonicalQueryString \\n CanonicalHeaders \\n
                       SignedHeaders \\n hex(sha256(body))
    StringToSign     = "ACS3-HMAC-SHA256" \\n hex(sha256(CanonicalRequest))
    Signature        = hex(hmac_sha256(AccessKeySecret, StringToSign))
    Authorization: ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<…>,Signature=<…>

The message is a template registered with Alibaba (``TemplateCode``, e.g. ``SMS_154950909``)
under an approved sign name (``SignName``, the 【签名】); our template's ``sms_params`` become
``TemplateParam``. ``OutId`` carries the notification id, so Alibaba's receipts point back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from refundflow.adapters.channels.http import check, json_body, post
from refundflow.services.notifications.ports import (
    Message,
    PermanentChannelError,
    RetryableChannelError,
)

ALGORITHM = "ACS3-HMAC-SHA256"
VERSION = "2017-05-25"
# Codes that mean "later" rather than "never" (throttling, Alibaba's own failures).
RETRYABLE = ("isv.BUSINESS_LIMIT_CONTROL", "Throttling", "isp.", "ServiceUnavailable", "Internal")


def percent(value: str) -> str:
    """RFC 3986 encoding as the signature wants it (space %20, ``*`` %2A, ``~`` kept)."""
    return quote(value, safe="-_.~")


def canonical_query(params: Mapping[str, str]) -> str:
    return "&".join(f"{percent(k)}={percent(v)}" for k, v in sorted(params.items()))


def sign_acs3(
    secret: str,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
) -> tuple[str, str]:
    """(SignedHeaders, Signature) of a request; ``headers`` are those to sign (host,
    content-type and every x-acs-* header)."""
    signed = {k.lower(): v.strip() for k, v in headers.items()}
    names = sorted(signed)
    canonical = "\n".join(
        [
            method,
            path or "/",
            canonical_query(query),
            "".join(f"{name}:{signed[name]}\n" for name in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    to_sign = f"{ALGORITHM}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    signature = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    return ";".join(names), signature


def alibaba_number(e164: str) -> str:
    """Alibaba wants mainland numbers bare (13912345678) and others with their country code
    but no plus (85261234567)."""
    digits = e164.lstrip("+")
    return digits[2:] if digits.startswith("86") else digits


class AlibabaSmsChannel:
    def __init__(
        self,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        *,
        endpoint: str = "https://dysmsapi.aliyuncs.com",
    ) -> None:
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.sign_name = sign_name
        self.endpoint = endpoint.rstrip("/")

    def send(self, message: Message) -> str:
        if not message.sms_template:
            raise PermanentChannelError(
                "no Alibaba SMS template code for this notice: register one with Alibaba and "
                "set sms_template with PUT /api/v1/notification-templates/{notice}/{language}"
            )
        query = {
            "PhoneNumbers": alibaba_number(message.to),
            "SignName": self.sign_name,
            "TemplateCode": message.sms_template,
            "TemplateParam": json.dumps(dict(message.sms_params), ensure_ascii=False),
            "OutId": str(message.id),
        }
        body = b""
        headers = {
            "host": urlsplit(self.endpoint).netloc,
            "x-acs-action": "SendSms",
            "x-acs-version": VERSION,
            "x-acs-date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "x-acs-signature-nonce": secrets.token_hex(16),
            "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        }
        signed, signature = sign_acs3(self.access_key_secret, "POST", "/", query, headers, body)
        headers["Authorization"] = (
            f"{ALGORITHM} Credential={self.access_key_id},SignedHeaders={signed},"
            f"Signature={signature}"
        )
        response = post(f"{self.endpoint}/?{canonical_query(query)}", content=body, headers=headers)
        if response.status_code >= 500 or response.status_code == 429:
            check(response, "Alibaba SMS")
        reply = json_body(response, "Alibaba SMS")
        code = str(reply.get("Code", ""))
        if code == "OK":
            return str(reply.get("BizId") or reply.get("RequestId"))
        detail = f"Alibaba SMS {code}: {reply.get('Message', '')}"
        if any(code.startswith(prefix) for prefix in RETRYABLE):
            raise RetryableChannelError(detail)
        raise PermanentChannelError(detail)
