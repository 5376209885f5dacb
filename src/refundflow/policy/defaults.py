"""What ships: the default policy (loaded by ``migrate``) and the default words for codes.

The default policy follows the norms of Chinese marketplaces, first match deciding:

1. customers with 3 or more requests in the last 90 days go to review, before any rule
   that approves, so no automatic approval reaches a frequent refunder;
2. an order not yet shipped gets its refund-only request approved and paid at once;
3. 7-day no-reason returns (七天无理由退货): within 7 days of delivery, goods sent back,
   except food and beauty products, which cannot be resold once opened;
4. quality issues within 15 days of delivery: approved, goods sent back (return or exchange);
5. small amounts (≤ ¥100) for customers with a refund rate under 10%: refunded at once
   without sending the goods back (the "极速退款" of the platforms);
6. VIP customers whose request no rule above approves go to review at high priority in the
   fast lane, rather than being approved blindly: staff look first, and nothing a VIP
   could have been given automatically waits for them;
7. everything else goes to review.

Trust quotas (the money a tier may have approved by the policy over 30 days) grow with the
tier. The label tables give codes their words in both languages; a shop's own reason codes
and categories replace them (``explain.Labels``).
"""

from __future__ import annotations

from typing import Any

DEFAULT_POLICY: dict[str, Any] = {
    "version": 1,
    "rules": [
        {
            "id": "frequent_refunders",
            "name": "近期频繁退款转人工审核",
            "conditions": [{"fact": "customer_refunds_90d", "operator": ">=", "value": 3}],
            "outcome": "review",
        },
        {
            "id": "unshipped_refund_only",
            "name": "未发货仅退款",
            "conditions": [
                {"fact": "order_status", "operator": "=", "value": "unshipped"},
                {"fact": "type", "operator": "=", "value": "refund_only"},
            ],
            "outcome": "approve",
            "customer_reason": {
                "zh-CN": "订单尚未发货，退款已发起，将原路退回。",
                "en": "Your order has not shipped yet: the refund has started and goes back "
                "to your original payment method.",
            },
            "options": {"requires_return": False, "auto_execute": True},
        },
        {
            "id": "no_reason_7d",
            "name": "七天无理由退货",
            "conditions": [
                {"fact": "days_since_delivery", "operator": "<=", "value": 7},
                {"fact": "reason", "operator": "=", "value": "no_reason_7d"},
                {"fact": "type", "operator": "=", "value": "return_and_refund"},
                {"fact": "category", "operator": "not_in", "value": ["food", "beauty"]},
            ],
            "outcome": "approve",
            "customer_reason": {
                "zh-CN": "符合七天无理由退货规定，请将商品寄回，我们收到后即为您退款。",
                "en": "Eligible for a 7-day no-reason return: please send the goods back; "
                "we will refund you as soon as they arrive.",
            },
            "options": {"requires_return": True},
        },
        {
            "id": "quality_issue_15d",
            "name": "十五天质量问题退换",
            "conditions": [
                {"fact": "days_since_delivery", "operator": "<=", "value": 15},
                {"fact": "reason", "operator": "=", "value": "quality_issue"},
                {"fact": "type", "operator": "in", "value": ["return_and_refund", "exchange"]},
            ],
            "outcome": "approve",
            "customer_reason": {
                "zh-CN": "质量问题退换：请将商品寄回，我们收到后即为您办理。",
                "en": "Quality issue: please send the goods back; we will refund or replace "
                "them as soon as they arrive.",
            },
            "options": {"requires_return": True},
        },
        {
            "id": "small_trusted",
            "name": "小额信任客户",
            "conditions": [
                {"fact": "amount", "operator": "<=", "value": "100.00"},
                {"fact": "customer_refund_rate", "operator": "<", "value": "0.10"},
            ],
            "outcome": "approve",
            "customer_reason": {
                "zh-CN": "小额退款，无需寄回商品，退款已发起，将原路退回。",
                "en": "A small refund: no need to send the goods back; the refund has started "
                "and goes back to your original payment method.",
            },
            "options": {"requires_return": False, "auto_execute": True},
        },
        {
            "id": "vip_fast_track",
            "name": "VIP 快速通道",
            "conditions": [{"fact": "customer_tier", "operator": "=", "value": "vip"}],
            "outcome": "review",
            "options": {"priority": "high", "fast_track": True},
        },
        {
            "id": "everything_else",
            "name": "其他申请人工审核",
            "conditions": [],
            "outcome": "review",
        },
    ],
    "trust_quota": {
        "standard": "200.00",
        "silver": "500.00",
        "gold": "1000.00",
        "vip": "3000.00",
    },
}


def _both(**codes: tuple[str, str]) -> dict[str, dict[str, str]]:
    return {code: {"zh-CN": zh, "en": en} for code, (zh, en) in codes.items()}


# The reason codes the first migration seeds (the shop edits them: GET /api/v1/reason-codes).
REASON_LABELS = _both(
    no_reason_7d=("七天无理由退货", "7-day no-reason return"),
    quality_issue=("质量问题", "Quality issue"),
    wrong_item=("发错货", "Wrong item sent"),
    damaged_in_transit=("运输途中损坏", "Damaged in transit"),
    not_as_described=("与描述不符", "Not as described"),
    missing_parts=("少件/漏发", "Missing parts"),
    late_delivery=("未按约定时间发货", "Late delivery"),
    other=("其他", "Other"),
)

# The categories of the demo catalogue, and ``general``, the default of an order line.
CATEGORY_LABELS = _both(
    apparel=("服装", "apparel"),
    shoes=("鞋靴", "shoes"),
    electronics=("数码电子", "electronics"),
    home=("家居", "home goods"),
    beauty=("美妆", "beauty"),
    food=("食品", "food"),
    general=("其他", "general"),
)

CHANNEL_LABELS = _both(
    tmall=("天猫", "Tmall"),
    jd=("京东", "JD.com"),
    douyin=("抖音", "Douyin"),
    own_site=("官网", "our website"),
    wechat_store=("微信小店", "WeChat store"),
)

# The words for the values of the facts with fixed choices (``FactSpec.choices``).
CHOICE_LABELS = {
    "type": _both(
        refund_only=("仅退款", "refund only"),
        return_and_refund=("退货退款", "return and refund"),
        exchange=("换货", "exchange"),
    ),
    "order_status": _both(
        unshipped=("未发货", "not yet shipped"),
        shipped=("已发货", "in transit"),
        delivered=("已签收", "delivered"),
    ),
    "customer_tier": _both(
        standard=("普通会员", "standard"),
        silver=("银卡会员", "silver"),
        gold=("金卡会员", "gold"),
        vip=("VIP 会员", "VIP"),
    ),
    "intake_channel": _both(
        portal=("自助页面", "self-service page"),
        hotline=("客服热线", "hotline"),
        chat=("在线客服", "chat"),
        email=("邮件", "email"),
        api=("接口", "API"),
    ),
    "payment_method": _both(
        alipay=("支付宝", "Alipay"),
        wechat_pay=("微信支付", "WeChat Pay"),
        stripe=("Stripe", "Stripe"),
        card=("银行卡", "card"),
        bank_transfer=("银行转账", "bank transfer"),
        e_wallet=("电子钱包", "e-wallet"),
        store_credit=("店铺余额", "store credit"),
        cash_on_delivery=("货到付款", "cash on delivery"),
    ),
}

CURRENCY_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$", "JPY": "JP¥"}
