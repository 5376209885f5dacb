"""The facts a rule may test, their types, and which operators fit each type.

Facts are computed by ``policy.history.facts_for`` from the request, its order, the customer
and the customer's history. At evaluation a fact is a plain value:

| type      | value at evaluation                    | operators                                  |
| --------- | -------------------------------------- | ------------------------------------------ |
| money     | ``Decimal`` (the request's currency)   | = != < <= > >= between in not_in           |
| number    | ``int``                                | = != < <= > >= between in not_in           |
| rate      | ``Decimal`` between 0 and 1            | = != < <= > >= between                     |
| text      | ``str``                                | = != in not_in                             |
| text_set  | ``frozenset[str]`` (e.g. the request's | = (any is) != (none is) in (any in)        |
|           | lines' categories)                     | not_in (none in)                           |
| bool      | ``bool``                               | = !=                                       |

A fact may be unknown (``None``: e.g. ``days_since_delivery`` of an order not yet
delivered); a condition on an unknown fact never matches, whatever its operator.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FactType(StrEnum):
    MONEY = "money"
    NUMBER = "number"
    RATE = "rate"
    TEXT = "text"
    TEXT_SET = "text_set"
    BOOL = "bool"


class Operator(StrEnum):
    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    IN = "in"
    NOT_IN = "not_in"
    BETWEEN = "between"


_ORDERED = frozenset(Operator)
OPERATORS: dict[FactType, frozenset[Operator]] = {
    FactType.MONEY: _ORDERED,
    FactType.NUMBER: _ORDERED,
    FactType.RATE: _ORDERED - {Operator.IN, Operator.NOT_IN},
    FactType.TEXT: frozenset({Operator.EQ, Operator.NE, Operator.IN, Operator.NOT_IN}),
    FactType.TEXT_SET: frozenset({Operator.EQ, Operator.NE, Operator.IN, Operator.NOT_IN}),
    FactType.BOOL: frozenset({Operator.EQ, Operator.NE}),
}


@dataclass(frozen=True, slots=True)
class FactSpec:
    name: str
    type: FactType
    label_zh: str
    label_en: str
    # Known values for text facts (None: open, e.g. channel or reason, checked elsewhere).
    choices: tuple[str, ...] | None = None


_REQUEST_TYPES = ("refund_only", "return_and_refund", "exchange")
_INTAKE = ("portal", "hotline", "chat", "email", "api")
_ORDER_STATUS = ("unshipped", "shipped", "delivered")
_TIERS = ("standard", "silver", "gold", "vip")
_PAYMENT_METHODS = (
    "alipay",
    "wechat_pay",
    "stripe",
    "card",
    "bank_transfer",
    "e_wallet",
    "store_credit",
    "cash_on_delivery",
)

FACTS: dict[str, FactSpec] = {
    spec.name: spec
    for spec in (
        FactSpec("amount", FactType.MONEY, "退款金额", "refund amount"),
        FactSpec("order_total", FactType.MONEY, "订单金额", "order total"),
        FactSpec("currency", FactType.TEXT, "币种", "currency"),
        FactSpec("type", FactType.TEXT, "申请类型", "request type", _REQUEST_TYPES),
        FactSpec("reason", FactType.TEXT, "退款原因", "reason"),
        FactSpec("category", FactType.TEXT_SET, "商品类目", "product category"),
        FactSpec("sku", FactType.TEXT_SET, "商品编码", "SKU"),
        FactSpec("channel", FactType.TEXT, "销售渠道", "sales channel"),
        FactSpec("intake_channel", FactType.TEXT, "申请渠道", "intake channel", _INTAKE),
        FactSpec(
            "payment_method", FactType.TEXT_SET, "支付方式", "payment method", _PAYMENT_METHODS
        ),
        FactSpec("order_status", FactType.TEXT, "订单状态", "order status", _ORDER_STATUS),
        FactSpec("days_since_delivery", FactType.NUMBER, "签收天数", "days since delivery"),
        FactSpec("days_since_payment", FactType.NUMBER, "付款天数", "days since payment"),
        FactSpec("customer_tier", FactType.TEXT, "客户等级", "customer tier", _TIERS),
        FactSpec(
            "customer_refunds_90d", FactType.NUMBER, "近90天退款次数", "refunds in the last 90 days"
        ),
        FactSpec(
            "customer_refund_amount_90d",
            FactType.MONEY,
            "近90天退款金额",
            "refunded in the last 90 days",
        ),
        FactSpec("customer_refund_rate", FactType.RATE, "退款率", "refund rate"),
        FactSpec("customer_orders", FactType.NUMBER, "历史订单数", "orders placed"),
        FactSpec("first_order", FactType.BOOL, "首单", "first order"),
        FactSpec("complaint_open", FactType.BOOL, "有未结投诉", "open complaint"),
        FactSpec("trust_quota_left", FactType.MONEY, "剩余极速退款额度", "trust quota left"),
    )
}

FACT_NAMES: tuple[str, ...] = tuple(FACTS)
