"""A published policy compiled once into plain Python: one generated ``if`` chain.

The enabled rules become an ``if`` chain in rule order that returns the index of the first
rule whose conditions all hold, as ``interpreter.first_match`` defines it; the tests hold the
two to the same answers on random policies and facts.

What keeps the generated code safe and fast:

- no text from the document ever enters the source: every condition value is bound as a
  constant (``_c0``, ``_c1``, …) in the function's globals, and the only names written into
  the source are fact names from the ``FACTS`` whitelist; the code sees no builtins but
  ``KeyError``;
- ``in`` / ``not_in`` lists become frozensets once, so a test is one hash lookup, and a
  condition on a set of values (``category``) is ``isdisjoint`` or a membership test;
- an unknown fact (``None``) fails every condition: the code tests ``is not None`` once per
  fact and rule, except where the comparison itself already fails on ``None``
  (``==`` and ``in`` against known values);
- the function takes the facts it uses as positional arguments, so a simulation over
  millions of stored requests pays for a call and the comparisons, nothing more; ``match``
  on a mapping is the same chain after one subscript per fact (a mapping that lacks one
  falls back to reading each fact with ``get``).
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Mapping
from typing import Any

from refundflow.policy.document import Condition, PolicyDocument, Rule
from refundflow.policy.facts import FACT_NAMES, FACTS, FactType, Operator

NO_MATCH = -1

# Operators whose Python form is already False when the fact is None.
_NONE_SAFE = frozenset({Operator.EQ, Operator.IN})


class CompiledPolicy:
    """One policy version, ready to decide.

    ``match(facts)`` reads only ``facts_used`` from the mapping and returns the deciding
    rule's index or None; ``match_positional(*values)`` takes those facts' values in
    ``facts_used`` order and returns the index or -1. Both are generated functions, so
    calling them costs no extra Python frame.
    """

    __slots__ = ("document", "facts_used", "match", "match_positional", "source", "version")

    def __init__(
        self,
        document: PolicyDocument,
        facts_used: tuple[str, ...],
        source: str,
        match: Callable[[Mapping[str, object]], int | None],
        match_positional: Callable[..., int],
    ) -> None:
        self.document = document
        self.version = document.version
        self.facts_used = facts_used
        self.source = source
        self.match = match
        self.match_positional = match_positional


def compile_policy(document: PolicyDocument) -> CompiledPolicy:
    """Generate, compile and load the evaluator of ``document`` (once per version)."""
    enabled = [(i, rule) for i, rule in enumerate(document.rules) if rule.enabled]
    used = {c.fact for _, rule in enabled for c in rule.conditions}
    facts_used = tuple(name for name in FACT_NAMES if name in used)
    for name in facts_used:  # whitelisted names that cannot clash with the code's own
        assert name.isidentifier() and not keyword.iskeyword(name)
        assert not name.startswith("_") and name not in ("facts", "KeyError")
    constants: dict[str, Any] = {}
    chain, covers_all = _chain(enabled, constants)
    source = _source(facts_used, chain, covers_all)
    namespace: dict[str, Any] = {"__builtins__": {"KeyError": KeyError}, **constants}
    exec(compile(source, f"<policy version {document.version}>", "exec"), namespace)  # noqa: S102
    positional = namespace["match_positional"]
    namespace["_read_each"] = _read_each(positional, facts_used)
    return CompiledPolicy(document, facts_used, source, namespace["match"], positional)


def _read_each(
    positional: Callable[..., int], names: tuple[str, ...]
) -> Callable[[Mapping[str, object]], int | None]:
    """``match`` for a mapping that lacks some of the facts: a missing fact is unknown."""

    def match(facts: Mapping[str, object]) -> int | None:
        index = positional(*[facts.get(name) for name in names])
        return None if index == NO_MATCH else index

    return match


def _source(facts_used: tuple[str, ...], chain: list[str], covers_all: bool) -> str:
    """Two functions around the same ``if`` chain: one takes the facts as arguments, the
    other subscripts a mapping once per fact first."""
    positional = [f"def match_positional({', '.join(facts_used)}):", *chain]
    on_facts = ["def match(facts):"]
    if facts_used:
        on_facts += [
            "    try:",
            *(f"        {name} = facts[{name!r}]" for name in facts_used),
            "    except KeyError:",
            "        return _read_each(facts)",
        ]
    on_facts += chain
    if not covers_all:
        positional.append(f"    return {NO_MATCH}")
        on_facts.append("    return None")
    return "\n".join([*positional, "", "", *on_facts, ""])


def _chain(enabled: list[tuple[int, Rule]], constants: dict[str, Any]) -> tuple[list[str], bool]:
    """The ``if`` chain of the enabled rules, and whether it ends in a rule that always
    holds (the rules after that one can never decide and are left out)."""
    lines: list[str] = []
    for index, rule in enabled:
        tests = _rule_tests(rule.conditions, constants)
        if not tests:
            lines.append(f"    return {index}")
            return lines, True
        lines += [f"    if {' and '.join(tests)}:", f"        return {index}"]
    return lines, False


def _rule_tests(conditions: tuple[Condition, ...], constants: dict[str, Any]) -> list[str]:
    """The Python tests of one rule's conditions, in order, each fact checked for None
    once, before its first test that needs it."""
    tests: list[str] = []
    guarded: set[str] = set()
    for condition in conditions:
        is_set = FACTS[condition.fact].type is FactType.TEXT_SET
        if (is_set or condition.operator not in _NONE_SAFE) and condition.fact not in guarded:
            guarded.add(condition.fact)
            tests.append(f"{condition.fact} is not None")
        tests.append(_test(condition, is_set, constants))
    return tests


def _bind(value: object, constants: dict[str, Any]) -> str:
    name = f"_c{len(constants)}"
    constants[name] = value
    return name


def _test(condition: Condition, is_set: bool, constants: dict[str, Any]) -> str:
    fact, operator, value = condition.fact, condition.operator, condition.value
    if operator in (Operator.IN, Operator.NOT_IN):
        assert isinstance(value, tuple)
        choices = _bind(frozenset(value), constants)
        if is_set:
            return f"{'not ' if operator is Operator.IN else ''}{choices}.isdisjoint({fact})"
        return f"{fact} {'in' if operator is Operator.IN else 'not in'} {choices}"
    if operator is Operator.BETWEEN:
        assert isinstance(value, tuple)
        low, high = (_bind(v, constants) for v in value)
        return f"{low} <= {fact} <= {high}"
    constant = _bind(value, constants)
    if is_set:
        return f"{constant} {'in' if operator is Operator.EQ else 'not in'} {fact}"
    return f"{fact} {_PYTHON[operator]} {constant}"


_PYTHON = {
    Operator.EQ: "==",
    Operator.NE: "!=",
    Operator.LT: "<",
    Operator.LE: "<=",
    Operator.GT: ">",
    Operator.GE: ">=",
}
