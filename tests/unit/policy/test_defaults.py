"""The default policy: valid, and typical requests land on the rules meant for them."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from refundflow.policy.compiler import compile_policy
from refundflow.policy.defaults import DEFAULT_POLICY
from refundflow.policy.document import Outcome, Priority, parse_document, to_wire
from refundflow.policy.interpreter import first_match
from tests.unit.policy.builders import facts

DEFAULT = parse_document(DEFAULT_POLICY)
COMPILED = compile_policy(DEFAULT)


def test_the_default_policy_is_a_valid_document_that_round_trips() -> None:
    assert DEFAULT.version == 1
    assert parse_document(to_wire(DEFAULT)) == DEFAULT
    assert DEFAULT.trust_quota == {
        "standard": D("200"),
        "silver": D("500"),
        "gold": D("1000"),
        "vip": D("3000"),
    }


def test_rule_ids_are_stable_and_frequent_refunders_come_before_any_approval() -> None:
    ids = [r.id for r in DEFAULT.rules]
    assert ids == [
        "frequent_refunders",
        "unshipped_refund_only",
        "no_reason_7d",
        "quality_issue_15d",
        "small_trusted",
        "vip_fast_track",
        "everything_else",
    ]
    first_approval = next(i for i, r in enumerate(DEFAULT.rules) if r.outcome is Outcome.APPROVE)
    assert ids.index("frequent_refunders") < first_approval
    assert DEFAULT.rules[-1].conditions == ()


def test_returnless_rules_pay_at_once_and_the_vip_lane_is_high_priority() -> None:
    for rule_id in ("unshipped_refund_only", "small_trusted"):
        options = DEFAULT.rules[[r.id for r in DEFAULT.rules].index(rule_id)].options
        assert options.requires_return is False
        assert options.auto_execute is True
    vip = DEFAULT.rules[5].options
    assert (vip.fast_track, vip.priority) == (True, Priority.HIGH)


NO_REASON = {"reason": "no_reason_7d", "type": "return_and_refund", "amount": D("259.00")}
QUALITY = {"reason": "quality_issue", "type": "return_and_refund", "amount": D("429.00")}
BIG = {"amount": D("899.00")}

TYPICAL: list[tuple[str, dict[str, object], str]] = [
    (
        "unshipped refund only",
        {"order_status": "unshipped", "days_since_delivery": None},
        "unshipped_refund_only",
    ),
    (
        "unshipped, but 3 requests in 90 days",
        {"order_status": "unshipped", "customer_refunds_90d": 3},
        "frequent_refunders",
    ),
    (
        "frequent refunder asking for ¥10",
        {"amount": D("10"), "customer_refunds_90d": 5},
        "frequent_refunders",
    ),
    ("7-day return on day 7", {**NO_REASON, "days_since_delivery": 7}, "no_reason_7d"),
    ("7-day return on day 8", {**NO_REASON, "days_since_delivery": 8}, "everything_else"),
    (
        "7-day return of food",
        {**NO_REASON, "category": frozenset({"apparel", "food"})},
        "everything_else",
    ),
    (
        "7-day return of beauty by a VIP",
        {**NO_REASON, "category": frozenset({"beauty"}), "customer_tier": "vip"},
        "vip_fast_track",
    ),
    (
        "7-day return before delivery",
        {**NO_REASON, "order_status": "shipped", "days_since_delivery": None},
        "everything_else",
    ),
    ("quality issue on day 15", {**QUALITY, "days_since_delivery": 15}, "quality_issue_15d"),
    ("quality exchange on day 2", {**QUALITY, "type": "exchange"}, "quality_issue_15d"),
    ("quality issue on day 16", {**QUALITY, "days_since_delivery": 16}, "everything_else"),
    ("small amount, clean record", {"amount": D("59.00")}, "small_trusted"),
    ("exactly ¥100.00", {"amount": D("100.00")}, "small_trusted"),
    ("¥100.01", {"amount": D("100.01")}, "everything_else"),
    ("small amount, refund rate 10%", {"customer_refund_rate": D("0.1000")}, "everything_else"),
    ("small amount, refund rate unknown", {"customer_refund_rate": None}, "everything_else"),
    (
        "small quality refund only",
        {"reason": "quality_issue", "amount": D("29.90")},
        "small_trusted",
    ),
    ("VIP, large amount", {**BIG, "customer_tier": "vip"}, "vip_fast_track"),
    ("gold, large amount", {**BIG, "customer_tier": "gold"}, "everything_else"),
]


@pytest.mark.parametrize(
    ("request_facts", "rule_id"),
    [pytest.param(f, r, id=name) for name, f, r in TYPICAL],
)
def test_a_typical_request_lands_on_its_rule(
    request_facts: dict[str, object], rule_id: str
) -> None:
    chosen = facts(**request_facts)
    index = first_match(DEFAULT, chosen)
    assert index is not None
    assert DEFAULT.rules[index].id == rule_id
    assert COMPILED.match(chosen) == index
