"""The policy editor's forms: a rule as form fields and back to the document's wire shape,
and validation problems (of the API's pydantic model, then of ``parse_document``) placed
next to the field they name."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from refundflow.entrypoints.web.routes.policies import PolicyModel
from refundflow.policy.document import LANGUAGES, MAX_CONDITIONS
from refundflow.policy.explain import Labels
from refundflow.policy.facts import FACTS, OPERATORS, FactType, Operator

LIST_OPERATORS = (Operator.IN, Operator.NOT_IN, Operator.BETWEEN)
OUTCOMES = ("approve", "review", "reject")


def fact_choices(lang: str) -> list[dict[str, Any]]:
    """The facts a condition may test, with the operators that fit each (for the pickers)."""
    return [
        {
            "name": spec.name,
            "label": spec.label_zh if lang == "zh-CN" else spec.label_en,
            "type": spec.type.value,
            "operators": " ".join(op.value for op in Operator if op in OPERATORS[spec.type]),
        }
        for spec in FACTS.values()
    ]


def known_values(names: Labels, lang: str) -> dict[str, list[tuple[str, str]]]:
    """Values to suggest per fact (the value input stays free text): the fixed choices of
    a fact, and the shop's own reason codes, categories and channels."""
    known: dict[str, list[tuple[str, str]]] = {
        spec.name: [(choice, choice) for choice in spec.choices]
        for spec in FACTS.values()
        if spec.choices
    }
    for fact, table in (
        ("reason", names.reasons),
        ("category", names.categories),
        ("channel", names.channels),
    ):
        known[fact] = [(code, words.get(lang) or code) for code, words in table.items()]
    return known


OPERATOR_CHOICES: tuple[str, ...] = tuple(op.value for op in Operator)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _scalar(fact_type: FactType | None, text: str) -> Any:
    """A form value typed as the document expects it; a value that is not one stays text,
    so that the document's validation names it."""
    if fact_type is FactType.NUMBER and re.fullmatch(r"-?\d+", text):
        return int(text)
    if fact_type is FactType.BOOL and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def condition_value(fact: str, operator: str, text: str) -> Any:
    spec = FACTS.get(fact)
    fact_type = spec.type if spec else None
    if operator in {op.value for op in LIST_OPERATORS}:
        return [_scalar(fact_type, part.strip()) for part in text.split(",") if part.strip()]
    return _scalar(fact_type, text)


def rule_from_form(form: FormData) -> dict[str, Any]:
    """The rule the editor's form describes (a condition row without a fact is dropped)."""
    conditions = []
    rows = min(int(_text(form, "rows") or 0) if _text(form, "rows").isdigit() else 0, 50)
    for i in range(rows):
        fact = _text(form, f"fact_{i}")
        if not fact:
            continue
        operator = _text(form, f"operator_{i}")
        conditions.append(
            {
                "fact": fact,
                "operator": operator,
                "value": condition_value(fact, operator, _text(form, f"value_{i}")),
            }
        )
    outcome = _text(form, "outcome")
    reason = {lang: _text(form, f"reason_{lang}") for lang in LANGUAGES}
    options: dict[str, Any] = {}
    if _text(form, "requires_return") in ("yes", "no"):
        options["requires_return"] = _text(form, "requires_return") == "yes"
    for name in ("auto_execute", "fast_track"):
        if _text(form, name):
            options[name] = True
    if _text(form, "priority") == "high":
        options["priority"] = "high"
    if _text(form, "queue"):
        options["queue"] = _text(form, "queue")
    offer: dict[str, Any] = {}
    if _text(form, "offer_exchange"):
        offer["exchange"] = True
    for name in ("store_credit_bonus_pct", "keep_item_refund_pct"):
        if _text(form, name):
            offer[name] = _text(form, name)
    if offer:
        options["offer"] = offer
    return {
        "id": _text(form, "id"),
        "name": _text(form, "name"),
        "enabled": bool(_text(form, "enabled")),
        "conditions": conditions,
        "outcome": outcome,
        "customer_reason": {k: v for k, v in reason.items() if v} or None,
        "options": options,
    }


def _value_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_value_text(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def rule_to_form(rule: Mapping[str, Any], extra_rows: int = 1) -> dict[str, Any]:
    """What the editor's fields show for ``rule`` (plus empty condition rows to fill)."""
    reason = rule.get("customer_reason") or {}
    if isinstance(reason, str):
        reason = dict.fromkeys(LANGUAGES, reason)
    options = rule.get("options") or {}
    offer = options.get("offer") or {}
    rows = [
        {
            "fact": c.get("fact", ""),
            "operator": c.get("operator", ""),
            "value": _value_text(c.get("value", "")),
        }
        for c in rule.get("conditions", [])
    ]
    rows += [{"fact": "", "operator": "", "value": ""}] * max(
        0, min(extra_rows, MAX_CONDITIONS - len(rows))
    )
    requires = options.get("requires_return")
    return {
        "id": rule.get("id", ""),
        "name": rule.get("name", ""),
        "enabled": rule.get("enabled", True),
        "outcome": rule.get("outcome", "review"),
        "reason": reason,
        "requires_return": "" if requires is None else ("yes" if requires else "no"),
        "auto_execute": bool(options.get("auto_execute")),
        "fast_track": bool(options.get("fast_track")),
        "priority": options.get("priority", "normal"),
        "queue": options.get("queue", ""),
        "offer_exchange": bool(offer.get("exchange")),
        "store_credit_bonus_pct": offer.get("store_credit_bonus_pct", ""),
        "keep_item_refund_pct": offer.get("keep_item_refund_pct", ""),
        "rows": rows,
    }


def schema_problems(document: dict[str, Any]) -> list[dict[str, str]]:
    """The API's pydantic model checks the shape first; its errors, named like the
    document's own (``rule 2 'name'``, ``conditions[0].operator``)."""
    try:
        PolicyModel.model_validate(document)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = list(error["loc"])
            where = "policy"
            if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
                index = loc[1]
                name = document["rules"][index].get("name") or ""
                where = f"rule {index + 1}" + (f" '{name}'" if name else "")
                loc = loc[2:]
            field = ""
            for part in loc:
                field += (
                    f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
                )
            problems.append({"rule": where, "field": field, "message": error["msg"]})
        return problems
    return []


def inline(problems: list[dict[str, str]], index: int) -> dict[str, str]:
    """The problems of rule ``index`` by field, for messages next to the inputs
    (``conditions[0].value[1]`` is shown at ``conditions[0].value``)."""
    prefix = f"rule {index + 1}"
    found: dict[str, str] = {}
    for problem in problems:
        where = problem.get("rule", "")
        if where != prefix and not where.startswith(prefix + " "):
            continue
        field = re.sub(r"(\.value)\[\d+\]$", r"\1", problem.get("field", ""))
        field = field.split(".")[0] if field.startswith(("options", "customer_reason")) else field
        found.setdefault(field, problem["message"])
    return found
