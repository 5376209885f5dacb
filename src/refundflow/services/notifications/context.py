"""The data a message template sees: the request as the customer knows it, in their language.

Everything is a ready-to-print string (amounts with their currency sign, times in the shop's
time zone), so templates stay free of formatting logic. ``sms`` holds the flat values that
provider SMS templates take as variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

from refundflow.services.notifications.config import NotificationConfig
from refundflow.services.notifications.wording import (
    ARRIVAL,
    OUTCOME,
    ROUTE,
    SEVERITY,
    STATUS,
    STEP,
    TYPE,
    WHO,
    arrival_kind,
    money_text,
    say,
)


def local_time(value: str | datetime | None, tz: tzinfo) -> str:
    if value is None:
        return ""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def request_context(
    doc: Mapping[str, Any],
    *,
    language: str,
    config: NotificationConfig,
    tz: tzinfo,
    customer_name: str = "",
    payment_methods: list[str] | None = None,
    facts: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The template context for a request document (GET /refund-requests/{id})."""
    facts = facts or {}
    currency = doc.get("currency", "CNY")
    approved = doc.get("amount_approved")
    amount = doc.get("amount_refunded") or approved or doc.get("amount_requested")
    decision = doc.get("decision")
    explanation = ""
    if decision:
        chosen = (decision.get("explanations") or {}).get(language) or {}
        explanation = chosen.get("customer") or decision.get("explanation_customer") or ""
    step = doc.get("next_step")
    route = doc.get("refund_route", "original")
    arrival = arrival_kind(route, payment_methods or [])
    link = f"{config.public_url.rstrip('/')}/r/{doc.get('number', '')}"
    exchange = doc.get("exchange") or {}
    delay_step = facts.get("step")
    context: dict[str, Any] = {
        "language": language,
        "shop": {
            "name": config.shop_name,
            "hotline": config.hotline,
            "chat_url": config.chat_url,
            "return_address": config.return_address
            or ("见申请页面" if language == "zh-CN" else "on the request page"),
            "public_url": config.public_url,
        },
        "customer": {"name": customer_name},
        "request": {
            "id": doc.get("id"),
            "number": doc.get("number", ""),
            "order_no": doc.get("order_no", ""),
            "type": doc.get("type", ""),
            "type_label": say(TYPE, doc.get("type"), language),
            "status": doc.get("status", ""),
            "status_label": say(STATUS, doc.get("status"), language),
            "amount": money_text(amount, currency),
            "amount_requested": money_text(doc.get("amount_requested"), currency),
            "amount_approved": money_text(approved, currency),
            "amount_refunded": money_text(doc.get("amount_refunded"), currency),
            "route": route,
            "route_label": say(ROUTE, route, language),
            "exchange_name": exchange.get("name") or exchange.get("sku") or "",
            "tracking_no": (doc.get("return_shipment") or {}).get("tracking_no") or "",
        },
        "decision": (
            {
                "outcome": decision.get("outcome"),
                "outcome_label": say(OUTCOME, decision.get("outcome"), language),
                "explanation": explanation,
            }
            if decision
            else None
        ),
        "next_step": (
            {
                "step": step.get("step"),
                "step_label": say(STEP, step.get("step"), language),
                "who": say(WHO, step.get("queue"), language),
                "customer_acts": step.get("queue") == "customer",
                "due_at": local_time(step.get("due_at"), tz),
            }
            if step
            else None
        ),
        "link": link,
        "arrival": say(ARRIVAL, arrival, language),
        "reason": facts.get("reason") or "",
        "passed": bool(facts.get("passed", True)),
        "reminder": bool(facts.get("reminder")),
        "delay": {
            "step_label": say(STEP, delay_step, language) if delay_step else "",
            "due_at": local_time(facts.get("due_at"), tz),
            "queue_label": say(WHO, facts.get("queue"), language),
        },
        "complaint": {
            "severity_label": say(SEVERITY, facts.get("severity"), language),
            "source": facts.get("source") or "",
        },
        "survey": {
            "link": facts.get("survey_link", ""),
            "expires_at": facts.get("survey_expires", ""),
        },
        "code": facts.get("code", ""),
        "valid_minutes": facts.get("valid_minutes", ""),
    }
    context["sms"] = {
        "number": context["request"]["number"],
        "status": context["request"]["status_label"],
        "amount": context["request"]["amount"],
        "deadline": context["next_step"]["due_at"] if context["next_step"] else "",
        "link": link,
        "code": str(context["code"]),
        "reason": str(context["reason"])[:20],
        "survey": context["survey"]["link"],
    }
    return context


SAMPLE_REQUEST: dict[str, Any] = {
    "id": 123,
    "number": "RF20261126-000123",
    "order_no": "TM20261126001",
    "type": "return_and_refund",
    "status": "awaiting_return",
    "currency": "CNY",
    "amount_requested": "79.00",
    "amount_approved": "79.00",
    "amount_refunded": "79.00",  # so the `refunded` notice previews with its amount
    "refund_route": "original",
    "decision": {
        "outcome": "approve",
        "explanation_customer": "签收 7 天内的质量问题，已自动同意退货退款。",
        "explanations": {
            "zh-CN": {"customer": "签收 7 天内的质量问题，已自动同意退货退款。"},
            "en": {"customer": "A quality issue within 7 days of delivery: approved at once."},
        },
    },
    "next_step": {"queue": "customer", "step": "ship_back", "due_at": "2026-12-03T10:00:00+00:00"},
    "exchange": None,
    "return_shipment": None,
}

SAMPLE_FACTS: dict[str, Any] = {
    "reason": "商品已使用，影响二次销售",
    "passed": True,
    "step": "review",
    "due_at": "2026-11-26T10:00:00+00:00",
    "queue": "cs",
    "severity": "high",
    "source": "phone",
    "survey_link": "https://shop.example.cn/survey/123.1798761600.sample",
    "survey_expires": "2026-12-26 10:00",
    "code": "482913",
    "valid_minutes": 10,
}
