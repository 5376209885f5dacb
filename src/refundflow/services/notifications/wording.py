"""The words messages put around the request's data, in zh-CN (default) and en."""

from __future__ import annotations

LANGUAGES = ("zh-CN", "en")

STATUS = {
    "pending_review": ("审核中", "under review"),
    "awaiting_return": ("待寄回商品", "waiting for the goods"),
    "received": ("已收到退货", "goods received"),
    "refund_pending": ("待退款", "refund pending"),
    "refunding": ("退款中", "refunding"),
    "refund_failed": ("退款失败", "refund failed"),
    "exchange_pending": ("待发出换货", "replacement pending"),
    "refunded": ("已退款", "refunded"),
    "exchanged": ("已换货", "exchanged"),
    "rejected": ("未通过", "rejected"),
    "cancelled": ("已取消", "cancelled"),
}

TYPE = {
    "refund_only": ("仅退款", "refund only"),
    "return_and_refund": ("退货退款", "return and refund"),
    "exchange": ("换货", "exchange"),
}

OUTCOME = {
    "approve": ("已同意", "approved"),
    "reject": ("未通过", "not approved"),
    "review": ("转人工审核", "passed to a person for review"),
}

STEP = {
    "review": ("客服审核", "review by customer service"),
    "appeal_review": ("申诉复核", "review of your appeal"),
    "complaint": ("投诉处理", "handling your complaint"),
    "ship_back": ("寄回商品", "sending the goods back"),
    "receive": ("仓库签收", "the warehouse receiving your parcel"),
    "inspect": ("商品质检", "inspection of the goods"),
    "finance_approval": ("财务复核", "finance approval"),
    "execute": ("退款打款", "paying the refund"),
    "refund_failed": ("退款重试", "retrying the refund"),
    "ship_replacement": ("发出换货", "shipping the replacement"),
    "follow_up": ("客服回访", "a follow-up call"),
}

WHO = {
    "cs": ("客服", "customer service"),
    "cs_senior": ("资深客服", "senior customer service"),
    "warehouse": ("仓库", "the warehouse"),
    "finance": ("财务", "finance"),
    "manager": ("主管", "a manager"),
    "customer": ("您", "you"),
    "system": ("系统", "the system"),
}

ROUTE = {
    "original": ("原路退回", "back to the original payment"),
    "bank_transfer": ("银行转账", "bank transfer"),
    "e_wallet": ("电子钱包", "e-wallet"),
    "store_credit": ("店铺余额", "store credit"),
}

# How soon money arrives, by where it goes (DESIGN.md: Alipay/WeChat minutes, cards 1–3
# business days).
ARRIVAL = {
    "minutes": ("预计几分钟内到账", "usually arrives within minutes"),
    "business_days": ("预计 1–3 个工作日到账", "usually arrives in 1–3 business days"),
    "instant": ("即时到账", "available at once"),
}
_MINUTES_METHODS = {"alipay", "wechat_pay", "e_wallet"}
_INSTANT_METHODS = {"store_credit"}

SEVERITY = {"low": ("低", "low"), "medium": ("中", "medium"), "high": ("高", "high")}

CURRENCY_SIGNS = {"CNY": "¥", "USD": "US$", "HKD": "HK$", "EUR": "€", "JPY": "JP¥"}


def say(table: dict[str, tuple[str, str]], key: str | None, language: str) -> str:
    """The label of ``key`` in ``language``; the key itself when the table lacks it."""
    if key is None:
        return ""
    pair = table.get(key)
    if pair is None:
        return key
    return pair[1] if language == "en" else pair[0]


def money_text(amount: str | None, currency: str) -> str:
    if amount is None:
        return ""
    sign = CURRENCY_SIGNS.get(currency)
    return f"{sign}{amount}" if sign else f"{amount} {currency}"


def arrival_kind(route: str, payment_methods: list[str]) -> str:
    """Where the money goes decides how soon it arrives: back to Alipay/WeChat Pay in
    minutes, to a bank card or by transfer in 1–3 business days, to store credit at once."""
    if route == "store_credit":
        return "instant"
    if route == "e_wallet":
        return "minutes"
    if route == "bank_transfer":
        return "business_days"
    methods = set(payment_methods)
    if methods and methods <= _INSTANT_METHODS:
        return "instant"
    if methods and methods <= _MINUTES_METHODS | _INSTANT_METHODS:
        return "minutes"
    return "business_days"
