"""The staff and customer sentences of a decision, in Chinese (the default) and English."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from refundflow.domain.reasons import ReasonCode
from refundflow.policy.defaults import DEFAULT_POLICY
from refundflow.policy.document import Outcome, PolicyDocument, Rule, parse_document
from refundflow.policy.explain import Labels, english, explain, percent
from refundflow.policy.facts import FACTS
from tests.unit.policy.builders import facts, policy, rule, when

LABELS = Labels()
DEFAULT = parse_document(DEFAULT_POLICY)


def _staff(document: PolicyDocument, chosen: dict[str, object], lang: str = "zh-CN") -> str:
    return explain(document, 0, chosen, lang=lang, labels=LABELS).staff


def _customer(raw_rule: dict[str, Any], lang: str = "zh-CN", **overrides: object) -> str:
    document = policy(raw_rule)
    return explain(document, 0, facts(**overrides), lang=lang, labels=LABELS).customer


def test_staff_text_names_the_rule_and_shows_actual_and_rule_values_in_chinese() -> None:
    chosen = facts(amount=D("59.00"), customer_refund_rate=D("0.02"))
    explanation = explain(DEFAULT, 4, chosen, lang="zh-CN", labels=LABELS)
    assert explanation.staff == "规则 5「小额信任客户」：退款金额 ¥59.00 ≤ ¥100.00，退款率 2% < 10%"
    assert explanation.customer == "小额退款，无需寄回商品，退款已发起，将原路退回。"


def test_staff_text_in_english_on_request() -> None:
    chosen = facts(amount=D("59.00"), customer_refund_rate=D("0.02"))
    explanation = explain(DEFAULT, 4, chosen, lang="en", labels=LABELS)
    assert explanation.staff == (
        "Rule 5 '小额信任客户': refund amount ¥59.00 ≤ ¥100.00, refund rate 2% < 10%"
    )
    assert explanation.customer.startswith("A small refund: no need to send the goods back")


def test_no_matching_rule_sends_the_request_to_review() -> None:
    zh = explain(DEFAULT, None, facts(), lang="zh-CN", labels=LABELS)
    en = explain(DEFAULT, None, facts(), lang="en", labels=LABELS)
    assert zh.staff == "没有规则命中，转人工审核"
    assert zh.customer == "您的申请已提交，客服将尽快审核。"
    assert en.staff == "No rule matched: sent to review"
    assert en.customer == "Your request has been received: customer service will review it shortly."


def test_codes_show_through_their_labels_and_sets_as_the_elements_that_matched() -> None:
    document = policy(
        rule(
            when("reason", "=", "quality_issue"),
            when("category", "in", ["food", "beauty"]),
            when("customer_tier", "in", ["gold", "vip"]),
            when("first_order", "=", False),
        )
    )
    chosen = facts(
        reason="quality_issue",
        category=frozenset({"home", "food"}),
        customer_tier="vip",
        first_order=False,
    )
    assert _staff(document, chosen) == (
        "规则 1「rule 1」：退款原因 质量问题 = 质量问题，商品类目 食品 属于（食品、美妆），"
        "客户等级 VIP 会员 属于（金卡会员、VIP 会员），首单 否 = 否"
    )
    assert _staff(document, chosen, "en") == (
        "Rule 1 'rule 1': reason Quality issue = Quality issue, product category food in "
        "(food, beauty), customer tier VIP in (gold, VIP), first order no = no"
    )


def test_a_set_that_holds_because_no_element_matches_shows_all_its_elements() -> None:
    document = policy(rule(when("category", "not_in", ["food"]), when("sku", "!=", "X")))
    chosen = facts(category=frozenset({"shoes", "apparel"}), sku=frozenset())
    assert _staff(document, chosen) == (
        "规则 1「rule 1」：商品类目 服装、鞋靴 不属于（食品），商品编码 无 ≠ X"
    )
    assert _staff(document, chosen, "en").endswith(
        "product category apparel, shoes not in (food), SKU none ≠ X"
    )


def test_between_booleans_and_unknown_facts_read_as_words() -> None:
    document = policy(
        rule(when("days_since_delivery", "between", [1, 7]), when("complaint_open", "!=", True))
    )
    chosen = facts(days_since_delivery=3, complaint_open=None)
    assert (
        _staff(document, chosen)
        == "规则 1「rule 1」：签收天数 3 在 1 至 7 之间，有未结投诉 未知 ≠ 是"
    )
    assert _staff(document, chosen, "en") == (
        "Rule 1 'rule 1': days since delivery 3 between 1 and 7, open complaint unknown ≠ yes"
    )


@pytest.mark.parametrize(
    ("currency", "amount", "shown"),
    [
        ("CNY", D("1299"), "¥1,299.00 > ¥100.00"),
        ("USD", D("12.5"), "$12.50 ≤ $100.00"),
        ("JPY", D("80"), "JP¥80 ≤ JP¥100.00"),
        ("SGD", D("12.50"), "SGD 12.50 ≤ SGD 100.00"),
        (None, D("12.50"), "12.50 ≤ 100.00"),
    ],
)
def test_money_shows_the_request_currency_symbol_and_its_decimals(
    currency: str | None, amount: D, shown: str
) -> None:
    operator = ">" if amount > 100 else "<="
    document = policy(rule(when("amount", operator, "100.00")))
    chosen = facts(amount=amount, currency=currency)
    assert _staff(document, chosen) == f"规则 1「rule 1」：退款金额 {shown}"


def test_money_never_hides_decimals_the_rule_has() -> None:
    document = policy(rule(when("amount", "<", "0.005")))
    assert _staff(document, facts(amount=D("0.001"))).endswith("¥0.001 < ¥0.005")


def test_a_rule_without_conditions_applies_to_every_request() -> None:
    document = policy(rule(outcome="review"))
    assert _staff(document, facts()) == "规则 1「rule 1」：适用于所有申请"
    assert _staff(document, facts(), "en") == "Rule 1 'rule 1': applies to every request"


@pytest.mark.parametrize(
    ("options", "overrides", "zh", "en"),
    [
        (
            {"requires_return": True},
            {},
            "您的退款申请已通过，请将商品寄回，我们收到后即为您退款。",
            "Your refund request has been approved: please send the goods back; "
            "we will refund you as soon as they arrive.",
        ),
        (
            {"requires_return": False},
            {},
            "您的退款申请已通过，无需寄回商品。",
            "Your refund request has been approved: you do not need to send the goods back.",
        ),
        (
            {"auto_execute": True},
            {"type": "refund_only"},
            "您的退款申请已通过，无需寄回商品，退款已发起，将原路退回。",
            "Your refund request has been approved: you do not need to send the goods back; "
            "the refund has started and goes back to your original payment method.",
        ),
        (
            {},
            {"type": "exchange"},
            "您的换货申请已通过，请将商品寄回，我们收到后为您寄出新商品。",
            "Your exchange request has been approved: please send the goods back; "
            "we will ship the replacement as soon as they arrive.",
        ),
        (
            {"fast_track": True},
            {"type": None},
            "VIP 快速通道：您的退款申请已通过。",
            "VIP fast lane: Your refund request has been approved.",
        ),
    ],
)
def test_an_approval_without_a_reason_tells_the_customer_what_happens_next(
    options: dict[str, Any], overrides: dict[str, object], zh: str, en: str
) -> None:
    raw = rule(when("amount", "<=", "100"), options=options)
    assert _customer(raw, "zh-CN", **overrides) == zh
    assert _customer(raw, "en", **overrides) == en


@pytest.mark.parametrize(
    ("options", "zh", "en"),
    [
        ({}, "您的申请已提交，客服将尽快审核。", "will review it shortly."),
        ({"priority": "high"}, "您的申请已提交，客服将优先审核。", "will review it first."),
        (
            {"fast_track": True},
            "您的申请已进入 VIP 快速通道，客服将优先审核。",
            "Your request is in the VIP fast lane: customer service will review it first.",
        ),
    ],
)
def test_a_review_tells_the_customer_that_customer_service_will_look(
    options: dict[str, Any], zh: str, en: str
) -> None:
    raw = rule(outcome="review", options=options)
    assert _customer(raw) == zh
    assert _customer(raw, "en").endswith(en)


def test_the_rules_own_customer_reason_wins_in_the_language_asked() -> None:
    raw = rule(
        outcome="reject",
        customer_reason={"zh-CN": "定制商品不支持退货。", "en": "Custom items cannot be returned."},
    )
    assert _customer(raw) == "定制商品不支持退货。"
    assert _customer(raw, "en") == "Custom items cannot be returned."
    assert _customer(rule(customer_reason={"en": "Only English."}), "zh-CN") == "Only English."


def test_a_rejection_built_without_a_reason_still_says_sorry() -> None:
    document = PolicyDocument(1, (Rule("no", "no", (), Outcome.REJECT),))
    zh = explain(document, 0, facts(), lang="zh-CN", labels=LABELS).customer
    en = explain(document, 0, facts(), lang="en", labels=LABELS).customer
    assert zh == "很抱歉，您的申请未能通过。如有疑问，请联系客服。"
    assert en.startswith("Sorry, your request could not be approved.")


INTERNAL = ["customer_refund_rate", "customer_refunds_90d", "trust_quota_left"]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("outcome", ["approve", "review"])
def test_customer_text_never_reveals_internal_facts(lang: str, outcome: str) -> None:
    document = policy(
        rule(
            when("customer_refund_rate", "<", "0.10"),
            when("customer_refunds_90d", "<=", 2),
            when("trust_quota_left", ">=", "50"),
            outcome=outcome,
        )
    )
    text = explain(document, 0, facts(), lang=lang, labels=LABELS).customer
    for fact in INTERNAL:
        assert FACTS[fact].label_zh not in text
        assert FACTS[fact].label_en not in text
    assert not any(hint in text for hint in ("%", "10", "50", "200", "quota", "额度"))


def test_labels_fall_back_to_the_code_and_to_the_other_language() -> None:
    labels = Labels.with_reason_codes(
        [ReasonCode("custom_made", "定制商品", "Custom made")],
        categories={"toys": {"en": "toys"}},
    )
    assert labels.text("reason", "custom_made", "en") == "Custom made"
    assert labels.text("reason", "quality_issue", "en") == "quality_issue"
    assert labels.text("category", "toys", "zh-CN") == "toys"
    assert labels.text("customer_tier", "gold", "zh-CN") == "金卡会员"
    assert labels.text("currency", "CNY", "en") == "CNY"


@pytest.mark.parametrize(
    ("lang", "is_english"), [("en", True), ("en-US", True), ("zh-CN", False), ("fr", False)]
)
def test_english_only_for_english_and_chinese_otherwise(lang: str, is_english: bool) -> None:
    assert english(lang) is is_english


@pytest.mark.parametrize(
    ("rate", "shown"), [("0.02", "2%"), ("0.1", "10%"), ("0.125", "12.5%"), ("0", "0%")]
)
def test_rates_read_as_percentages(rate: str, shown: str) -> None:
    assert percent(D(rate)) == shown
