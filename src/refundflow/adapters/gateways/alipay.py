"""Alipay open platform: ``alipay.trade.refund`` with ``out_request_no`` = our key, queried
with ``alipay.trade.fastpay.refund.query``; RSA2 (SHA256withRSA) signatures both ways,
through the maintained ``python-alipay-sdk`` (which signs our requests and verifies the
``sign`` over the raw ``..._response`` object of every answer).

Alipay deduplicates by (trade, ``out_request_no``): the same key sent again answers with the
first refund (``fund_change = N``), never a second one. Business codes: ``10000`` success;
``20000`` / ``ACQ.SYSTEM_ERROR`` mean the outcome is unknown (query, retry with the same
key); other ``40004`` sub-codes are definite refusals.
"""

from __future__ import annotations

import http.client
import urllib.error
from typing import Any
from urllib.parse import parse_qsl

from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError
from alipay.utils import AliPayConfig

from refundflow.adapters.gateways.config import AlipayConfig, pem
from refundflow.domain.money import Money
from refundflow.domain.payouts import PayoutRoute
from refundflow.services.payouts.ports import (
    CallbackEvent,
    ForgedCallbackError,
    GatewayResult,
    Outcome,
    RefundInstruction,
)

UNKNOWN_CODES = {"20000", "ACQ.SYSTEM_ERROR", "aop.ACQ.SYSTEM_ERROR"}


class _AliPayAt(AliPay):  # type: ignore[misc]
    """The SDK's client with a configurable gateway URL (it only knows production and
    sandbox)."""

    def __init__(self, gateway: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._gateway = gateway


class AlipayGateway:
    route = PayoutRoute.ALIPAY

    def __init__(self, config: AlipayConfig) -> None:
        self.config = config
        self.client = _AliPayAt(
            config.base_url,
            appid=config.app_id,
            app_private_key_string=pem(config.private_key),
            alipay_public_key_string=pem(config.alipay_public_key),
            sign_type="RSA2",
            config=AliPayConfig(timeout=config.timeout),
        )

    def _call(self, fn: Any, **kwargs: Any) -> dict[str, Any] | GatewayResult:
        try:
            result = fn(**kwargs)
        except urllib.error.HTTPError as exc:
            if exc.code == 429:
                return GatewayResult(Outcome.TRANSIENT, detail="429 too many requests")
            return GatewayResult(Outcome.UNKNOWN, detail=f"HTTP {exc.code}")
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            return GatewayResult(Outcome.UNKNOWN, detail=f"{type(exc).__name__}: {exc}")
        except AliPayValidationError:
            return GatewayResult(Outcome.UNKNOWN, detail="the answer's signature did not verify")
        except AliPayException as exc:
            return GatewayResult(Outcome.UNKNOWN, detail=f"unsigned error answer: {exc}"[:300])
        except (ValueError, KeyError, AttributeError, TypeError) as exc:
            return GatewayResult(Outcome.UNKNOWN, detail=f"unreadable answer: {exc}"[:300])
        if not isinstance(result, dict):
            return GatewayResult(Outcome.UNKNOWN, detail="unreadable answer")
        return result

    def refund(self, instruction: RefundInstruction) -> GatewayResult:
        answer = self._call(
            self.client.api_alipay_trade_refund,
            refund_amount=instruction.amount.text(),
            trade_no=instruction.payment.reference,
            out_request_no=instruction.key,
            refund_reason=instruction.reason[:100] or "refund",
        )
        if isinstance(answer, GatewayResult):
            return answer
        code, sub_code = str(answer.get("code")), str(answer.get("sub_code", ""))
        if code == "10000":
            if answer.get("fund_change") == "Y":
                return GatewayResult(
                    Outcome.SUCCEEDED,
                    reference=answer.get("trade_no"),
                    detail="fund_change=Y",
                )
            # The key was refunded before (or is not effective yet): ask.
            return self.query(instruction)
        if code in UNKNOWN_CODES or sub_code in UNKNOWN_CODES:
            return GatewayResult(Outcome.UNKNOWN, detail=f"{code} {sub_code}")
        return GatewayResult(
            Outcome.FAILED, detail=f"{code} {sub_code} {answer.get('sub_msg', '')}".strip()
        )

    def query(self, instruction: RefundInstruction) -> GatewayResult:
        answer = self._call(
            self.client.api_alipay_trade_fastpay_refund_query,
            out_request_no=instruction.key,
            trade_no=instruction.payment.reference,
        )
        if isinstance(answer, GatewayResult):
            return answer
        code, sub_code = str(answer.get("code")), str(answer.get("sub_code", ""))
        if code == "10000":
            if answer.get("refund_status") == "REFUND_SUCCESS":
                amount = Money.parse(str(answer.get("refund_amount")), instruction.amount.currency)
                return GatewayResult(
                    Outcome.SUCCEEDED,
                    reference=answer.get("trade_no"),
                    amount=amount,
                    detail="REFUND_SUCCESS",
                )
            # No refund_status: "the refund was not received, or it failed".
            return GatewayResult(Outcome.NOT_FOUND, detail="no refund under this out_request_no")
        return GatewayResult(Outcome.UNKNOWN, detail=f"query {code} {sub_code}")

    def parse_callback(self, headers: dict[str, str], body: bytes) -> CallbackEvent:
        """An asynchronous notification (form-encoded), RSA2-signed over the sorted
        parameters without ``sign`` and ``sign_type``."""
        try:
            data = dict(
                parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
            )
        except (UnicodeDecodeError, ValueError):
            raise ForgedCallbackError("the notification is not a form") from None
        signature = data.pop("sign", "")
        if not signature or not self.client.verify(dict(data), signature):
            raise ForgedCallbackError("the notification's signature does not verify")
        if data.get("app_id") != self.config.app_id:
            raise ForgedCallbackError("the notification is for another app")
        refund_fee = data.get("refund_fee")
        outcome = Outcome.SUCCEEDED if refund_fee and data.get("gmt_refund") else Outcome.PROCESSING
        return CallbackEvent(
            event_id=data.get("notify_id") or "",
            key=data.get("out_biz_no"),
            reference=data.get("trade_no"),
            outcome=outcome,
            amount=Money.parse(refund_fee, "CNY") if refund_fee else None,
            cumulative=True,  # refund_fee is the trade's total refunded so far
        )

    @staticmethod
    def callback_answer(ok: bool) -> tuple[int, str, bytes]:
        return (200, "text/plain", b"success") if ok else (400, "text/plain", b"failure")
