"""WeChat Pay API v3 refunds (``POST /v3/refund/domestic/refunds`` with ``out_refund_no`` =
our key; ``GET /v3/refund/domestic/refunds/{out_refund_no}``) through the maintained
``wechatpayv3`` SDK: it signs each request (``WECHATPAY2-SHA256-RSA2048``), verifies the
``Wechatpay-Signature`` of every 2xx answer with the platform public key, and verifies and
decrypts callbacks (AES-256-GCM with the APIv3 key).

WeChat Pay deduplicates by ``out_refund_no``. A refund is usually ``PROCESSING`` when
accepted and finished by a ``REFUND.SUCCESS`` / ``REFUND.ABNORMAL`` / ``REFUND.CLOSED``
callback (we also poll, in case the callback never comes).
"""

from __future__ import annotations

import json
from typing import Any

import requests
from wechatpayv3 import WeChatPay, WeChatPayType

from refundflow.adapters.gateways.config import WechatPayConfig, pem
from refundflow.domain.money import Money
from refundflow.domain.payouts import PayoutRoute
from refundflow.services.payouts.ports import (
    CallbackEvent,
    ForgedCallbackError,
    GatewayResult,
    Outcome,
    RefundInstruction,
)

POLL_SECONDS = 60.0
FINAL = {"SUCCESS": Outcome.SUCCEEDED, "CLOSED": Outcome.FAILED, "ABNORMAL": Outcome.FAILED}
UNKNOWN_CODES = {"SYSTEM_ERROR"}
TRANSIENT_CODES = {"FREQUENCY_LIMITED"}


def _body(pem_text: str) -> str:
    """The SDK wants the key's base64 body (it adds the PEM armour itself)."""
    lines = [line for line in pem_text.strip().splitlines() if not line.startswith("-----")]
    return "".join(lines)


class WechatPayGateway:
    route = PayoutRoute.WECHAT_PAY

    def __init__(self, config: WechatPayConfig) -> None:
        self.config = config
        self.client = WeChatPay(
            wechatpay_type=WeChatPayType.NATIVE,
            mchid=config.mchid,
            private_key=_body(pem(config.private_key)),
            cert_serial_no=config.cert_serial_no,
            appid=config.appid,
            apiv3_key=config.apiv3_key,
            notify_url=config.notify_url,
            public_key=_body(pem(config.public_key)),
            public_key_id=config.public_key_id,
            timeout=(min(3.0, config.timeout), config.timeout),
        )
        # The SDK has no base-URL parameter; its one gateway attribute is set here.
        self.client._core._gate_way = config.base_url.rstrip("/")

    def _call(self, fn: Any, **kwargs: Any) -> tuple[int, dict[str, Any]] | GatewayResult:
        try:
            status, text = fn(**kwargs)
        except requests.Timeout as exc:
            return GatewayResult(Outcome.UNKNOWN, detail=f"timeout: {exc}"[:300])
        except requests.RequestException as exc:
            return GatewayResult(Outcome.UNKNOWN, detail=f"{type(exc).__name__}: {exc}"[:300])
        except Exception as exc:  # the SDK raises a bare Exception for a bad answer signature
            return GatewayResult(Outcome.UNKNOWN, detail=f"answer refused: {exc}"[:300])
        try:
            data = json.loads(text) if text else {}
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except (ValueError, TypeError) as exc:
            return GatewayResult(Outcome.UNKNOWN, detail=f"HTTP {status}, unreadable: {exc}"[:300])
        return int(status), data

    def _result(
        self, status: int, data: dict[str, Any], instruction: RefundInstruction
    ) -> GatewayResult:
        if 200 <= status < 300:
            state = str(data.get("status", ""))
            amount = data.get("amount", {}).get("refund")
            money = (
                Money.from_minor(int(amount), instruction.amount.currency)
                if isinstance(amount, int)
                else None
            )
            if state in FINAL:
                outcome = FINAL[state]
                return GatewayResult(outcome, data.get("refund_id"), money, f"status {state}")
            return GatewayResult(
                Outcome.PROCESSING,
                data.get("refund_id"),
                money,
                f"status {state}",
                poll_after=POLL_SECONDS,
            )
        code = str(data.get("code", ""))
        if status == 429 or code in TRANSIENT_CODES:
            return GatewayResult(Outcome.TRANSIENT, detail=f"{status} {code}")
        if status >= 500 or code in UNKNOWN_CODES:
            return GatewayResult(Outcome.UNKNOWN, detail=f"{status} {code}")
        if status == 404:
            return GatewayResult(Outcome.NOT_FOUND, detail=f"{status} {code}")
        return GatewayResult(Outcome.FAILED, detail=f"{status} {code} {data.get('message', '')}")

    def refund(self, instruction: RefundInstruction) -> GatewayResult:
        captured = instruction.payment.captured or instruction.amount
        answer = self._call(
            self.client.refund,
            out_refund_no=instruction.key,
            amount={
                "refund": instruction.amount.minor,
                "total": captured.minor,
                "currency": instruction.amount.currency,
            },
            transaction_id=instruction.payment.reference,
            reason=instruction.reason[:80] or None,
        )
        if isinstance(answer, GatewayResult):
            return answer
        return self._result(*answer, instruction)

    def query(self, instruction: RefundInstruction) -> GatewayResult:
        answer = self._call(self.client.query_refund, out_refund_no=instruction.key)
        if isinstance(answer, GatewayResult):
            return answer
        return self._result(*answer, instruction)

    def parse_callback(self, headers: dict[str, str], body: bytes) -> CallbackEvent:
        """Verify the ``Wechatpay-Signature`` over timestamp, nonce and the raw body, then
        decrypt the resource."""
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            data = self.client.callback(lowered, body)
        except Exception as exc:  # unknown algorithm or an unreadable body
            raise ForgedCallbackError(f"the callback cannot be read: {exc}") from None
        if not data or not isinstance(data.get("resource"), dict):
            raise ForgedCallbackError("the callback's signature or encryption does not verify")
        resource = data["resource"]
        state = str(resource.get("refund_status", ""))
        amount = resource.get("amount", {}).get("refund")
        return CallbackEvent(
            event_id=str(data.get("id", "")),
            key=resource.get("out_refund_no"),
            reference=resource.get("refund_id"),
            outcome=FINAL.get(state, Outcome.PROCESSING),
            amount=Money.from_minor(int(amount), "CNY") if isinstance(amount, int) else None,
        )

    @staticmethod
    def callback_answer(ok: bool) -> tuple[int, str, bytes]:
        if ok:
            return 204, "application/json", b""
        return 401, "application/json", b'{"code":"FAIL","message":"signature"}'
