"""The policy document: ordered rules, each conditions → outcome, and per-tier trust quotas.

The wire shape (JSON or YAML) is::

    {"version": 7,
     "rules": [{"id": "small_trusted", "name": "小额信任客户", "enabled": true,
                "conditions": [{"fact": "amount", "operator": "<=", "value": "100.00"},
                               {"fact": "customer_refund_rate", "operator": "<", "value": "0.10"}],
                "outcome": "approve",
                "customer_reason": "小额退款，无需寄回商品",
                "options": {"requires_return": false}}],
     "trust_quota": {"standard": "200.00", "vip": "2000.00"}}

``parse_document`` turns that shape into the frozen dataclasses below and refuses anything
malformed with every problem named by rule and field. The first enabled rule whose
conditions all hold decides; when none does, the request goes to review.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from refundflow.domain.errors import InvalidInputError
from refundflow.policy.facts import FACTS, OPERATORS, FactType, Operator

LANGUAGES = ("zh-CN", "en")
TIERS = ("standard", "silver", "gold", "vip")
QUEUES_PATTERN_MAX = 32
MAX_RULES = 200
MAX_CONDITIONS = 20


class Outcome(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REVIEW = "review"


class Priority(StrEnum):
    NORMAL = "normal"
    HIGH = "high"


Value = Decimal | int | str | bool | tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Condition:
    fact: str
    operator: Operator
    value: Value


@dataclass(frozen=True, slots=True)
class Offer:
    """Alternatives shown to the customer before submitting."""

    exchange: bool = False
    store_credit_bonus_pct: Decimal | None = None
    keep_item_refund_pct: Decimal | None = None


@dataclass(frozen=True, slots=True)
class RuleOptions:
    requires_return: bool | None = None
    auto_execute: bool = False
    queue: str | None = None
    priority: Priority = Priority.NORMAL
    fast_track: bool = False
    offer: Offer | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    name: str
    conditions: tuple[Condition, ...]
    outcome: Outcome
    enabled: bool = True
    customer_reason: Mapping[str, str] = field(default_factory=dict)
    options: RuleOptions = field(default_factory=RuleOptions)

    def reason_for(self, lang: str) -> str | None:
        """The customer-facing reason in ``lang`` (falling back to the other language)."""
        return self.customer_reason.get(lang) or next(iter(self.customer_reason.values()), None)


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    version: int
    rules: tuple[Rule, ...]
    trust_quota: Mapping[str, Decimal] = field(default_factory=dict)

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


class PolicyValidationError(InvalidInputError):
    code = "invalid_policy"


# ---------------------------------------------------------------------------- parsing
class _Problems:
    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, where: str, field_name: str, message: str) -> None:
        self.items.append({"rule": where, "field": field_name, "message": message})


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str):
        return None
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _scalar(fact_type: FactType, value: Any) -> tuple[Value | None, str | None]:
    """A condition value of ``fact_type``, or why it is not one."""
    if fact_type in (FactType.MONEY, FactType.RATE):
        number = _decimal(value)
        if number is None:
            return None, 'must be a decimal string such as "100.00"'
        if fact_type is FactType.RATE and not Decimal(0) <= number <= Decimal(1):
            return None, 'a rate is a fraction between "0" and "1" (10% is "0.10")'
        return number, None
    if fact_type is FactType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int):
            return None, "must be a whole number"
        return value, None
    if fact_type is FactType.BOOL:
        if not isinstance(value, bool):
            return None, "must be true or false"
        return value, None
    if not isinstance(value, str) or not value.strip():
        return None, "must be a non-empty text"
    return value.strip(), None


def _condition(raw: Any, where: str, index: int, problems: _Problems) -> Condition | None:
    at = f"conditions[{index}]"
    if not isinstance(raw, Mapping):
        problems.add(where, at, "must be an object with fact, operator and value")
        return None
    fact = raw.get("fact")
    spec = FACTS.get(fact) if isinstance(fact, str) else None
    if spec is None:
        problems.add(where, f"{at}.fact", f"unknown fact {fact!r}; use one of {', '.join(FACTS)}")
        return None
    try:
        operator = Operator(str(raw.get("operator")))
    except ValueError:
        problems.add(where, f"{at}.operator", f"unknown operator {raw.get('operator')!r}")
        return None
    if operator not in OPERATORS[spec.type]:
        allowed = " ".join(op.value for op in Operator if op in OPERATORS[spec.type])
        problems.add(
            where,
            f"{at}.operator",
            f"{operator.value} does not apply to {fact} (a {spec.type.value}); use {allowed}",
        )
        return None
    raw_value = raw.get("value")
    value: Value
    if operator in (Operator.IN, Operator.NOT_IN, Operator.BETWEEN):
        if not isinstance(raw_value, Sequence) or isinstance(raw_value, str) or not raw_value:
            problems.add(where, f"{at}.value", f"{operator.value} needs a non-empty list")
            return None
        if operator is Operator.BETWEEN and len(raw_value) != 2:
            problems.add(where, f"{at}.value", "between needs [low, high]")
            return None
        items = []
        for i, item in enumerate(raw_value):
            parsed, error = _scalar(
                spec.type if spec.type is not FactType.TEXT_SET else FactType.TEXT, item
            )
            if error:
                problems.add(where, f"{at}.value[{i}]", error)
                return None
            items.append(parsed)
        if operator is Operator.BETWEEN and items[0] > items[1]:  # type: ignore[operator]
            problems.add(where, f"{at}.value", "between needs low ≤ high")
            return None
        value = tuple(items)
    else:
        parsed, error = _scalar(
            spec.type if spec.type is not FactType.TEXT_SET else FactType.TEXT, raw_value
        )
        if error:
            problems.add(where, f"{at}.value", error)
            return None
        assert parsed is not None
        value = parsed
    if spec.choices is not None:
        values = value if isinstance(value, tuple) else (value,)
        unknown = [v for v in values if v not in spec.choices]
        if unknown:
            problems.add(
                where,
                f"{at}.value",
                f"{unknown[0]!r} is not a {fact}; use one of {', '.join(spec.choices)}",
            )
            return None
    return Condition(spec.name, operator, value)


def _reason(raw: Any, where: str, problems: _Problems) -> dict[str, str]:
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        return {lang: raw.strip() for lang in LANGUAGES}
    if (
        isinstance(raw, Mapping)
        and raw
        and all(
            lang in LANGUAGES and isinstance(text, str) and text.strip()
            for lang, text in raw.items()
        )
    ):
        return {lang: text.strip() for lang, text in raw.items()}
    problems.add(where, "customer_reason", 'a text, or {"zh-CN": "…", "en": "…"}')
    return {}


def _percent(raw: Any, where: str, name: str, problems: _Problems) -> Decimal | None:
    if raw is None:
        return None
    number = _decimal(raw)
    if number is None or not Decimal(0) < number <= Decimal(100):
        problems.add(where, f"options.offer.{name}", 'a percentage string between "0" and "100"')
        return None
    return number


def _options(raw: Any, outcome: Outcome, where: str, problems: _Problems) -> RuleOptions:
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        problems.add(where, "options", "must be an object")
        return RuleOptions()
    known = {"requires_return", "auto_execute", "queue", "priority", "fast_track", "offer"}
    for name in raw:
        if name not in known:
            problems.add(
                where, f"options.{name}", f"unknown option; use {', '.join(sorted(known))}"
            )
    for name in ("requires_return", "auto_execute", "fast_track"):
        if name in raw and raw[name] is not None and not isinstance(raw[name], bool):
            problems.add(where, f"options.{name}", "must be true or false")
    if outcome is not Outcome.APPROVE:
        for name in ("requires_return", "auto_execute"):
            if raw.get(name) is not None:
                problems.add(where, f"options.{name}", f"only applies to approve, not {outcome}")
    if outcome is not Outcome.REVIEW:
        for name in ("queue", "priority"):
            if raw.get(name) is not None:
                problems.add(where, f"options.{name}", f"only applies to review, not {outcome}")
    queue = raw.get("queue")
    if queue is not None and (not isinstance(queue, str) or not 0 < len(queue) <= 32):
        problems.add(where, "options.queue", "a queue name of 1–32 characters")
        queue = None
    priority = Priority.NORMAL
    if raw.get("priority") is not None:
        try:
            priority = Priority(raw["priority"])
        except ValueError:
            problems.add(where, "options.priority", "normal or high")
    offer = None
    raw_offer = raw.get("offer")
    if raw_offer is not None:
        if not isinstance(raw_offer, Mapping):
            problems.add(where, "options.offer", "must be an object")
        else:
            offer = Offer(
                exchange=raw_offer.get("exchange") is True,
                store_credit_bonus_pct=_percent(
                    raw_offer.get("store_credit_bonus_pct"),
                    where,
                    "store_credit_bonus_pct",
                    problems,
                ),
                keep_item_refund_pct=_percent(
                    raw_offer.get("keep_item_refund_pct"), where, "keep_item_refund_pct", problems
                ),
            )
    return RuleOptions(
        requires_return=raw.get("requires_return")
        if isinstance(raw.get("requires_return"), bool)
        else None,
        auto_execute=raw.get("auto_execute") is True,
        queue=queue,
        priority=priority,
        fast_track=raw.get("fast_track") is True,
        offer=offer,
    )


def _rule(raw: Any, index: int, seen: set[str], problems: _Problems) -> Rule | None:
    if not isinstance(raw, Mapping):
        problems.add(f"rules[{index}]", "", "a rule must be an object")
        return None
    rule_id = raw.get("id")
    name = raw.get("name")
    where = f"rule {index + 1}" + (f" '{name}'" if isinstance(name, str) and name else "")
    before = len(problems.items)
    if not isinstance(rule_id, str) or not rule_id.strip() or len(rule_id) > 64:
        problems.add(where, "id", "a text id of 1–64 characters, unique in the policy")
    elif rule_id in seen:
        problems.add(where, "id", f"id {rule_id!r} is used by an earlier rule")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        problems.add(where, "name", "a name of 1–100 characters")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.add(where, "enabled", "must be true or false")
    try:
        outcome = Outcome(str(raw.get("outcome")))
    except ValueError:
        problems.add(where, "outcome", "approve, reject or review")
        return None
    raw_conditions = raw.get("conditions", [])
    if not isinstance(raw_conditions, list) or len(raw_conditions) > MAX_CONDITIONS:
        problems.add(where, "conditions", f"a list of at most {MAX_CONDITIONS} conditions")
        raw_conditions = []
    conditions = [_condition(c, where, i, problems) for i, c in enumerate(raw_conditions)]
    reason = _reason(raw.get("customer_reason"), where, problems)
    if outcome is Outcome.REJECT and not reason:
        problems.add(where, "customer_reason", "a rejection must tell the customer why")
    options = _options(raw.get("options"), outcome, where, problems)
    if len(problems.items) > before:
        return None
    seen.add(rule_id)  # type: ignore[arg-type]
    return Rule(
        id=str(rule_id).strip(),
        name=str(name).strip(),
        conditions=tuple(c for c in conditions if c is not None),
        outcome=outcome,
        enabled=bool(enabled),
        customer_reason=reason,
        options=options,
    )


def parse_document(raw: Any, *, version: int | None = None) -> PolicyDocument:
    """Read the wire shape; refuse it with every problem listed (rule and field)."""
    problems = _Problems()
    if not isinstance(raw, Mapping):
        raise PolicyValidationError("a policy is an object with 'rules'")
    raw_version = raw.get("version") if version is None else version
    if raw_version is not None and (
        isinstance(raw_version, bool) or not isinstance(raw_version, int) or raw_version < 0
    ):
        problems.add("policy", "version", "a whole number")
        raw_version = 0
    raw_rules = raw.get("rules")
    if not isinstance(raw_rules, list) or len(raw_rules) > MAX_RULES:
        raise PolicyValidationError(
            f"'rules' must be a list of at most {MAX_RULES} rules",
            details={"problems": [{"rule": "policy", "field": "rules", "message": "a list"}]},
        )
    seen: set[str] = set()
    rules = [_rule(r, i, seen, problems) for i, r in enumerate(raw_rules)]
    quota: dict[str, Decimal] = {}
    raw_quota = raw.get("trust_quota") or {}
    if not isinstance(raw_quota, Mapping):
        problems.add("policy", "trust_quota", "an object of tier → amount")
    else:
        for tier, amount in raw_quota.items():
            number = _decimal(amount)
            if tier not in TIERS:
                problems.add(
                    "policy", f"trust_quota.{tier}", f"unknown tier; use {', '.join(TIERS)}"
                )
            elif number is None or number < 0:
                problems.add("policy", f"trust_quota.{tier}", 'a decimal string such as "500.00"')
            else:
                quota[tier] = number
    unknown = set(raw) - {"version", "rules", "trust_quota", "status"}
    for key in sorted(unknown):
        problems.add("policy", key, "unknown field")
    if problems.items:
        first = problems.items[0]
        more = f" (and {len(problems.items) - 1} more)" if len(problems.items) > 1 else ""
        field_text = f" {first['field']}" if first["field"] else ""
        raise PolicyValidationError(
            f"{first['rule']}{field_text}: {first['message']}{more}",
            details={"problems": problems.items},
        )
    return PolicyDocument(int(raw_version or 0), tuple(r for r in rules if r is not None), quota)


def _wire_value(value: Value) -> Any:
    if isinstance(value, tuple):
        return [_wire_value(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def to_wire(document: PolicyDocument) -> dict[str, Any]:
    """The document in its wire shape (the inverse of ``parse_document``)."""
    rules = []
    for rule in document.rules:
        options: dict[str, Any] = {}
        o = rule.options
        if o.requires_return is not None:
            options["requires_return"] = o.requires_return
        if o.auto_execute:
            options["auto_execute"] = True
        if o.queue is not None:
            options["queue"] = o.queue
        if o.priority is not Priority.NORMAL:
            options["priority"] = o.priority.value
        if o.fast_track:
            options["fast_track"] = True
        if o.offer is not None:
            offer: dict[str, Any] = {}
            if o.offer.exchange:
                offer["exchange"] = True
            if o.offer.store_credit_bonus_pct is not None:
                offer["store_credit_bonus_pct"] = str(o.offer.store_credit_bonus_pct)
            if o.offer.keep_item_refund_pct is not None:
                offer["keep_item_refund_pct"] = str(o.offer.keep_item_refund_pct)
            options["offer"] = offer
        rules.append(
            {
                "id": rule.id,
                "name": rule.name,
                "enabled": rule.enabled,
                "conditions": [
                    {"fact": c.fact, "operator": c.operator.value, "value": _wire_value(c.value)}
                    for c in rule.conditions
                ],
                "outcome": rule.outcome.value,
                "customer_reason": dict(rule.customer_reason) or None,
                "options": options,
            }
        )
    return {
        "version": document.version,
        "rules": rules,
        "trust_quota": {tier: str(amount) for tier, amount in document.trust_quota.items()},
    }
