"""The policy editor's form: a rule shown as fields comes back as the same rule, values are
typed as the document expects, and problems land next to the field they name."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

from refundflow.entrypoints.web.console.policy_form import (
    condition_value,
    inline,
    rule_from_form,
    rule_to_form,
    schema_problems,
)
from refundflow.policy.defaults import DEFAULT_POLICY
from refundflow.policy.document import parse_document, to_wire


def _submitted(shown: dict[str, Any]) -> FormData:
    """What the browser sends for the fields ``rule_to_form`` shows (unchanged)."""
    fields: dict[str, str] = {
        "id": shown["id"],
        "name": shown["name"],
        "outcome": shown["outcome"],
        "requires_return": shown["requires_return"],
        "priority": shown["priority"],
        "queue": shown["queue"],
        "store_credit_bonus_pct": shown["store_credit_bonus_pct"],
        "keep_item_refund_pct": shown["keep_item_refund_pct"],
        "rows": str(len(shown["rows"])),
    }
    for lang, text in shown["reason"].items():
        fields[f"reason_{lang}"] = text
    for name in ("enabled", "auto_execute", "fast_track", "offer_exchange"):
        if shown[name]:
            fields[name] = "1"
    for i, row in enumerate(shown["rows"]):
        fields.update({f"fact_{i}": row["fact"], f"operator_{i}": row["operator"]})
        fields[f"value_{i}"] = row["value"]
    return FormData(fields)


def test_every_shipped_rule_comes_back_from_its_form_unchanged() -> None:
    wire = to_wire(parse_document(DEFAULT_POLICY))
    for rule in wire["rules"]:
        assert rule_from_form(_submitted(rule_to_form(rule))) == rule, rule["id"]


def test_a_rule_with_every_option_comes_back_unchanged() -> None:
    rule = {
        "id": "vip_review",
        "name": "VIP",
        "enabled": False,
        "conditions": [
            {"fact": "customer_tier", "operator": "in", "value": ["gold", "vip"]},
            {"fact": "amount", "operator": "between", "value": ["10.00", "99.50"]},
            {"fact": "first_order", "operator": "=", "value": True},
        ],
        "outcome": "review",
        "customer_reason": {"zh-CN": "人工审核", "en": "Reviewed by a person"},
        "options": {
            "queue": "cs_senior",
            "priority": "high",
            "fast_track": True,
            "offer": {"exchange": True, "store_credit_bonus_pct": "10"},
        },
    }
    assert rule_from_form(_submitted(rule_to_form(rule))) == rule


def test_values_are_typed_as_the_fact_needs_and_anything_else_stays_text() -> None:
    assert condition_value("days_since_delivery", "<=", "15") == 15
    assert condition_value("customer_refunds_90d", "between", "1, 3") == [1, 3]
    assert condition_value("amount", "<", "100") == "100"  # money stays a decimal string
    assert condition_value("complaint_open", "=", "TRUE") is True
    assert condition_value("days_since_delivery", "<=", "fifteen") == "fifteen"
    assert condition_value("reason", "not_in", "a, ,b,") == ["a", "b"]


def test_an_empty_condition_row_is_dropped_and_empty_reasons_are_left_out() -> None:
    form = FormData(
        {"id": "x", "name": "X", "outcome": "review", "rows": "2", "fact_0": "", "fact_1": ""}
    )
    rule = rule_from_form(form)
    assert rule["conditions"] == [] and rule["customer_reason"] is None
    assert rule["enabled"] is False and rule["options"] == {}


def test_problems_are_named_by_rule_and_field_and_shown_next_to_the_input() -> None:
    document = {"version": 3, "rules": [{"id": "a", "name": "A" * 101, "outcome": "review"}]}
    problems = schema_problems(document)
    assert problems and problems[0]["rule"].startswith("rule 1 'AAA")
    assert problems[0]["field"] == "name"
    found = inline(
        [
            {"rule": "rule 2 'B'", "field": "conditions[1].value[0]", "message": "bad"},
            {"rule": "rule 2 'B'", "field": "options.auto_execute", "message": "approve only"},
            {"rule": "rule 12 'L'", "field": "name", "message": "someone else's"},
        ],
        1,
    )
    assert found == {"conditions[1].value": "bad", "options": "approve only"}
