"""A local WeChat Pay API v3: ``POST /v3/refund/domestic/refunds`` and
``GET /v3/refund/domestic/refunds/{out_refund_no}``.

It verifies our ``Authorization: WECHATPAY2-SHA256-RSA2048 …`` (method, path, timestamp,
nonce and body signed with the merchant key), deduplicates by ``out_refund_no``, answers
``PROCESSING`` and settles to ``SUCCESS`` on the next query, signs every answer
(``Wechatpay-Timestamp/Nonce/Signature/Serial``) with the platform key, and sends callbacks
whose resource is AES-256-GCM encrypted with the APIv3 key.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import time
import uuid
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from tests.fakes.base import (
    FakeGateway,
    Refund,
    private_pem,
    public_pem,
    rsa_key,
    rsa_sign,
    rsa_verify,
)

MCHID = "1900000109"
APPID = "wxd678efh567hg6787"
SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
PUBLIC_KEY_ID = "PUB_KEY_ID_0119000001092025"
AUTH = re.compile(r'(\w+)="([^"]*)"')


class FakeWechatPay(FakeGateway):
    name = "wechat_pay"

    def __init__(self) -> None:
        super().__init__()
        self.merchant_key = rsa_key("wechat-merchant")
        self.platform_key = rsa_key("wechat-platform")
        self.forger_key = rsa_key("wechat-forger")
        self.merchant_public = load_pem_public_key(public_pem(self.merchant_key).encode())
        self.apiv3_key = secrets.token_hex(16)  # 32 characters, as WeChat Pay issues them
        self.settle_on_query = True

    def settings_env(self, timeout: float = 1.0) -> dict[str, str]:
        return {
            "REFUNDFLOW_WECHATPAY_MCHID": MCHID,
            "REFUNDFLOW_WECHATPAY_APPID": APPID,
            "REFUNDFLOW_WECHATPAY_PRIVATE_KEY": private_pem(self.merchant_key),
            "REFUNDFLOW_WECHATPAY_CERT_SERIAL_NO": SERIAL,
            "REFUNDFLOW_WECHATPAY_APIV3_KEY": self.apiv3_key,
            "REFUNDFLOW_WECHATPAY_PUBLIC_KEY": public_pem(self.platform_key),
            "REFUNDFLOW_WECHATPAY_PUBLIC_KEY_ID": PUBLIC_KEY_ID,
            "REFUNDFLOW_WECHATPAY_BASE_URL": self.url,
            "REFUNDFLOW_GATEWAY_TIMEOUT_SECONDS": str(timeout),
        }

    def signed_headers(self, body: str, *, forged: bool = False) -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), uuid.uuid4().hex.upper()
        key = self.forger_key if forged else self.platform_key
        return {
            "Content-Type": "application/json; charset=utf-8",
            "Wechatpay-Timestamp": timestamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": rsa_sign(key, f"{timestamp}\n{nonce}\n{body}\n"),
            "Wechatpay-Serial": PUBLIC_KEY_ID,
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
            "Request-ID": uuid.uuid4().hex,
        }

    def _verify(self, handler: BaseHTTPRequestHandler, method: str, path: str, body: bytes) -> bool:
        header = handler.headers.get("Authorization", "")
        if not header.startswith("WECHATPAY2-SHA256-RSA2048 "):
            return False
        fields = dict(AUTH.findall(header))
        message = f"{method}\n{path}\n{fields.get('timestamp')}\n{fields.get('nonce_str')}\n"
        message += body.decode() + "\n"
        return fields.get("mchid") == MCHID and rsa_verify(
            self.merchant_public, message, fields.get("signature", "")
        )

    def _view(self, refund: Refund) -> dict[str, Any]:
        return {
            "refund_id": refund.refund_id,
            "out_refund_no": refund.key,
            "transaction_id": refund.trade,
            "out_trade_no": f"OUT-{refund.trade}",
            "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱",
            "create_time": time.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
            "status": refund.status,
            "funds_account": "AVAILABLE",
            "amount": {
                "total": self.trades.get(refund.trade, 0),
                "refund": refund.amount_minor,
                "payer_total": self.trades.get(refund.trade, 0),
                "payer_refund": refund.amount_minor,
                "settlement_refund": refund.amount_minor,
                "settlement_total": self.trades.get(refund.trade, 0),
                "discount_refund": 0,
                "currency": "CNY",
            },
        }

    def _json(
        self, status: int, content: dict[str, Any], *, forged: bool = False
    ) -> tuple[int, dict[str, str], bytes]:
        text = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
        return status, self.signed_headers(text, forged=forged), text.encode()

    def handle(
        self, handler: BaseHTTPRequestHandler, method: str, path: str, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        if not self._verify(handler, method, path, body):
            self.bad_requests.append(path)
            return self._json(401, {"code": "SIGN_ERROR", "message": "签名错误"})
        op = "refund" if method == "POST" else "query"
        fault = self.next_fault(op)
        if fault == "5xx":
            return self._json(500, {"code": "SYSTEM_ERROR", "message": "系统错误"})
        if fault == "429":
            return self._json(429, {"code": "FREQUENCY_LIMITED", "message": "频率超限"})
        if fault == "fail":
            return self._json(403, {"code": "NOT_ENOUGH", "message": "基本账户余额不足"})
        if method == "POST" and path == "/v3/refund/domestic/refunds":
            status, content = self._refund(json.loads(body))
        elif method == "GET" and path.startswith("/v3/refund/domestic/refunds/"):
            status, content = self._query(path.rsplit("/", 1)[1])
        else:
            status, content = 404, {"code": "NOT_FOUND", "message": "no such API"}
        self.after_processing(fault)
        if fault == "malformed":
            return 200, {"Content-Type": "application/json"}, b"<xml>not json</xml>"
        return self._json(status, content, forged=fault == "bad_signature")

    def _refund(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        key = body.get("out_refund_no", "")
        trade = body.get("transaction_id", "")
        amount = int(body.get("amount", {}).get("refund", 0))
        with self.lock:
            captured = self.trades.get(trade)
            if captured is None:
                self.calls[key] += 1
                return 404, {"code": "RESOURCE_NOT_EXISTS", "message": "订单不存在"}
            if body.get("amount", {}).get("total") != captured:
                self.calls[key] += 1
                return 400, {"code": "PARAM_ERROR", "message": "订单金额与退款金额不一致"}
            if key not in self.refunds and self.refunded_minor(trade) + amount > captured:
                self.calls[key] += 1
                return 400, {"code": "INVALID_REQUEST", "message": "退款金额超过可退金额"}
            refund, _ = self.process(
                key,
                trade,
                amount,
                lambda: Refund(
                    key, trade, amount, "PROCESSING", f"50{uuid.uuid4().int % 10**26:026d}"
                ),
            )
            return 200, self._view(refund)

    def _query(self, key: str) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.calls[key] += 1
            refund = self.refunds.get(key)
            if refund is None:
                return 404, {"code": "RESOURCE_NOT_EXISTS", "message": "退款单不存在"}
            if self.settle_on_query and refund.status == "PROCESSING":
                refund.status = "SUCCESS"
            return 200, self._view(refund)

    # ------------------------------------------------------------------ callbacks
    def callback(
        self,
        key: str,
        *,
        status: str = "SUCCESS",
        event_id: str | None = None,
        forged: bool = False,
        refund_minor: int | None = None,
    ) -> tuple[str, dict[str, str]]:
        with self.lock:
            refund = self.refunds[key]
            if status in ("SUCCESS", "ABNORMAL", "CLOSED") and not forged:
                refund.status = status
        resource = {
            "mchid": MCHID,
            "out_trade_no": f"OUT-{refund.trade}",
            "transaction_id": refund.trade,
            "out_refund_no": key,
            "refund_id": refund.refund_id,
            "refund_status": status,
            "success_time": time.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
            "user_received_account": "支付用户零钱",
            "amount": {
                "total": self.trades.get(refund.trade, 0),
                "refund": refund.amount_minor if refund_minor is None else refund_minor,
                "payer_total": self.trades.get(refund.trade, 0),
                "payer_refund": refund.amount_minor,
            },
        }
        nonce = base64.b64encode(os.urandom(9)).decode()[:12]
        cipher = AESGCM(self.apiv3_key.encode()).encrypt(
            nonce.encode(), json.dumps(resource, ensure_ascii=False).encode(), b"refund"
        )
        body = json.dumps(
            {
                "id": event_id or str(uuid.uuid4()),
                "create_time": time.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
                "resource_type": "encrypt-resource",
                "event_type": f"REFUND.{status}",
                "summary": "退款成功" if status == "SUCCESS" else "退款异常",
                "resource": {
                    "original_type": "refund",
                    "algorithm": "AEAD_AES_256_GCM",
                    "ciphertext": base64.b64encode(cipher).decode(),
                    "associated_data": "refund",
                    "nonce": nonce,
                },
            },
            ensure_ascii=False,
        )
        return body, self.signed_headers(body, forged=forged)

    def notify(self, url: str, key: str, **kwargs: Any) -> httpx.Response:
        body, headers = self.callback(key, **kwargs)
        return httpx.post(url, content=body.encode(), headers=headers, timeout=10)
