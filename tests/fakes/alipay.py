"""A local Alipay open-platform gateway: ``alipay.trade.refund`` and
``alipay.trade.fastpay.refund.query`` over ``GET /gateway.do?…``, RSA2 both ways.

It verifies the request's ``sign`` (SHA256withRSA over the sorted ``k=v`` pairs, ``sign``
excluded) with the app's public key, deduplicates refunds by (trade, ``out_request_no``),
refuses refunds past the trade's captured amount, and signs the exact JSON text of each
``…_response`` object with its own key. ``notify`` posts a signed asynchronous notification.
"""

from __future__ import annotations

import json
import time
import uuid
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
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

APP_ID = "2021000000000001"


def _yuan(minor: int) -> str:
    return str((Decimal(minor) / 100).quantize(Decimal("0.01")))


def _minor(text: str) -> int:
    return int((Decimal(text) * 100).to_integral_value())


class FakeAlipay(FakeGateway):
    name = "alipay"

    def __init__(self) -> None:
        super().__init__()
        self.app_key = rsa_key("alipay-app")  # ours: the fake holds only its public half
        self.platform_key = rsa_key("alipay-platform")
        self.forger_key = rsa_key("alipay-forger")
        self.app_public = load_pem_public_key(public_pem(self.app_key).encode())

    def settings_env(self, timeout: float = 1.0) -> dict[str, str]:
        return {
            "REFUNDFLOW_ALIPAY_APP_ID": APP_ID,
            "REFUNDFLOW_ALIPAY_PRIVATE_KEY": private_pem(self.app_key),
            "REFUNDFLOW_ALIPAY_PUBLIC_KEY": public_pem(self.platform_key),
            "REFUNDFLOW_ALIPAY_BASE_URL": f"{self.url}/gateway.do",
            "REFUNDFLOW_GATEWAY_TIMEOUT_SECONDS": str(timeout),
        }

    # ------------------------------------------------------------------ protocol
    def _answer(self, name: str, content: dict[str, Any], *, forged: bool = False) -> bytes:
        text = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
        key = self.forger_key if forged else self.platform_key
        sign = rsa_sign(key, text)
        return f'{{"{name}":{text},"sign":"{sign}"}}'.encode()

    def handle(
        self, handler: BaseHTTPRequestHandler, method: str, path: str, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        query = urlsplit(path).query or body.decode()
        params = dict(parse_qsl(query, keep_blank_values=True))
        sign = params.pop("sign", "")
        unsigned = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
        headers = {"Content-Type": "application/json;charset=utf-8"}
        api = params.get("method", "")
        name = api.replace(".", "_") + "_response"
        if not rsa_verify(self.app_public, unsigned, sign) or params.get("app_id") != APP_ID:
            self.bad_requests.append(api)
            error = {
                "code": "40002",
                "msg": "Invalid Arguments",
                "sub_code": "isv.invalid-signature",
                "sub_msg": "验签出错",
            }
            return 200, headers, json.dumps({"error_response": error, "sign": ""}).encode()
        biz = json.loads(params.get("biz_content") or "{}")
        op = "refund" if api == "alipay.trade.refund" else "query"
        fault = self.next_fault(op)
        if fault == "5xx":
            return 502, {"Content-Type": "text/html"}, b"<html>502 Bad Gateway</html>"
        if fault == "429":
            return 429, {"Content-Type": "text/plain"}, b"Too Many Requests"
        if fault == "fail":
            content = {
                "code": "40004",
                "msg": "Business Failed",
                "sub_code": "ACQ.SELLER_BALANCE_NOT_ENOUGH",
                "sub_msg": "卖家余额不足",
            }
            return 200, headers, self._answer(name, content)
        if api == "alipay.trade.refund":
            content = self._refund(biz)
        elif api == "alipay.trade.fastpay.refund.query":
            content = self._query(biz)
        else:
            content = {"code": "40004", "msg": "Business Failed", "sub_code": "isv.invalid-method"}
        self.after_processing(fault)
        if fault == "malformed":
            return 200, headers, b'{"alipay_trade_refund_response":{"code":"10000",'
        return 200, headers, self._answer(name, content, forged=fault == "bad_signature")

    def _refund(self, biz: dict[str, Any]) -> dict[str, Any]:
        trade = biz.get("trade_no") or biz.get("out_trade_no") or ""
        key = biz.get("out_request_no") or ""
        amount = _minor(str(biz.get("refund_amount")))
        with self.lock:
            captured = self.trades.get(trade)
            if captured is None:
                self.calls[key] += 1
                return {
                    "code": "40004",
                    "msg": "Business Failed",
                    "sub_code": "ACQ.TRADE_NOT_EXIST",
                    "sub_msg": "交易不存在",
                }
            existing = self.refunds.get(key)
            if existing is None and self.refunded_minor(trade) + amount > captured:
                self.calls[key] += 1
                return {
                    "code": "40004",
                    "msg": "Business Failed",
                    "sub_code": "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL",
                    "sub_msg": "退款金额超限",
                }
            _refund, created = self.process(
                key,
                trade,
                amount,
                lambda: Refund(key, trade, amount, "REFUND_SUCCESS", trade),
            )
        return {
            "code": "10000",
            "msg": "Success",
            "trade_no": trade,
            "out_trade_no": f"OUT-{trade}",
            "buyer_logon_id": "159****5620",
            "fund_change": "Y" if created else "N",
            "refund_fee": _yuan(self.refunded_minor(trade)),
            "gmt_refund_pay": time.strftime("%Y-%m-%d %H:%M:%S"),
        }

    def _query(self, biz: dict[str, Any]) -> dict[str, Any]:
        key = biz.get("out_request_no") or ""
        trade = biz.get("trade_no") or ""
        with self.lock:
            refund = self.refunds.get(key)
        if refund is None or refund.trade != trade:
            return {"code": "10000", "msg": "Success", "trade_no": trade, "out_request_no": key}
        return {
            "code": "10000",
            "msg": "Success",
            "trade_no": trade,
            "out_trade_no": f"OUT-{trade}",
            "out_request_no": key,
            "total_amount": _yuan(self.trades.get(trade, 0)),
            "refund_amount": _yuan(refund.amount_minor),
            "refund_status": "REFUND_SUCCESS",
        }

    # ------------------------------------------------------------------ notifications
    def notification(
        self,
        key: str,
        *,
        forged: bool = False,
        notify_id: str | None = None,
        cumulative: int | None = None,
    ) -> bytes:
        with self.lock:
            refund = self.refunds[key]
            total = self.refunded_minor(refund.trade) if cumulative is None else cumulative
        params = {
            "notify_time": time.strftime("%Y-%m-%d %H:%M:%S"),
            "notify_type": "trade_status_sync",
            "notify_id": notify_id or uuid.uuid4().hex,
            "app_id": APP_ID,
            "charset": "utf-8",
            "version": "1.0",
            "trade_no": refund.trade,
            "out_trade_no": f"OUT-{refund.trade}",
            "out_biz_no": key,
            "trade_status": "TRADE_SUCCESS",
            "refund_fee": _yuan(total),
            "gmt_refund": time.strftime("%Y-%m-%d %H:%M:%S.000"),
        }
        unsigned = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
        params["sign"] = rsa_sign(self.forger_key if forged else self.platform_key, unsigned)
        params["sign_type"] = "RSA2"
        return urlencode(params).encode()

    def notify(self, url: str, key: str, **kwargs: Any) -> httpx.Response:
        return httpx.post(
            url,
            content=self.notification(key, **kwargs),
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            timeout=10,
        )
