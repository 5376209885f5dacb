"""The policy page: sentences generated from the rules, so a changed rule changes the page."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from refundflow.policy.defaults import DEFAULT_POLICY
from refundflow.policy.document import Outcome, PolicyDocument, Rule, parse_document
from refundflow.policy.explain import Labels
from refundflow.policy.facts import FACTS, OPERATORS, FactType, Operator
from refundflow.policy.page import Clause, describe, render_text
from tests.unit.policy.builders import policy, rule, when

LABELS = Labels()


def _page(document: PolicyDocument, lang: str = "zh-CN") -> str:
    return render_text(describe(document, lang=lang, labels=LABELS))


def _first(raw_rule: dict[str, Any], lang: str) -> str:
    return describe(policy(raw_rule), lang=lang, labels=LABELS)[0].text


def test_the_default_policy_reads_as_plain_chinese() -> None:
    assert _page(parse_document(DEFAULT_POLICY)) == (
        "1. 近期退款较频繁的客户，由客服人工审核。\n"
        "2. 未发货的订单、申请仅退款，立即退款，无需寄回商品。\n"
        "3. 签收后 7 天内、以「七天无理由退货」为由、申请退货退款，商品寄回后即可退款"
        "（不适用于以下类目：食品、美妆）。\n"
        "4. 签收后 15 天内、以「质量问题」为由、申请退货退款或换货，商品寄回后即可退款。\n"
        "5. 退款金额不超过 ¥100.00、信用良好的客户，立即退款，无需寄回商品。\n"
        "6. VIP 会员，进入 VIP 快速通道，由客服优先审核。\n"
        "7. 其他申请，由客服人工审核。\n"
    )


def test_the_default_policy_reads_as_plain_english_on_request() -> None:
    assert _page(parse_document(DEFAULT_POLICY), "en") == (
        "1. Requests from customers who have refunded often recently: reviewed by customer "
        "service.\n"
        "2. Requests on orders not yet shipped, asking for a refund only: refunded at once "
        "without sending the goods back.\n"
        '3. Requests within 7 days of delivery, for "7-day no-reason return", asking for a '
        "return: refunded once the goods are back (not for these categories: food, beauty).\n"
        '4. Requests within 15 days of delivery, for "Quality issue", asking for a return or '
        "an exchange: refunded once the goods are back.\n"
        "5. Requests for refunds of up to ¥100.00, from customers in good standing: refunded "
        "at once without sending the goods back.\n"
        "6. Requests from VIP customers: fast-tracked to customer service.\n"
        "7. All other requests: reviewed by customer service.\n"
    )


def _changed(rule_id: str, fact: str, value: Any) -> PolicyDocument:
    raw = copy.deepcopy(DEFAULT_POLICY)
    chosen = next(r for r in raw["rules"] if r["id"] == rule_id)
    next(c for c in chosen["conditions"] if c["fact"] == fact)["value"] = value
    return parse_document(raw)


@pytest.mark.parametrize(
    ("rule_id", "fact", "value", "before", "after"),
    [
        ("no_reason_7d", "days_since_delivery", 10, "签收后 7 天内", "签收后 10 天内"),
        ("small_trusted", "amount", "200", "不超过 ¥100.00", "不超过 ¥200.00"),
        ("no_reason_7d", "category", ["food"], "食品、美妆", "以下类目：食品）"),
    ],
)
def test_changing_a_rule_changes_the_page(
    rule_id: str, fact: str, value: Any, before: str, after: str
) -> None:
    original = _page(parse_document(DEFAULT_POLICY))
    changed = _page(_changed(rule_id, fact, value))
    assert before in original and after not in original
    assert after in changed and before not in changed


def test_disabled_rules_and_rules_that_can_never_decide_are_left_out() -> None:
    document = policy(
        rule(when("amount", "<=", "10"), requires_return=None, enabled=False),
        rule(when("first_order", "=", True), outcome="review"),
        rule(outcome="review"),
        rule(when("amount", "<=", "10")),
    )
    clauses = describe(document, lang="zh-CN", labels=LABELS)
    assert clauses == [
        Clause("r2", "新客户首单，由客服人工审核。"),
        Clause("r3", "其他申请，由客服人工审核。"),
    ]


def test_without_a_catch_all_rule_a_closing_sentence_covers_the_rest() -> None:
    document = policy(rule(when("amount", "<=", "10")))
    assert describe(document, lang="en", labels=LABELS) == [
        Clause("r1", "Requests for refunds of up to ¥10.00: approved."),
        Clause(None, "Other requests are reviewed by customer service."),
    ]
    assert describe(policy(), lang="zh-CN", labels=LABELS) == [
        Clause(None, "其他申请由客服人工审核。")
    ]


def test_a_first_rule_without_conditions_covers_all_requests() -> None:
    document = policy(rule(outcome="review", options={"priority": "high"}))
    assert _page(document) == "1. 所有申请，由客服优先审核。\n"
    assert _page(document, "en") == "1. All requests: reviewed first by customer service.\n"


CONDITIONS: list[tuple[dict[str, Any], str, str]] = [
    (when("amount", "<", "50"), "退款金额低于 ¥50.00", "for refunds of less than ¥50.00"),
    (when("amount", ">", "500"), "退款金额超过 ¥500.00", "for refunds of more than ¥500.00"),
    (when("order_total", ">=", "1000"), "订单金额不低于 ¥1,000.00", "on orders of at least"),
    (when("amount", "between", ["10", "20"]), "退款金额在 ¥10.00 至 ¥20.00 之间", "of ¥10.00 to"),
    (when("amount", "=", "9.9"), "退款金额为 ¥9.90", "for refunds of ¥9.90"),
    (when("amount", "!=", "9.9"), "退款金额不为 ¥9.90", "of other than ¥9.90"),
    (when("amount", "in", ["1", "2", "3"]), "为 ¥1.00 或 ¥2.00 或 ¥3.00", "¥1.00, ¥2.00 or ¥3.00"),
    (when("order_total", "not_in", ["1"]), "订单金额不为 ¥1.00", "on orders of other than"),
    (when("days_since_delivery", "<", 3), "签收后不满 3 天", "less than 3 days after delivery"),
    (when("days_since_delivery", ">", 30), "签收超过 30 天", "more than 30 days after delivery"),
    (when("days_since_payment", ">=", 2), "付款满 2 天", "2 or more days after payment"),
    (when("days_since_payment", "=", 1), "付款后第 1 天", "on day 1 after payment"),
    (when("days_since_delivery", "between", [3, 5]), "签收后第 3 至 5 天", "3 to 5 days after"),
    (when("days_since_delivery", "!=", 3), "签收天数不为 3", "where the days since delivery"),
    (when("days_since_delivery", "in", [1, 2]), "签收天数为 1 或 2", "is 1 or 2"),
    (when("reason", "in", ["wrong_item", "other"]), "以「发错货」或「其他」为由", 'for "Wrong'),
    (when("reason", "!=", "other"), "以「其他」以外的原因", 'for reasons other than "Other"'),
    (when("type", "=", "exchange"), "申请换货", "asking for an exchange"),
    (when("type", "not_in", ["exchange"]), "申请仅退款或退货退款", "a refund only or a return"),
    (when("order_status", "!=", "delivered"), "未发货或已发货的订单", "not yet shipped or in"),
    (when("order_status", "in", ["delivered"]), "已签收的订单", "on orders delivered"),
    (when("customer_tier", "in", ["gold", "vip"]), "金卡会员或 VIP 会员", "from gold or VIP"),
    (when("category", "=", "food"), "含食品类商品", "including food items"),
    (when("category", "in", ["food", "home"]), "含食品或家居类商品", "including food or home"),
    (when("channel", "=", "jd"), "在京东下单", "on orders from JD.com"),
    (when("payment_method", "in", ["alipay"]), "使用支付宝支付", "paid with Alipay"),
    (when("sku", "in", ["A-1"]), "指定商品", "for selected products"),
    (when("intake_channel", "=", "api"), "通过指定渠道提交", "through selected channels"),
    (when("first_order", "!=", True), "老客户", "from returning customers"),
    (when("complaint_open", "=", True), "需进一步核实的申请", "that need a closer look"),
    (when("complaint_open", "=", False), "信用良好的客户", "from customers in good standing"),
    (when("customer_refunds_90d", ">", 5), "近期退款较频繁的客户", "have refunded often"),
    (when("customer_refund_amount_90d", "<=", "500"), "信用良好的客户", "in good standing"),
    (when("customer_refund_rate", "between", ["0", "0.2"]), "符合账户条件的客户", "criteria"),
    (when("customer_orders", ">=", 3), "老客户", "from returning customers"),
    (when("customer_orders", "<", 2), "新客户", "from new customers"),
    (when("trust_quota_left", "<", "10"), "需进一步核实的申请", "that need a closer look"),
    (when("trust_quota_left", ">", "10"), "信用良好的客户", "in good standing"),
    (when("currency", "=", "USD"), "币种为「USD」", 'where the currency is "USD"'),
    (when("channel", "in", ["jd", "tmall"]), "在京东或天猫下单", "from JD.com or Tmall"),
    (
        when("customer_tier", "not_in", list(FACTS["customer_tier"].choices or ())),
        "客户等级不为",
        "",
    ),
]


@pytest.mark.parametrize(("condition", "zh", "en"), CONDITIONS)
def test_each_condition_reads_as_a_phrase(condition: dict[str, Any], zh: str, en: str) -> None:
    raw = rule(condition, outcome="review")
    assert zh in _first(raw, "zh-CN")
    assert en in _first(raw, "en")


EXCEPTIONS: list[tuple[dict[str, Any], str, str]] = [
    (when("category", "!=", "food"), "不适用于以下类目：食品", "not for these categories: food"),
    (
        when("channel", "not_in", ["jd", "douyin"]),
        "不适用于以下渠道的订单：京东、抖音",
        "not for orders from: JD.com, Douyin",
    ),
    (
        when("payment_method", "not_in", ["card"]),
        "不适用于以下支付方式：银行卡",
        "not for orders paid with: card",
    ),
    (when("sku", "not_in", ["A-1"]), "部分商品除外", "some products excluded"),
    (when("intake_channel", "!=", "api"), "部分申请渠道除外", "some submission channels excluded"),
]


@pytest.mark.parametrize(("condition", "zh", "en"), EXCEPTIONS)
def test_exclusions_follow_the_outcome(condition: dict[str, Any], zh: str, en: str) -> None:
    raw = rule(condition, outcome="review")
    assert _first(raw, "zh-CN") == f"所有申请，由客服人工审核（{zh}）。"
    assert _first(raw, "en") == f"All requests: reviewed by customer service ({en})."


INTERNAL = [
    "customer_refund_rate",
    "customer_refunds_90d",
    "customer_refund_amount_90d",
    "trust_quota_left",
    "customer_orders",
]


def _sample(fact: str, operator: Operator) -> Any:
    spec = FACTS[fact]
    one: Any = {FactType.MONEY: "987.65", FactType.NUMBER: 17, FactType.RATE: "0.37"}.get(
        spec.type, spec.choices[0] if spec.choices else "zz"
    )
    if spec.type is FactType.BOOL:
        one = True
    if operator is Operator.BETWEEN:
        return [one, one]
    return [one] if operator in (Operator.IN, Operator.NOT_IN) else one


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize(
    ("fact", "operator"),
    [(f, op) for f in INTERNAL for op in sorted(OPERATORS[FACTS[f].type])],
)
def test_internal_facts_are_worded_without_their_thresholds(
    fact: str, operator: Operator, lang: str
) -> None:
    text = _first(rule(when(fact, operator.value, _sample(fact, operator))), lang)
    for hint in ("987", "17", "37", FACTS[fact].label_zh, FACTS[fact].label_en):
        assert hint not in text


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize(
    ("fact", "operator"),
    [(f, op) for f, spec in FACTS.items() for op in sorted(OPERATORS[spec.type])],
)
def test_every_fact_and_operator_gives_a_sentence(fact: str, operator: Operator, lang: str) -> None:
    text = _first(rule(when(fact, operator.value, _sample(fact, operator))), lang)
    assert text.endswith("。" if lang == "zh-CN" else ".")
    assert "{" not in text and "None" not in text


def test_the_same_phrase_is_said_once() -> None:
    raw = rule(when("customer_refund_rate", "<", "0.1"), when("customer_refunds_90d", "<", 3))
    assert _first(raw, "zh-CN") == "信用良好的客户，自动通过。"


@pytest.mark.parametrize(
    ("options", "zh", "en"),
    [
        ({"requires_return": True, "auto_execute": True}, "商品寄回后立即退款", "as soon as"),
        ({"requires_return": False}, "无需寄回商品即可退款", "refunded without sending"),
        ({"auto_execute": True}, "自动通过，立即退款", "approved and refunded at once"),
        ({"fast_track": True}, "自动通过，享受 VIP 快速通道", "approved, in the VIP fast lane"),
        (
            {"offer": {"exchange": True, "store_credit_bonus_pct": "5.0"}},
            "也可选择换货，或选择店铺余额并额外获得 5%",
            "an exchange is also possible, or store credit with 5% extra",
        ),
        (
            {"offer": {"keep_item_refund_pct": "30"}},
            "或保留商品并获得 30% 退款",
            "or keep the item for a 30% refund",
        ),
    ],
)
def test_an_approval_says_what_happens_to_the_goods_and_the_money(
    options: dict[str, Any], zh: str, en: str
) -> None:
    raw = rule(when("amount", "<=", "100"), options=options)
    assert zh in _first(raw, "zh-CN")
    assert en in _first(raw, "en")


def test_a_rejection_gives_its_reason() -> None:
    raw = rule(
        when("days_since_delivery", ">", 30),
        outcome="reject",
        customer_reason={"zh-CN": "已超过售后期限。", "en": "The after-sales period is over."},
    )
    assert _first(raw, "zh-CN") == "签收超过 30 天，不予受理：已超过售后期限。"
    assert _first(raw, "en") == (
        "Requests more than 30 days after delivery: declined: The after-sales period is over."
    )
    bare = PolicyDocument(1, (Rule("no", "no", (), Outcome.REJECT),))
    assert describe(bare, lang="en", labels=LABELS) == [Clause("no", "All requests: declined.")]


def test_render_text_numbers_one_sentence_a_line() -> None:
    clauses = [Clause("a", "第一句。"), Clause(None, "第二句。")]
    assert render_text(clauses) == "1. 第一句。\n2. 第二句。\n"
    assert render_text([]) == ""
