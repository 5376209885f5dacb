"""The reference evaluator: the policy's meaning, written as plainly as it can be.

The first enabled rule whose conditions all hold decides; a rule without conditions always
holds. A condition on an unknown fact (``None``, or absent from the facts) never holds,
whatever its operator. On a set of values (``text_set`` facts such as ``category``),
``=`` means "one of them is", ``!=`` "none of them is", ``in`` "one of them is in the list"
and ``not_in`` "none of them is in the list". ``between`` includes both ends.

``compiler`` turns a document into fast code; tests hold it to this module's answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from refundflow.policy.document import Condition, PolicyDocument
from refundflow.policy.facts import FACTS, FactType, Operator


def first_match(document: PolicyDocument, facts: Mapping[str, object]) -> int | None:
    """The index in ``document.rules`` of the rule that decides, or None when none does."""
    for index, rule in enumerate(document.rules):
        if rule.enabled and all(holds(c, facts.get(c.fact)) for c in rule.conditions):
            return index
    return None


def holds(condition: Condition, value: object) -> bool:
    """Whether ``condition`` holds for the fact's ``value``."""
    if value is None:
        return False
    if FACTS[condition.fact].type is FactType.TEXT_SET:
        assert isinstance(value, frozenset)
        return _holds_for_set(condition, value)
    return _holds_for_one(condition, value)


def _holds_for_set(condition: Condition, values: frozenset[Any]) -> bool:
    target = condition.value
    if condition.operator is Operator.EQ:
        return any(v == target for v in values)
    if condition.operator is Operator.NE:
        return not any(v == target for v in values)
    assert isinstance(target, tuple)
    if condition.operator is Operator.IN:
        return any(v in target for v in values)
    assert condition.operator is Operator.NOT_IN
    return not any(v in target for v in values)


def _holds_for_one(condition: Condition, value: Any) -> bool:
    target: Any = condition.value
    match condition.operator:
        case Operator.EQ:
            return bool(value == target)
        case Operator.NE:
            return bool(value != target)
        case Operator.LT:
            return bool(value < target)
        case Operator.LE:
            return bool(value <= target)
        case Operator.GT:
            return bool(value > target)
        case Operator.GE:
            return bool(value >= target)
        case Operator.IN:
            return value in target
        case Operator.NOT_IN:
            return value not in target
        case _:
            assert condition.operator is Operator.BETWEEN
            low, high = target
            return bool(low <= value <= high)
