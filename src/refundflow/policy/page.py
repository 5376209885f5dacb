"""The refund policy page: the published rules as sentences a customer understands.

Every sentence is generated from a rule (its conditions, outcome and options) and the words
for codes, never written by hand, so the page says what the rules decide: change a rule and
the page changes with it. One sentence per rule that can decide, in rule order: disabled
rules and rules after a rule without conditions (which can never decide) are left out, and
when no rule catches everything a closing sentence says that the rest goes to review.

Conditions on the customer's history or on internal data (refund rate, refunds in 90 days,
trust quota, open complaints, SKUs, intake channel, …) are worded without their thresholds
("customers in good standing"): the page tells customers what to expect, not how to game it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from refundflow.policy.document import Condition, Outcome, PolicyDocument, Priority, Rule
from refundflow.policy.explain import Labels, english
from refundflow.policy.facts import FACTS, FactType, Operator


@dataclass(frozen=True, slots=True)
class Clause:
    """One sentence of the page; ``rule_id`` is None for the closing sentence."""

    rule_id: str | None
    text: str


@dataclass(frozen=True, slots=True)
class _Phrase:
    text: str
    exception: bool = False  # shown after the outcome: (not for these categories: …)


def describe(document: PolicyDocument, *, lang: str, labels: Labels) -> list[Clause]:
    """The page's sentences, in rule order, in ``lang`` (zh-CN unless English)."""
    words = _Words(english(lang), labels)
    clauses: list[Clause] = []
    for rule in document.rules:
        if rule.enabled:
            clauses.append(Clause(rule.id, _sentence(rule, words, first=not clauses)))
            if not rule.conditions:
                return clauses
    closing = (
        "Other requests are reviewed by customer service."
        if words.en
        else "其他申请由客服人工审核。"
    )
    return [*clauses, Clause(None, closing)]


def render_text(clauses: Sequence[Clause]) -> str:
    """The page as plain text: one numbered sentence a line."""
    return "".join(f"{number}. {clause.text}\n" for number, clause in enumerate(clauses, 1))


class _Words:
    """Values and lists as the page shows them, in one language."""

    def __init__(self, en: bool, labels: Labels) -> None:
        self.en = en
        self.labels = labels
        self.lang = "en" if en else "zh-CN"

    def pick(self, zh: str, en: str) -> str:
        return en if self.en else zh

    def value(self, fact: str, value: object) -> str:
        return self.labels.value(fact, value, self.lang, self.labels.currency)

    def alternatives(self, fact: str, values: Iterable[object], quote: str = "") -> str:
        """A list of alternatives: 「A」或「B」 / "A", "B" or "C" (``quote`` around each)."""
        close = {"「": "」"}.get(quote, quote)
        shown = [f"{quote}{self.value(fact, v)}{close}" for v in values]
        if not self.en:
            return _zh_or(shown)
        return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"

    def listing(self, fact: str, values: Iterable[object]) -> str:
        return self.labels.values(fact, values, self.lang, self.labels.currency)

    def comparison(self, fact: str, operator: Operator, value: Any) -> str:
        """不超过 ¥100.00 / up to ¥100.00."""
        if operator is Operator.BETWEEN:
            low, high = (self.value(fact, v) for v in value)
            return self.pick(f"在 {low} 至 {high} 之间", f"{low} to {high}")
        if operator in (Operator.IN, Operator.NOT_IN):
            shown = self.alternatives(fact, value, self.pick("「", '"') if _textual(fact) else "")
            negative = operator is Operator.NOT_IN
        else:
            shown = self.value(fact, value)
            if _textual(fact):
                shown = self.pick(f"「{shown}」", f'"{shown}"')
            negative = operator is Operator.NE
        zh, en = _COMPARISONS.get(operator, ("不为", "other than") if negative else ("为", ""))
        if not self.en:
            return f"{zh}{shown}" if shown.startswith("「") else f"{zh} {shown}"
        return f"{en} {shown}".strip()


def _zh_or(items: list[str]) -> str:
    """「A」或「B」, 京东或天猫, ¥1.00 或 ¥2.00: spaces only beside Latin letters and digits."""
    text = items[0]
    for item in items[1:]:
        left = "" if _cjk(text[-1]) else " "
        right = "" if _cjk(item[0]) else " "
        text += f"{left}或{right}{item}"
    return text


def _cjk(character: str) -> bool:
    return character >= "\u2e80"


_COMPARISONS = {
    Operator.LT: ("低于", "less than"),
    Operator.LE: ("不超过", "up to"),
    Operator.GT: ("超过", "more than"),
    Operator.GE: ("不低于", "at least"),
}


def _textual(fact: str) -> bool:
    return FACTS[fact].type in (FactType.TEXT, FactType.TEXT_SET)


def _sentence(rule: Rule, words: _Words, *, first: bool) -> str:
    phrases: list[_Phrase] = []
    for condition in rule.conditions:
        phrase = _phrase(condition, words)
        if phrase not in phrases:
            phrases.append(phrase)
    when = [p.text for p in phrases if not p.exception]
    unless = [p.text for p in phrases if p.exception]
    outcome = _outcome(rule, words)
    if words.en:
        subject = f"Requests {', '.join(when)}" if when else ("All" if first else "All other")
        subject += "" if when else " requests"
        return f"{subject}: {outcome}" + (f" ({'; '.join(unless)})" if unless else "") + "."
    subject = "、".join(when) if when else ("所有申请" if first else "其他申请")
    return f"{subject}，{outcome}" + (f"（{'；'.join(unless)}）" if unless else "") + "。"


def _outcome(rule: Rule, words: _Words) -> str:
    options = rule.options
    if rule.outcome is Outcome.REJECT:
        reason = (rule.reason_for(words.lang) or "").rstrip("。.！!")
        declined = words.pick("不予受理", "declined")
        return f"{declined}{words.pick('：', ': ')}{reason}" if reason else declined
    if rule.outcome is Outcome.REVIEW:
        if options.fast_track:
            return words.pick(
                "进入 VIP 快速通道，由客服优先审核", "fast-tracked to customer service"
            )
        if options.priority is Priority.HIGH:
            return words.pick("由客服优先审核", "reviewed first by customer service")
        return words.pick("由客服人工审核", "reviewed by customer service")
    zh, en = _APPROVALS[(options.requires_return, options.auto_execute)]
    parts = [words.pick(zh, en)]
    if options.fast_track:
        parts.append(words.pick("享受 VIP 快速通道", "in the VIP fast lane"))
    offer = options.offer
    if offer is not None:
        if offer.exchange:
            parts.append(words.pick("也可选择换货", "an exchange is also possible"))
        if offer.store_credit_bonus_pct is not None:
            bonus = _pct(offer.store_credit_bonus_pct)
            parts.append(
                words.pick(
                    f"或选择店铺余额并额外获得 {bonus}", f"or store credit with {bonus} extra"
                )
            )
        if offer.keep_item_refund_pct is not None:
            kept = _pct(offer.keep_item_refund_pct)
            parts.append(
                words.pick(f"或保留商品并获得 {kept} 退款", f"or keep the item for a {kept} refund")
            )
    return words.pick("，", ", ").join(parts)


def _pct(number: Decimal) -> str:
    return f"{number.normalize():f}%"


_APPROVALS = {
    (True, True): ("商品寄回后立即退款", "refunded as soon as the goods are back"),
    (True, False): ("商品寄回后即可退款", "refunded once the goods are back"),
    (False, True): ("立即退款，无需寄回商品", "refunded at once without sending the goods back"),
    (False, False): ("无需寄回商品即可退款", "refunded without sending the goods back"),
    (None, True): ("自动通过，立即退款", "approved and refunded at once"),
    (None, False): ("自动通过", "approved"),
}


# ---------------------------------------------------------------------------- conditions
Phraser = Callable[[Condition, _Words], _Phrase | None]


def _phrase(condition: Condition, words: _Words) -> _Phrase:
    """The condition in words: a fact-specific phrase where there is one, else the generic
    "<fact> <comparison> <value>"."""
    special = _PHRASERS.get(condition.fact)
    phrase = special(condition, words) if special else None
    if phrase is not None:
        return phrase
    spec = FACTS[condition.fact]
    shown = words.comparison(condition.fact, condition.operator, condition.value)
    return _Phrase(words.pick(f"{spec.label_zh}{shown}", f"where the {spec.label_en} is {shown}"))


def _positive(condition: Condition) -> bool:
    return condition.operator in (Operator.EQ, Operator.IN)


def _listed(condition: Condition) -> tuple[Any, ...]:
    value = condition.value
    return value if isinstance(value, tuple) else (value,)


def _money(zh: str, en: str) -> Phraser:
    def phrase(condition: Condition, words: _Words) -> _Phrase:
        shown = words.comparison(condition.fact, condition.operator, condition.value)
        return _Phrase(words.pick(f"{zh}{shown}", f"{en} of {shown}"))

    return phrase


def _days(zh: str, en: str) -> Phraser:
    def phrase(condition: Condition, words: _Words) -> _Phrase | None:
        value = condition.value
        templates = {
            Operator.LE: (f"{zh}后 {value} 天内", f"within {value} days of {en}"),
            Operator.LT: (f"{zh}后不满 {value} 天", f"less than {value} days after {en}"),
            Operator.GT: (f"{zh}超过 {value} 天", f"more than {value} days after {en}"),
            Operator.GE: (f"{zh}满 {value} 天", f"{value} or more days after {en}"),
            Operator.EQ: (f"{zh}后第 {value} 天", f"on day {value} after {en}"),
        }
        if condition.operator is Operator.BETWEEN:
            low, high = _listed(condition)
            return _Phrase(
                words.pick(f"{zh}后第 {low} 至 {high} 天", f"{low} to {high} days after {en}")
            )
        found = templates.get(condition.operator)
        return _Phrase(words.pick(*found)) if found else None

    return phrase


def _reason(condition: Condition, words: _Words) -> _Phrase:
    said = words.alternatives("reason", _listed(condition), words.pick("「", '"'))
    if _positive(condition):
        return _Phrase(words.pick(f"以{said}为由", f"for {said}"))
    return _Phrase(words.pick(f"以{said}以外的原因", f"for reasons other than {said}"))


def _choice(zh: str, en: str, en_words: dict[str, str] | None = None) -> Phraser:
    """A fact with fixed choices: a negative condition is worded as the choices it leaves."""

    def phrase(condition: Condition, words: _Words) -> _Phrase | None:
        choices = FACTS[condition.fact].choices or ()
        listed = _listed(condition)
        kept = [c for c in choices if (c in listed) == _positive(condition)]
        if not kept:
            return None  # a condition no request meets: the generic words say so
        if en_words is not None and words.en:
            said = " or ".join(en_words[c] for c in kept)
        else:
            said = words.alternatives(condition.fact, kept)
        return _Phrase(words.pick(zh.format(said), en.format(said)))

    return phrase


def _kinds(zh: str, en: str, zh_except: str, en_except: str) -> Phraser:
    """Open codes (categories, channels, payment methods): what is included, or the
    exceptions, listed after the outcome."""

    def phrase(condition: Condition, words: _Words) -> _Phrase:
        if _positive(condition):
            said = words.alternatives(condition.fact, _listed(condition))
            return _Phrase(words.pick(zh.format(said), en.format(said)))
        said = words.listing(condition.fact, _listed(condition))
        return _Phrase(words.pick(f"{zh_except}：{said}", f"{en_except}: {said}"), exception=True)

    return phrase


def _discreet(zh: str, en: str, zh_except: str, en_except: str) -> Phraser:
    def phrase(condition: Condition, words: _Words) -> _Phrase:
        if _positive(condition):
            return _Phrase(words.pick(zh, en))
        return _Phrase(words.pick(zh_except, en_except), exception=True)

    return phrase


_GOOD = ("信用良好的客户", "from customers in good standing")
_FREQUENT = ("近期退款较频繁的客户", "from customers who have refunded often recently")
_CRITERIA = ("符合账户条件的客户", "from customers who meet our account criteria")
_CLOSER_LOOK = ("需进一步核实的申请", "that need a closer look")
_NEW = ("新客户", "from new customers")
_RETURNING = ("老客户", "from returning customers")
_LOW = (Operator.LT, Operator.LE)
_HIGH = (Operator.GT, Operator.GE)


def _history(low: tuple[str, str], high: tuple[str, str]) -> Phraser:
    """A fact about the customer's record, worded by its direction, never its threshold."""

    def phrase(condition: Condition, words: _Words) -> _Phrase:
        if condition.operator in _LOW:
            return _Phrase(words.pick(*low))
        if condition.operator in _HIGH:
            return _Phrase(words.pick(*high))
        return _Phrase(words.pick(*_CRITERIA))

    return phrase


def _flag(true: tuple[str, str], false: tuple[str, str]) -> Phraser:
    def phrase(condition: Condition, words: _Words) -> _Phrase:
        holds_when_true = (condition.operator is Operator.EQ) == condition.value
        return _Phrase(words.pick(*(true if holds_when_true else false)))

    return phrase


_PHRASERS: dict[str, Phraser] = {
    "amount": _money("退款金额", "for refunds"),
    "order_total": _money("订单金额", "on orders"),
    "days_since_delivery": _days("签收", "delivery"),
    "days_since_payment": _days("付款", "payment"),
    "reason": _reason,
    "type": _choice(
        "申请{}",
        "asking for {}",
        {
            "refund_only": "a refund only",
            "return_and_refund": "a return",
            "exchange": "an exchange",
        },
    ),
    "order_status": _choice("{}的订单", "on orders {}"),
    "customer_tier": _choice("{}", "from {} customers"),
    "category": _kinds(
        "含{}类商品", "including {} items", "不适用于以下类目", "not for these categories"
    ),
    "channel": _kinds(
        "在{}下单", "on orders from {}", "不适用于以下渠道的订单", "not for orders from"
    ),
    "payment_method": _kinds(
        "使用{}支付", "paid with {}", "不适用于以下支付方式", "not for orders paid with"
    ),
    "sku": _discreet("指定商品", "for selected products", "部分商品除外", "some products excluded"),
    "intake_channel": _discreet(
        "通过指定渠道提交",
        "submitted through selected channels",
        "部分申请渠道除外",
        "some submission channels excluded",
    ),
    "first_order": _flag(("新客户首单", "on a customer's first order"), _RETURNING),
    "complaint_open": _flag(_CLOSER_LOOK, _GOOD),
    "customer_refund_rate": _history(_GOOD, _FREQUENT),
    "customer_refunds_90d": _history(_GOOD, _FREQUENT),
    "customer_refund_amount_90d": _history(_GOOD, _FREQUENT),
    "customer_orders": _history(_NEW, _RETURNING),
    "trust_quota_left": _history(_CLOSER_LOOK, _GOOD),
}
