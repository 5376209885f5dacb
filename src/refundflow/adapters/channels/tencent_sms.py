"""Tencent Cloud SMS (短信 API 2021-01-11) ``SendSms``, signed with TC3-HMAC-SHA256 (the
"signature v3" of TencentCloud API):

    CanonicalRequest = POST \\n / \\n \\n CanonicalHeaders \\n SignedHeaders \\n hex(sha256(body))
    StringToSign     = TC3-HMAC-SHA256 \\n timestamp \\n date/sms/tc3_request \\n hex(sha256(CR))
    key              = HMAC(HMAC(HMAC("TC3" + SecretKey, date), "sms"), "tc3_request")
    Authorization: TC3-HMAC-SHA256 Credential=<SecretId>/<date>/sms/tc3_request,
                   SignedHeaders=content-type;host;x-tc-action, Signature=hex(HMAC(key, STS))

The SDK (tencentcloud-sdk-python) ships every Tencent product; the signature is documented
and short, so it is computed here. The message is a template registered with Tencent
(``TemplateId``) under an approved ``SignName`` in an SMS application (``SmsSdkAppId``); our
template's ``sms_params`` become ``TemplateParamSet`` in order; ``SessionContext`` carries the
notification id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

from refundflow.adapters.channels.http import check, json_body, post
from refundflow.services.notifications.ports import (
    Message,
    PermanentChannelError,
    RetryableChannelError,
)

ALGORITHM = "TC3-HMAC-SHA256"
SERVICE = "sms"
VERSION = "2021-01-11"
RETRYABLE = ("InternalError", "RequestLimitExceeded", "LimitExceeded", "ResourceUnavailable")


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sign_tc3(
    secret_key: str, *, host: str, action: str, body: bytes, timestamp: int, content_type: str
) -> tuple[str, str, str]:
    """(credential scope, SignedHeaders, Signature) of a POST to ``/``."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    headers = f"content-type:{content_type}\nhost:{host}\nx-tc-action:{action.lower()}\n"
    signed = "content-type;host;x-tc-action"
    canonical = f"POST\n/\n\n{headers}\n{signed}\n{hashlib.sha256(body).hexdigest()}"
    scope = f"{date}/{SERVICE}/tc3_request"
    to_sign = f"{ALGORITHM}\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), SERVICE), "tc3_request")
    return scope, signed, hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


class TencentSmsChannel:
    def __init__(
        self,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        sign_name: str,
        *,
        endpoint: str = "https://sms.tencentcloudapi.com",
        region: str = "ap-guangzhou",
    ) -> None:
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.sdk_app_id = sdk_app_id
        self.sign_name = sign_name
        self.endpoint = endpoint.rstrip("/")
        self.region = region

    def send(self, message: Message) -> str:
        if not message.sms_template:
            raise PermanentChannelError(
                "no Tencent SMS template id for this notice: register one with Tencent and "
                "set sms_template with PUT /api/v1/notification-templates/{notice}/{language}"
            )
        body = json.dumps(
            {
                "PhoneNumberSet": [message.to],
                "SmsSdkAppId": self.sdk_app_id,
                "SignName": self.sign_name,
                "TemplateId": message.sms_template,
                "TemplateParamSet": [value for _, value in message.sms_params],
                "SessionContext": str(message.id),
            },
            ensure_ascii=False,
        ).encode()
        host = urlsplit(self.endpoint).netloc
        timestamp = int(time.time())
        content_type = "application/json; charset=utf-8"
        scope, signed, signature = sign_tc3(
            self.secret_key,
            host=host,
            action="SendSms",
            body=body,
            timestamp=timestamp,
            content_type=content_type,
        )
        headers = {
            "Authorization": f"{ALGORITHM} Credential={self.secret_id}/{scope}, "
            f"SignedHeaders={signed}, Signature={signature}",
            "Content-Type": content_type,
            "Host": host,
            "X-TC-Action": "SendSms",
            "X-TC-Version": VERSION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": self.region,
        }
        response = post(f"{self.endpoint}/", content=body, headers=headers)
        check(response, "Tencent SMS")
        reply = json_body(response, "Tencent SMS").get("Response")
        if not isinstance(reply, dict):
            raise RetryableChannelError("Tencent SMS answered without a Response")
        error = reply.get("Error")
        statuses = reply.get("SendStatusSet") or []
        if isinstance(error, dict):
            code, text = str(error.get("Code", "")), str(error.get("Message", ""))
        elif statuses and statuses[0].get("Code") == "Ok":
            return str(statuses[0].get("SerialNo") or reply.get("RequestId"))
        elif statuses:
            code, text = str(statuses[0].get("Code", "")), str(statuses[0].get("Message", ""))
        else:
            raise RetryableChannelError("Tencent SMS answered without a send status")
        detail = f"Tencent SMS {code}: {text}"
        if any(code.startswith(prefix) for prefix in RETRYABLE):
            raise RetryableChannelError(detail)
        raise PermanentChannelError(detail)
