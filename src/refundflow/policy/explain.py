"""Why a decision was taken, in two sentences: one for staff, one for the customer.

The staff sentence names the rule (its 1-based position and its name) and shows each
condition with the request's actual value next to the rule's: rates as percentages, money
with the request currency's symbol, codes through their labels, booleans as yes/no, and for
a set of values (the request's categories) the elements that made the condition hold.

The customer sentence is the rule's own customer reason when it has one, else a sentence
built from the outcome and its options only, so it can never reveal an internal fact such as
the customer's refund rate or trust quota.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from refundflow.domain.decisions import Explanation
from refundflow.domain.money import CURRENCY_EXPONENTS
from refundflow.domain.reasons import ReasonCode
from refundflow.policy.defaults import (
    CATEGORY_LABELS,
    CHANNEL_LABELS,
    CHOICE_LABELS,
    CURRENCY_SYMBOLS,
    REASON_LABELS,
)
from refundflow.policy.document import Condition, Outcome, PolicyDocument, Priority, Rule
from refundflow.policy.facts import FACTS, FactType, Operator

__all__ = ["Explanation", "Labels", "english", "explain", "percent"]

ZH, EN = "zh-CN", "en"
Translations = Mapping[str, Mapping[str, str]]  # code → language → label


def english(lang: str) -> bool:
    """English for ``en`` and its variants; Chinese (the default) for anything else."""
    return lang.lower().startswith("en")


def percent(rate: Decimal) -> str:
    """0.02 → "2%", 0.125 → "12.5%"."""
    return f"{(rate * 100).normalize():f}%"


@dataclass(frozen=True, slots=True)
class Labels:
    """The words for codes: reason codes, categories and sales channels (data the shop
    edits), plus currency symbols and the currency the policy page shows amounts in.
    A code without a label shows as itself."""

    reasons: Translations = field(default_factory=lambda: REASON_LABELS)
    categories: Translations = field(default_factory=lambda: CATEGORY_LABELS)
    channels: Translations = field(default_factory=lambda: CHANNEL_LABELS)
    currency_symbols: Mapping[str, str] = field(default_factory=lambda: CURRENCY_SYMBOLS)
    currency: str = "CNY"

    @classmethod
    def with_reason_codes(cls, codes: Iterable[ReasonCode], **others: Any) -> Labels:
        """Labels whose reasons are the shop's reason codes."""
        reasons = {c.code: {ZH: c.label_zh, EN: c.label_en} for c in codes}
        return cls(reasons=reasons, **others)

    def text(self, fact: str, code: str, lang: str) -> str:
        table = {"reason": self.reasons, "category": self.categories, "channel": self.channels}
        labels = table.get(fact) or CHOICE_LABELS.get(fact, {})
        by_language = labels.get(code)
        if not by_language:
            return code
        return by_language.get(EN if english(lang) else ZH) or next(iter(by_language.values()))

    def money(self, amount: Decimal, currency: str | None) -> str:
        """¥1,299.00 — at least the currency's decimals, never fewer than the amount has."""
        written = len(f"{amount:f}".partition(".")[2])
        places = max(CURRENCY_EXPONENTS.get(currency or "", 2), written)
        symbol = "" if currency is None else self.currency_symbols.get(currency, f"{currency} ")
        return f"{symbol}{amount:,.{places}f}"

    def value(self, fact: str, value: object, lang: str, currency: str | None) -> str:
        """One value of ``fact`` as people read it."""
        kind = FACTS[fact].type
        if value is None:
            return "unknown" if english(lang) else "未知"
        if kind is FactType.MONEY:
            assert isinstance(value, Decimal)
            return self.money(value, currency)
        if kind is FactType.RATE:
            assert isinstance(value, Decimal)
            return percent(value)
        if kind is FactType.BOOL:
            yes, no = ("yes", "no") if english(lang) else ("是", "否")
            return yes if value else no
        if kind in (FactType.TEXT, FactType.TEXT_SET):
            return self.text(fact, str(value), lang)
        return str(value)

    def values(self, fact: str, values: Iterable[object], lang: str, currency: str | None) -> str:
        """Values joined as a list: 食品、美妆 / food, beauty."""
        return (", " if english(lang) else "、").join(
            self.value(fact, v, lang, currency) for v in values
        )


def explain(
    document: PolicyDocument,
    index: int | None,
    facts: Mapping[str, object],
    *,
    lang: str,
    labels: Labels,
) -> Explanation:
    """The staff and customer sentences for the decision of rule ``index`` (None: no rule
    matched, so the request goes to review)."""
    en = english(lang)
    if index is None:
        staff = "No rule matched: sent to review" if en else "没有规则命中，转人工审核"
        return Explanation(staff, _review_sentence(en, fast_track=False, high=False))
    rule = document.rules[index]
    currency = facts.get("currency")
    shown = [
        _shown(c, facts.get(c.fact), en, labels, currency if isinstance(currency, str) else None)
        for c in rule.conditions
    ]
    if en:
        staff = f"Rule {index + 1} '{rule.name}': {', '.join(shown) or 'applies to every request'}"
    else:
        staff = f"规则 {index + 1}「{rule.name}」：{'，'.join(shown) or '适用于所有申请'}"
    return Explanation(staff, rule.reason_for(EN if en else ZH) or _customer(rule, facts, en))


_SYMBOLS = {
    Operator.EQ: "=",
    Operator.NE: "≠",
    Operator.LT: "<",
    Operator.LE: "≤",
    Operator.GT: ">",
    Operator.GE: "≥",
}


def _shown(
    condition: Condition, actual: object, en: bool, labels: Labels, currency: str | None
) -> str:
    """退款金额 ¥59.00 ≤ ¥100.00 / product category food in (food, beauty)."""
    fact, operator, expected = condition.fact, condition.operator, condition.value
    lang = EN if en else ZH
    label = FACTS[fact].label_en if en else FACTS[fact].label_zh
    listed = expected if isinstance(expected, tuple) else (expected,)
    if isinstance(actual, frozenset):
        matching = [v for v in sorted(actual) if v in listed]
        positive = operator in (Operator.EQ, Operator.IN)
        elements = matching if positive and matching else sorted(actual)
        empty = "none" if en else "无"
        actual_text = labels.values(fact, elements, lang, currency) or empty
    else:
        actual_text = labels.value(fact, actual, lang, currency)
    rule_text = labels.values(fact, listed, lang, currency)
    if operator is Operator.BETWEEN:
        low, high = (labels.value(fact, v, lang, currency) for v in listed)
        if en:
            return f"{label} {actual_text} between {low} and {high}"
        return f"{label} {actual_text} 在 {low} 至 {high} 之间"
    if operator in (Operator.IN, Operator.NOT_IN):
        negation = "not " if operator is Operator.NOT_IN else ""
        if en:
            return f"{label} {actual_text} {negation}in ({rule_text})"
        return f"{label} {actual_text} {'不' if negation else ''}属于（{rule_text}）"
    return f"{label} {actual_text} {_SYMBOLS[operator]} {rule_text}"


def _customer(rule: Rule, facts: Mapping[str, object], en: bool) -> str:
    """The customer sentence built from the outcome and its options alone."""
    options = rule.options
    if rule.outcome is Outcome.REVIEW:
        return _review_sentence(en, options.fast_track, options.priority is Priority.HIGH)
    if rule.outcome is Outcome.REJECT:
        if en:
            return (
                "Sorry, your request could not be approved. "
                "Please contact customer service if you have any questions."
            )
        return "很抱歉，您的申请未能通过。如有疑问，请联系客服。"
    kind = facts.get("type")
    requires_return = options.requires_return
    if requires_return is None and kind in ("refund_only", "return_and_refund", "exchange"):
        requires_return = kind != "refund_only"
    exchange = kind == "exchange"
    if en:
        head = f"Your {'exchange' if exchange else 'refund'} request has been approved"
        parts = _approved_en(requires_return, options.auto_execute, exchange)
        lane = "VIP fast lane: " if options.fast_track else ""
        return f"{lane}{head}{': ' if parts else ''}{'; '.join(parts)}."
    head = f"您的{'换货' if exchange else '退款'}申请已通过"
    lane = "VIP 快速通道：" if options.fast_track else ""
    parts = _approved_zh(requires_return, options.auto_execute, exchange)
    return f"{lane}{'，'.join([head, *parts])}。"


def _approved_en(requires_return: bool | None, auto_execute: bool, exchange: bool) -> list[str]:
    if requires_return:
        then = "we will ship the replacement" if exchange else "we will refund you"
        return [f"please send the goods back; {then} as soon as they arrive"]
    parts = ["you do not need to send the goods back"] if requires_return is False else []
    if auto_execute:
        parts.append("the refund has started and goes back to your original payment method")
    return parts


def _approved_zh(requires_return: bool | None, auto_execute: bool, exchange: bool) -> list[str]:
    if requires_return:
        then = "为您寄出新商品" if exchange else "即为您退款"
        return [f"请将商品寄回，我们收到后{then}"]
    parts = ["无需寄回商品"] if requires_return is False else []
    if auto_execute:
        parts.append("退款已发起，将原路退回")
    return parts


def _review_sentence(en: bool, fast_track: bool, high: bool) -> str:
    if en:
        if fast_track:
            return "Your request is in the VIP fast lane: customer service will review it first."
        when = "first" if high else "shortly"
        return f"Your request has been received: customer service will review it {when}."
    if fast_track:
        return "您的申请已进入 VIP 快速通道，客服将优先审核。"
    return f"您的申请已提交，客服将{'优先' if high else '尽快'}审核。"
