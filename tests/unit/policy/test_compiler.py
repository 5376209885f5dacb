"""The compiled evaluator: same answers as the interpreter on random policies and facts,
no document text in the generated source, and only the facts it uses read."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from random import Random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refundflow.policy.compiler import compile_policy
from refundflow.policy.document import PolicyDocument, parse_document
from refundflow.policy.facts import FACT_NAMES, FACTS, OPERATORS, FactType, Operator
from refundflow.policy.interpreter import first_match
from tests.unit.policy.builders import facts, policy, rule, when

# Small pools, so that random conditions and random facts often meet on the boundaries.
MONEY = ["0", "0.01", "9.99", "10", "10.00", "50", "99.99", "100", "100.00", "100.01", "1000"]
RATES = ["0", "0.05", "0.1", "0.10", "0.5", "1"]
TEXT = ["a", "b", "c"]
TEXTS: dict[str, list[str]] = {
    "reason": ["no_reason_7d", "quality_issue", "other"],
    "category": ["food", "home", "beauty"],
    "sku": ["A-1", "B-2", "C-3"],
}


def _texts(fact: str) -> list[str]:
    return list(FACTS[fact].choices or TEXTS.get(fact, TEXT))


def _wire_scalar(fact: str) -> st.SearchStrategy[Any]:
    kind = FACTS[fact].type
    if kind is FactType.MONEY:
        return st.sampled_from(MONEY)
    if kind is FactType.RATE:
        return st.sampled_from(RATES)
    if kind is FactType.NUMBER:
        return st.integers(-1, 20)
    if kind is FactType.BOOL:
        return st.booleans()
    return st.sampled_from(_texts(fact))


@st.composite
def conditions(draw: st.DrawFn) -> dict[str, Any]:
    fact = draw(st.sampled_from(FACT_NAMES))
    operator = draw(st.sampled_from(sorted(OPERATORS[FACTS[fact].type])))
    scalar = _wire_scalar(fact)
    if operator is Operator.BETWEEN:
        pair = [draw(scalar), draw(scalar)]
        value: Any = sorted(pair, key=Decimal) if isinstance(pair[0], str) else sorted(pair)
    elif operator in (Operator.IN, Operator.NOT_IN):
        value = draw(st.lists(scalar, min_size=1, max_size=3))
    else:
        value = draw(scalar)
    return when(fact, operator.value, value)


@st.composite
def documents(draw: st.DrawFn) -> PolicyDocument:
    rules = []
    for i in range(draw(st.integers(0, 6))):
        outcome = draw(st.sampled_from(["approve", "reject", "review"]))
        rules.append(
            {
                "id": f"r{i}",
                "name": f"rule {i}",
                "enabled": draw(st.sampled_from([True, True, True, False])),
                "conditions": draw(st.lists(conditions(), max_size=3)),
                "outcome": outcome,
                "customer_reason": "because" if outcome == "reject" else None,
            }
        )
    return parse_document({"version": draw(st.integers(0, 99)), "rules": rules})


def _fact_value(fact: str, rng: Random) -> object:
    kind = FACTS[fact].type
    if kind is FactType.MONEY:
        return Decimal(rng.choice([*MONEY, "0.005", "99.995"]))
    if kind is FactType.RATE:
        return Decimal(rng.choice([*RATES, "0.0999", "0.1001"]))
    if kind is FactType.NUMBER:
        return rng.randint(-1, 20)
    if kind is FactType.BOOL:
        return rng.random() < 0.5
    if kind is FactType.TEXT_SET:
        return frozenset(rng.sample(_texts(fact), rng.randint(0, 3)))
    return rng.choice(_texts(fact))


@st.composite
def fact_maps(draw: st.DrawFn) -> list[dict[str, object]]:
    """A few requests' facts, each fact known, unknown (None) or missing. Made by a random
    generator from one drawn seed: a hypothesis draw per value would make the test slow."""
    rng = Random(draw(st.integers(0, 2**32)))
    maps = []
    for _ in range(rng.randint(1, 8)):
        chosen: dict[str, object] = {}
        for fact in FACT_NAMES:
            presence = rng.random()
            if presence < 0.7:
                chosen[fact] = _fact_value(fact, rng)
            elif presence < 0.85:
                chosen[fact] = None
        maps.append(chosen)
    return maps


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=documents(), facts_list=fact_maps())
def test_the_compiled_evaluator_agrees_with_the_interpreter(
    document: PolicyDocument, facts_list: list[dict[str, object]]
) -> None:
    compiled = compile_policy(document)
    for chosen in facts_list:
        expected = first_match(document, chosen)
        assert compiled.match(chosen) == expected, compiled.source
        positional = compiled.match_positional(*(chosen.get(n) for n in compiled.facts_used))
        assert positional == (-1 if expected is None else expected), compiled.source


HOSTILE = "x') or __import__('os').system('echo pwned') or ('"


def test_document_text_never_enters_the_generated_source() -> None:
    document = policy(
        rule(when("reason", "=", HOSTILE), id="evil_id", name="'; import os; '"),
        rule(when("channel", "in", [HOSTILE, '"""']), when("amount", "<=", "12.34")),
        rule(when("category", "not_in", ["\\n return 0 #"])),
    )
    compiled = compile_policy(document)
    for text in (HOSTILE, "evil_id", "import os", '"""', "12.34", "return 0 #"):
        assert text not in compiled.source
    assert compiled.match({"reason": HOSTILE}) == 0
    assert compiled.match({"channel": '"""', "amount": Decimal("12.34")}) == 1
    assert compiled.match({"category": frozenset({"home"})}) == 2


def test_the_generated_code_sees_no_builtins_but_key_error() -> None:
    compiled = compile_policy(policy(rule(when("amount", "<=", "1"))))
    assert compiled.match_positional.__globals__["__builtins__"] == {"KeyError": KeyError}


def test_facts_used_are_the_enabled_rules_facts_in_the_order_of_the_fact_list() -> None:
    document = policy(
        rule(when("customer_tier", "=", "vip"), when("amount", "<=", "100")),
        rule(when("complaint_open", "=", True), enabled=False),
        rule(when("category", "=", "food"), when("amount", ">", "5")),
        rule(),
        rule(when("reason", "=", "other")),
    )
    compiled = compile_policy(document)
    assert compiled.facts_used == ("amount", "reason", "category", "customer_tier")
    assert compiled.version == 1
    assert compiled.document is document


class _Recording(Mapping[str, object]):
    def __init__(self, data: dict[str, object]) -> None:
        self.data = data
        self.read: list[str] = []

    def __getitem__(self, key: str) -> object:
        self.read.append(key)
        return self.data[key]

    def get(self, key: str, default: object = None) -> object:
        self.read.append(key)
        return self.data.get(key, default)

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("the evaluator must not walk every fact")

    def __len__(self) -> int:
        raise AssertionError("the evaluator must not count the facts")


def test_match_reads_only_the_facts_it_uses() -> None:
    compiled = compile_policy(policy(rule(when("amount", "<=", "100"), when("reason", "!=", "x"))))
    recording = _Recording(facts())
    assert compiled.match(recording) == 0
    assert sorted(set(recording.read)) == ["amount", "reason"]


def test_a_fact_missing_from_the_mapping_is_unknown() -> None:
    compiled = compile_policy(policy(rule(when("amount", "!=", "100")), rule()))
    assert compiled.match({}) == 1
    assert compiled.match_positional(None) == 1
    two = compile_policy(policy(rule(when("amount", "!=", "1"), when("reason", "!=", "x"))))
    assert two.match({"amount": Decimal("2"), "reason": "y"}) == 0
    assert two.match({"amount": Decimal("2")}) is None


def test_without_a_matching_rule_match_gives_none_and_match_positional_minus_one() -> None:
    compiled = compile_policy(policy(rule(when("amount", "<=", "100"))))
    assert compiled.match({"amount": Decimal("101")}) is None
    assert compiled.match_positional(Decimal("101")) == -1
    empty = compile_policy(policy())
    assert empty.facts_used == ()
    assert empty.match({}) is None
    assert empty.match_positional() == -1


def test_each_fact_is_checked_for_unknown_once_per_rule_and_only_where_needed() -> None:
    compiled = compile_policy(
        policy(
            rule(
                when("amount", ">=", "10"),
                when("amount", "<=", "100"),
                when("reason", "=", "other"),
                when("channel", "in", ["jd"]),
            )
        )
    )
    assert compiled.source.count("amount is not None") == 2  # once in each of the functions
    assert "reason is not None" not in compiled.source
    assert "channel is not None" not in compiled.source
