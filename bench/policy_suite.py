"""The ``policy`` suite: decisions per second of a compiled 25-rule policy, next to a
hand-written Python function of the same 25 rules.

Both sides decide the same pre-generated 100,000 requests' facts, in the same order, A, B,
A, B, … for ``rounds`` rounds; a row reports the medians. Two pairs:

- ``policy.decide_positional``: ``CompiledPolicy.match_positional(*values)``, the path a
  simulation over stored history takes, against a hand-written function of positional
  arguments;
- ``policy.decide_from_facts``: ``CompiledPolicy.match(facts)`` on a dict, the path of a
  live decision, against a hand-written function that reads the dict as it goes.

Before measuring, every decision of both sides is compared (and a sample with the reference
interpreter): a mismatch stops the bench rather than report the speed of a wrong answer.
"""

from __future__ import annotations

import inspect
import statistics
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from itertools import starmap
from random import Random
from typing import Any

from bench.errors import BenchError
from bench.options import RunOptions
from bench.rows import Figures, Row
from refundflow.policy.compiler import CompiledPolicy, compile_policy
from refundflow.policy.document import parse_document
from refundflow.policy.interpreter import first_match

REQUESTS = 100_000
CHECKED_BY_INTERPRETER = 5_000
SEED = 20261126
TARGET = 0.5


def _rule(
    rule_id: str, outcome: str, *conditions: tuple[str, str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "id": rule_id,
        "name": rule_id,
        "outcome": outcome,
        "conditions": [{"fact": f, "operator": o, "value": v} for f, o, v in conditions],
        **({"customer_reason": "不符合退款条件"} if outcome == "reject" else {}),
        **extra,
    }


NO_RETURN = {"options": {"requires_return": False}}
RETURN = {"options": {"requires_return": True}}

# A merchant's policy grown over a year: risk checks first, then the approvals, then review.
RULES = [
    _rule("open_complaint", "review", ("complaint_open", "=", True)),
    _rule("many_refunds", "review", ("customer_refunds_90d", ">=", 5)),
    _rule(
        "high_rate", "review", ("customer_refund_rate", ">", "0.5"), ("customer_orders", ">=", 3)
    ),
    _rule("api_large", "review", ("intake_channel", "=", "api"), ("amount", ">", "2000")),
    _rule("very_large", "review", ("amount", ">", "5000"), options={"priority": "high"}),
    _rule(
        "unshipped",
        "approve",
        ("order_status", "=", "unshipped"),
        ("type", "=", "refund_only"),
        options={"requires_return": False, "auto_execute": True},
    ),
    _rule(
        "late_in_transit",
        "approve",
        ("order_status", "=", "shipped"),
        ("type", "=", "refund_only"),
        ("reason", "=", "late_delivery"),
        **NO_RETURN,
    ),
    _rule(
        "wrong_or_missing",
        "approve",
        ("reason", "in", ["wrong_item", "missing_parts"]),
        ("days_since_delivery", "<=", 15),
        ("amount", "<=", "300"),
        **NO_RETURN,
    ),
    _rule(
        "damaged",
        "approve",
        ("reason", "=", "damaged_in_transit"),
        ("days_since_delivery", "<=", 3),
    ),
    _rule(
        "no_reason_7d",
        "approve",
        ("reason", "=", "no_reason_7d"),
        ("type", "=", "return_and_refund"),
        ("days_since_delivery", "<=", 7),
        ("category", "not_in", ["food", "beauty"]),
        **RETURN,
    ),
    _rule(
        "no_reason_keep", "reject", ("reason", "=", "no_reason_7d"), ("type", "=", "refund_only")
    ),
    _rule(
        "no_reason_late", "reject", ("reason", "=", "no_reason_7d"), ("days_since_delivery", ">", 7)
    ),
    _rule(
        "quality_15d",
        "approve",
        ("reason", "=", "quality_issue"),
        ("type", "in", ["return_and_refund", "exchange"]),
        ("days_since_delivery", "<=", 15),
        **RETURN,
    ),
    _rule(
        "quality_late_loyal",
        "review",
        ("reason", "=", "quality_issue"),
        ("days_since_delivery", "between", [16, 90]),
        ("customer_tier", "in", ["gold", "vip"]),
        options={"priority": "high"},
    ),
    _rule(
        "not_as_described",
        "approve",
        ("reason", "=", "not_as_described"),
        ("days_since_delivery", "<=", 15),
        ("category", "!=", "electronics"),
        **RETURN,
    ),
    _rule("big_electronics", "review", ("category", "=", "electronics"), ("amount", ">", "1000")),
    _rule(
        "small_trusted",
        "approve",
        ("amount", "<=", "100"),
        ("customer_refund_rate", "<", "0.10"),
        ("trust_quota_left", ">=", "100"),
        options={"requires_return": False, "auto_execute": True},
    ),
    _rule(
        "tiny_first_order",
        "approve",
        ("amount", "<=", "50"),
        ("first_order", "=", True),
        **NO_RETURN,
    ),
    _rule(
        "vip_small",
        "approve",
        ("customer_tier", "=", "vip"),
        ("amount", "<=", "500"),
        options={"fast_track": True},
    ),
    _rule("vip_lane", "review", ("customer_tier", "=", "vip"), options={"fast_track": True}),
    _rule(
        "douyin_quick",
        "approve",
        ("channel", "=", "douyin"),
        ("days_since_payment", "<=", 3),
        ("type", "=", "refund_only"),
        **NO_RETURN,
    ),
    _rule("cash_on_delivery", "review", ("payment_method", "in", ["cash_on_delivery"])),
    _rule(
        "loyal_mid",
        "approve",
        ("customer_tier", "in", ["gold", "silver"]),
        ("customer_refund_amount_90d", "<", "1000"),
        ("amount", "<=", "300"),
    ),
    _rule("large_order", "review", ("order_total", ">=", "3000"), options={"priority": "high"}),
    _rule("everything_else", "review"),
]
POLICY = {"version": 1, "rules": RULES}

# ---------------------------------------------------------------------------- by hand
# The same 25 rules as a developer would write them: constants hoisted, rules on one reason
# grouped, a dict read as the rules need it. Rule numbers are the indexes in RULES.
_50, _100, _300, _500 = Decimal("50"), Decimal("100"), Decimal("300"), Decimal("500")
_1000, _2000, _3000, _5000 = Decimal("1000"), Decimal("2000"), Decimal("3000"), Decimal("5000")
_HALF, _TENTH = Decimal("0.5"), Decimal("0.10")
_NOT_RESALEABLE = frozenset({"food", "beauty"})


def by_hand(
    amount: Any,
    order_total: Any,
    type_: Any,
    reason: Any,
    category: Any,
    channel: Any,
    intake_channel: Any,
    payment_method: Any,
    order_status: Any,
    days_since_delivery: Any,
    days_since_payment: Any,
    customer_tier: Any,
    customer_refunds_90d: Any,
    customer_refund_amount_90d: Any,
    customer_refund_rate: Any,
    customer_orders: Any,
    first_order: Any,
    complaint_open: Any,
    trust_quota_left: Any,
) -> int:
    days = days_since_delivery
    if complaint_open is True:
        return 0
    if customer_refunds_90d is not None and customer_refunds_90d >= 5:
        return 1
    if (
        customer_refund_rate is not None
        and customer_refund_rate > _HALF
        and customer_orders is not None
        and customer_orders >= 3
    ):
        return 2
    if amount is not None:
        if intake_channel == "api" and amount > _2000:
            return 3
        if amount > _5000:
            return 4
    if type_ == "refund_only":
        if order_status == "unshipped":
            return 5
        if order_status == "shipped" and reason == "late_delivery":
            return 6
    if reason in ("wrong_item", "missing_parts"):
        if days is not None and days <= 15 and amount is not None and amount <= _300:
            return 7
    elif reason == "damaged_in_transit":
        if days is not None and days <= 3:
            return 8
    elif reason == "no_reason_7d":
        if (
            type_ == "return_and_refund"
            and days is not None
            and days <= 7
            and category is not None
            and category.isdisjoint(_NOT_RESALEABLE)
        ):
            return 9
        if type_ == "refund_only":
            return 10
        if days is not None and days > 7:
            return 11
    elif reason == "quality_issue":
        if type_ in ("return_and_refund", "exchange") and days is not None and days <= 15:
            return 12
        if days is not None and 16 <= days <= 90 and customer_tier in ("gold", "vip"):
            return 13
    elif (
        reason == "not_as_described"
        and days is not None
        and days <= 15
        and category is not None
        and "electronics" not in category
    ):
        return 14
    if category is not None and "electronics" in category and amount is not None and amount > _1000:
        return 15
    if amount is not None:
        if (
            amount <= _100
            and customer_refund_rate is not None
            and customer_refund_rate < _TENTH
            and trust_quota_left is not None
            and trust_quota_left >= _100
        ):
            return 16
        if amount <= _50 and first_order is True:
            return 17
    if customer_tier == "vip":
        return 18 if amount is not None and amount <= _500 else 19
    if (
        channel == "douyin"
        and type_ == "refund_only"
        and days_since_payment is not None
        and days_since_payment <= 3
    ):
        return 20
    if payment_method is not None and "cash_on_delivery" in payment_method:
        return 21
    if (
        customer_tier in ("gold", "silver")
        and customer_refund_amount_90d is not None
        and customer_refund_amount_90d < _1000
        and amount is not None
        and amount <= _300
    ):
        return 22
    if order_total is not None and order_total >= _3000:
        return 23
    return 24


def by_hand_from_facts(facts: Mapping[str, Any]) -> int:
    """``by_hand`` reading the dict lazily: each fact when a rule first needs it."""
    get = facts.get
    if get("complaint_open") is True:
        return 0
    refunds = get("customer_refunds_90d")
    if refunds is not None and refunds >= 5:
        return 1
    rate = get("customer_refund_rate")
    if rate is not None and rate > _HALF:
        orders = get("customer_orders")
        if orders is not None and orders >= 3:
            return 2
    amount = get("amount")
    if amount is not None:
        if amount > _2000 and get("intake_channel") == "api":
            return 3
        if amount > _5000:
            return 4
    kind = get("type")
    reason = get("reason")
    if kind == "refund_only":
        status = get("order_status")
        if status == "unshipped":
            return 5
        if status == "shipped" and reason == "late_delivery":
            return 6
    days = get("days_since_delivery")
    category = get("category")
    if reason in ("wrong_item", "missing_parts"):
        if days is not None and days <= 15 and amount is not None and amount <= _300:
            return 7
    elif reason == "damaged_in_transit":
        if days is not None and days <= 3:
            return 8
    elif reason == "no_reason_7d":
        if (
            kind == "return_and_refund"
            and days is not None
            and days <= 7
            and category is not None
            and category.isdisjoint(_NOT_RESALEABLE)
        ):
            return 9
        if kind == "refund_only":
            return 10
        if days is not None and days > 7:
            return 11
    elif reason == "quality_issue":
        if kind in ("return_and_refund", "exchange") and days is not None and days <= 15:
            return 12
        if days is not None and 16 <= days <= 90 and get("customer_tier") in ("gold", "vip"):
            return 13
    elif (
        reason == "not_as_described"
        and days is not None
        and days <= 15
        and category is not None
        and "electronics" not in category
    ):
        return 14
    if category is not None and "electronics" in category and amount is not None and amount > _1000:
        return 15
    if amount is not None:
        if amount <= _100 and rate is not None and rate < _TENTH:
            quota = get("trust_quota_left")
            if quota is not None and quota >= _100:
                return 16
        if amount <= _50 and get("first_order") is True:
            return 17
    tier = get("customer_tier")
    if tier == "vip":
        return 18 if amount is not None and amount <= _500 else 19
    if get("channel") == "douyin" and kind == "refund_only":
        paid = get("days_since_payment")
        if paid is not None and paid <= 3:
            return 20
    methods = get("payment_method")
    if methods is not None and "cash_on_delivery" in methods:
        return 21
    if tier in ("gold", "silver") and amount is not None and amount <= _300:
        refunded = get("customer_refund_amount_90d")
        if refunded is not None and refunded < _1000:
            return 22
    total = get("order_total")
    if total is not None and total >= _3000:
        return 23
    return 24


# ---------------------------------------------------------------------------- requests
_AMOUNTS = ["29.90", "59.00", "79.00", "99.00", "119.00", "139.00", "169.00", "199.00"]
_AMOUNTS += ["259.00", "329.00", "429.00", "499.00", "899.00", "1299.00", "2599.00", "6999.00"]
_REASONS = {
    "refund_only": ["late_delivery", "missing_parts", "quality_issue", "other", "no_reason_7d"],
    "return_and_refund": ["no_reason_7d"] * 3 + ["quality_issue"] * 2 + ["not_as_described"],
    "exchange": ["wrong_item", "quality_issue", "not_as_described", "damaged_in_transit"],
}
_CATEGORIES = ["apparel", "shoes", "electronics", "home", "beauty", "food"]
_CHANNELS = ["tmall", "jd", "douyin", "own_site", "wechat_store"]
_METHODS = ["alipay", "wechat_pay", "card", "alipay", "wechat_pay", "cash_on_delivery"]


def _facts(rng: Random) -> dict[str, Any]:
    """One request's facts, distributed as in a Chinese marketplace shop."""
    kind = rng.choice(["refund_only"] * 9 + ["return_and_refund"] * 9 + ["exchange"] * 2)
    status = rng.choice(["unshipped"] * 3 + ["shipped"] * 3 + ["delivered"] * 14)
    days = min(120, int(rng.expovariate(1 / 8)) + 1) if status == "delivered" else None
    paid = (days or 0) + rng.randint(0, 6)
    amount = Decimal(rng.choice(_AMOUNTS))
    orders = rng.randint(1, 30)
    refunds = rng.choice([0] * 10 + [1] * 5 + [2] * 3 + [3, 4, 5, 7])
    rate = (Decimal(min(refunds, orders)) / orders).quantize(Decimal("0.0001"))
    return {
        "amount": amount,
        "order_total": amount + Decimal(rng.choice(["0", "0", "99.00", "500.00", "3000.00"])),
        "currency": "CNY",
        "type": kind,
        "reason": rng.choice(_REASONS[kind]),
        "category": frozenset(rng.sample(_CATEGORIES, rng.choice([1, 1, 1, 2]))),
        "sku": frozenset({f"SKU-{rng.randint(1, 500)}"}),
        "channel": rng.choice(_CHANNELS),
        "intake_channel": rng.choice(["portal"] * 8 + ["api", "chat"]),
        "payment_method": frozenset({rng.choice(_METHODS)}),
        "order_status": status,
        "days_since_delivery": days,
        "days_since_payment": paid,
        "customer_tier": rng.choice(
            ["standard"] * 60 + ["silver"] * 22 + ["gold"] * 12 + ["vip"] * 6
        ),
        "customer_refunds_90d": refunds,
        "customer_refund_amount_90d": Decimal(refunds * rng.choice([0, 59, 199, 499])),
        "customer_refund_rate": rate if rng.random() > 0.02 else None,
        "customer_orders": orders,
        "first_order": orders == 1,
        "complaint_open": rng.random() < 0.02,
        "trust_quota_left": Decimal(rng.choice(["0", "50", "100", "200", "500", "3000"])),
    }


# ---------------------------------------------------------------------------- measuring
@dataclass(frozen=True, slots=True)
class _Pair:
    key: str
    label: str
    subject: Callable[[], None]
    baseline_label: str
    baseline: Callable[[], None]


def _rate(one_pass: Callable[[], None], decisions: int, seconds: float) -> float:
    """Decisions per second over as many whole passes as fit in ``seconds``."""
    passes, started = 0, time.perf_counter()
    while True:
        one_pass()
        passes += 1
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return passes * decisions / elapsed


def _check(
    compiled: CompiledPolicy, maps: list[dict[str, Any]], rows: list[tuple[Any, ...]]
) -> Counter[int]:
    """Stop the bench unless both sides take the same decision on every request."""
    names = tuple(p.rstrip("_") for p in inspect.signature(by_hand).parameters)
    if names != compiled.facts_used:
        raise BenchError(f"by_hand takes {names}, the compiled policy {compiled.facts_used}")
    compiled_positional = list(starmap(compiled.match_positional, rows))
    if compiled_positional != list(starmap(by_hand, rows)):
        raise BenchError("the compiled policy and by_hand disagree on positional facts")
    compiled_facts = [compiled.match(m) for m in maps]
    if compiled_facts != compiled_positional or compiled_facts != [
        by_hand_from_facts(m) for m in maps
    ]:
        raise BenchError("the compiled policy and by_hand_from_facts disagree")
    sample = maps[:CHECKED_BY_INTERPRETER]
    if [first_match(compiled.document, m) for m in sample] != compiled_facts[: len(sample)]:
        raise BenchError("the compiled policy and the reference interpreter disagree")
    return Counter(compiled_positional)


def _drain(items: Iterable[object]) -> None:
    deque(items, maxlen=0)


def run(options: RunOptions) -> list[Row]:
    console = options.console
    document = parse_document(POLICY)
    started = time.perf_counter()
    compiled = compile_policy(document)
    compile_ms = (time.perf_counter() - started) * 1000
    with console.status(f"policy: generating {REQUESTS:,} requests' facts…"):
        rng = Random(SEED)
        maps = [_facts(rng) for _ in range(REQUESTS)]
        rows = [tuple(m[name] for name in compiled.facts_used) for m in maps]
        hits = _check(compiled, maps, rows)
    positional, match = compiled.match_positional, compiled.match
    pairs = [
        _Pair(
            "policy.decide_positional",
            "policy decisions/s, 25 rules (positional)",
            lambda: _drain(starmap(positional, rows)),
            "hand-written function",
            lambda: _drain(starmap(by_hand, rows)),
        ),
        _Pair(
            "policy.decide_from_facts",
            "policy decisions/s, 25 rules (facts dict)",
            lambda: _drain(map(match, maps)),
            "hand-written function on the dict",
            lambda: _drain(map(by_hand_from_facts, maps)),
        ),
    ]
    seconds = max(0.2, options.seconds / 4)
    notes = {
        "rules": len(document.rules),
        "requests": REQUESTS,
        "facts_used": len(compiled.facts_used),
        "compile_ms": round(compile_ms, 2),
        "seconds_per_side_per_round": seconds,
        "decisions_by_rule": {document.rules[i].id: n for i, n in sorted(hits.items())},
    }
    result = []
    for pair in pairs:
        with console.status(f"policy: {pair.label} vs {pair.baseline_label}…"):
            result.append(_measure(pair, seconds, options, notes))
    return result


def _measure(pair: _Pair, seconds: float, options: RunOptions, notes: dict[str, Any]) -> Row:
    for side in (pair.subject, pair.baseline):
        side()  # warm-up: one pass each
    rounds: list[dict[str, Any]] = []
    for number in range(1, options.rounds + 1):
        a = _rate(pair.subject, REQUESTS, seconds)
        b = _rate(pair.baseline, REQUESTS, seconds)
        rounds.append(
            {"round": number, "subject": round(a), "baseline": round(b), "ratio": round(a / b, 4)}
        )
        if options.verbose:
            options.console.print(
                f"  round {number}: {a:,.0f} vs {b:,.0f} decisions/s, ratio {a / b:.2f}"
            )
    return Row(
        key=pair.key,
        label=pair.label,
        figures=Figures(per_second=statistics.median(r["subject"] for r in rounds)),
        baseline_label=pair.baseline_label,
        baseline=Figures(per_second=statistics.median(r["baseline"] for r in rounds)),
        target=TARGET,
        rounds=rounds,
        notes={**notes, "median_round_ratio": statistics.median(r["ratio"] for r in rounds)},
    )
