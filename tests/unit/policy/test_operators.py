"""Every operator on every type of fact, the same table for the reference interpreter and
for both entry points of the compiled evaluator."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal as D
from typing import Any

import pytest

from refundflow.policy.compiler import compile_policy
from refundflow.policy.document import PolicyDocument
from refundflow.policy.facts import FACTS, OPERATORS, FactType, Operator
from refundflow.policy.interpreter import first_match
from tests.unit.policy.builders import policy, rule, when

Evaluator = Callable[[PolicyDocument, Mapping[str, object]], int | None]


def _interpreted(document: PolicyDocument, facts: Mapping[str, object]) -> int | None:
    return first_match(document, facts)


def _compiled(document: PolicyDocument, facts: Mapping[str, object]) -> int | None:
    return compile_policy(document).match(facts)


def _positional(document: PolicyDocument, facts: Mapping[str, object]) -> int | None:
    compiled = compile_policy(document)
    index = compiled.match_positional(*(facts.get(name) for name in compiled.facts_used))
    return None if index == -1 else index


EVALUATORS = [
    pytest.param(_interpreted, id="interpreter"),
    pytest.param(_compiled, id="compiled"),
    pytest.param(_positional, id="positional"),
]

SET = frozenset
CASES: list[tuple[str, str, Any, object, bool]] = [
    # money: Decimal comparisons, whatever the number of decimals written
    ("amount", "=", "100.00", D("100"), True),
    ("amount", "=", "100.00", D("100.01"), False),
    ("amount", "!=", "100", D("100.00"), False),
    ("amount", "!=", "100", D("99.99"), True),
    ("amount", "<", "100", D("99.99"), True),
    ("amount", "<", "100", D("100.00"), False),
    ("amount", "<=", "100.00", D("100"), True),
    ("amount", "<=", "100.00", D("100.001"), False),
    ("amount", ">", "0", D("0.00"), False),
    ("amount", ">", "0", D("0.01"), True),
    ("amount", ">=", "50", D("50.0"), True),
    ("amount", ">=", "50", D("49.999"), False),
    ("amount", "between", ["10", "20"], D("10.00"), True),
    ("amount", "between", ["10", "20"], D("20"), True),
    ("amount", "between", ["10", "20"], D("20.01"), False),
    ("amount", "between", ["10", "20"], D("9.99"), False),
    ("amount", "between", ["10", "10"], D("10.0"), True),
    ("amount", "in", ["9.90", "19.90"], D("19.9"), True),
    ("amount", "in", ["9.90", "19.90"], D("19.91"), False),
    ("amount", "not_in", ["9.90"], D("9.9"), False),
    ("amount", "not_in", ["9.90"], D("10"), True),
    ("trust_quota_left", ">=", "0", D("0"), True),
    # number
    ("days_since_delivery", "=", 7, 7, True),
    ("days_since_delivery", "=", 7, 8, False),
    ("days_since_delivery", "!=", 7, 8, True),
    ("days_since_delivery", "!=", 7, 7, False),
    ("days_since_delivery", "<", 7, 6, True),
    ("days_since_delivery", "<", 7, 7, False),
    ("days_since_delivery", "<=", 7, 7, True),
    ("days_since_delivery", "<=", 7, 8, False),
    ("days_since_delivery", ">", 0, 0, False),
    ("days_since_delivery", ">", 0, 1, True),
    ("days_since_delivery", ">=", 3, 3, True),
    ("days_since_delivery", ">=", 3, 2, False),
    ("days_since_delivery", "between", [0, 7], 0, True),
    ("days_since_delivery", "between", [0, 7], 7, True),
    ("days_since_delivery", "between", [0, 7], 8, False),
    ("days_since_delivery", "between", [0, 7], -1, False),
    ("customer_refunds_90d", "in", [1, 3], 3, True),
    ("customer_refunds_90d", "in", [1, 3], 2, False),
    ("customer_refunds_90d", "not_in", [1, 3], 2, True),
    ("customer_refunds_90d", "not_in", [1, 3], 1, False),
    # rate: fractions, compared exactly
    ("customer_refund_rate", "<", "0.10", D("0.1"), False),
    ("customer_refund_rate", "<", "0.10", D("0.0999"), True),
    ("customer_refund_rate", "=", "0.1", D("0.1000"), True),
    ("customer_refund_rate", "!=", "0.1", D("0.1000"), False),
    ("customer_refund_rate", "<=", "0", D("0.0000"), True),
    ("customer_refund_rate", ">", "0.5", D("0.5001"), True),
    ("customer_refund_rate", ">=", "0.5", D("0.4999"), False),
    ("customer_refund_rate", "between", ["0", "1"], D("1"), True),
    ("customer_refund_rate", "between", ["0.2", "0.3"], D("0.19"), False),
    # text: exact, case-sensitive
    ("reason", "=", "quality_issue", "quality_issue", True),
    ("reason", "=", "quality_issue", "Quality_issue", False),
    ("reason", "!=", "quality_issue", "other", True),
    ("reason", "!=", "quality_issue", "quality_issue", False),
    ("reason", "in", ["quality_issue", "wrong_item"], "wrong_item", True),
    ("reason", "in", ["quality_issue", "wrong_item"], "other", False),
    ("reason", "not_in", ["quality_issue"], "other", True),
    ("reason", "not_in", ["quality_issue"], "quality_issue", False),
    ("order_status", "=", "unshipped", "unshipped", True),
    ("customer_tier", "in", ["gold", "vip"], "silver", False),
    # text_set: = any is, != none is, in any in, not_in none in
    ("category", "=", "food", SET({"food", "home"}), True),
    ("category", "=", "food", SET({"home"}), False),
    ("category", "=", "food", SET(), False),
    ("category", "!=", "food", SET({"home"}), True),
    ("category", "!=", "food", SET({"food", "home"}), False),
    ("category", "!=", "food", SET(), True),
    ("category", "in", ["food", "beauty"], SET({"beauty", "home"}), True),
    ("category", "in", ["food", "beauty"], SET({"home"}), False),
    ("category", "in", ["food", "beauty"], SET(), False),
    ("category", "not_in", ["food", "beauty"], SET({"home", "shoes"}), True),
    ("category", "not_in", ["food", "beauty"], SET({"home", "food"}), False),
    ("category", "not_in", ["food", "beauty"], SET(), True),
    ("payment_method", "=", "alipay", SET({"alipay", "card"}), True),
    ("sku", "not_in", ["AP-TS-001"], SET({"AP-TS-001"}), False),
    # bool
    ("first_order", "=", True, True, True),
    ("first_order", "=", True, False, False),
    ("first_order", "=", False, False, True),
    ("first_order", "!=", True, False, True),
    ("complaint_open", "!=", False, False, False),
]


@pytest.mark.parametrize("evaluate", EVALUATORS)
@pytest.mark.parametrize(("fact", "operator", "value", "actual", "expected"), CASES)
def test_a_condition_holds_exactly_when_its_operator_says(
    evaluate: Evaluator, fact: str, operator: str, value: Any, actual: object, expected: bool
) -> None:
    document = policy(rule(when(fact, operator, value)))
    assert evaluate(document, {fact: actual}) == (0 if expected else None)


def _sample(fact: str, operator: Operator) -> Any:
    spec = FACTS[fact]
    one = (
        spec.choices[0]
        if spec.choices
        else {
            FactType.MONEY: "10.00",
            FactType.NUMBER: 1,
            FactType.RATE: "0.5",
            FactType.TEXT: "x",
            FactType.TEXT_SET: "x",
            FactType.BOOL: False,
        }[spec.type]
    )
    if operator is Operator.BETWEEN:
        return [one, one]
    return [one] if operator in (Operator.IN, Operator.NOT_IN) else one


UNKNOWN_CASES = [
    pytest.param(name, operator, id=f"{name} {operator.value}")
    for name, spec in FACTS.items()
    for operator in sorted(OPERATORS[spec.type])
]


@pytest.mark.parametrize("evaluate", EVALUATORS)
@pytest.mark.parametrize(("fact", "operator"), UNKNOWN_CASES)
def test_a_condition_on_an_unknown_fact_never_holds_whatever_its_operator(
    evaluate: Evaluator, fact: str, operator: Operator
) -> None:
    document = policy(rule(when(fact, operator.value, _sample(fact, operator))))
    assert evaluate(document, {fact: None}) is None
    assert evaluate(document, {}) is None


@pytest.mark.parametrize("evaluate", EVALUATORS)
def test_the_first_enabled_rule_whose_conditions_all_hold_decides(evaluate: Evaluator) -> None:
    document = policy(
        rule(when("amount", "<=", "100")),
        rule(when("reason", "=", "other"), enabled=False),
        rule(when("reason", "=", "other"), when("amount", "<=", "10")),
        rule(when("reason", "=", "other"), when("type", "=", "refund_only")),
        rule(),
    )
    base = {"reason": "other", "type": "refund_only"}
    assert evaluate(document, {**base, "amount": D("50")}) == 0
    assert evaluate(document, {**base, "amount": D("500")}) == 3
    assert evaluate(document, {"reason": "other", "amount": D("500")}) == 4


@pytest.mark.parametrize("evaluate", EVALUATORS)
def test_a_rule_without_conditions_always_matches_and_later_rules_never_decide(
    evaluate: Evaluator,
) -> None:
    document = policy(rule(when("amount", "<", "1")), rule(), rule(when("amount", ">", "0")))
    assert evaluate(document, {"amount": D("5")}) == 1
    assert evaluate(document, {}) == 1


@pytest.mark.parametrize("evaluate", EVALUATORS)
def test_no_rule_or_only_disabled_rules_decide_nothing(evaluate: Evaluator) -> None:
    assert evaluate(policy(), {"amount": D("1")}) is None
    assert evaluate(policy(rule(enabled=False)), {"amount": D("1")}) is None
