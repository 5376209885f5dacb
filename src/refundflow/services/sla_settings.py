"""SLA rules, platform presets and the shop's calendar days: edited by managers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from refundflow.domain.actors import Actor
from refundflow.domain.errors import InvalidInputError, PermissionDeniedError
from refundflow.domain.permissions import Operation, may
from refundflow.domain.sla import PRESETS, AutoAction, SlaRule, Step, preset
from refundflow.services import audit
from refundflow.services.parsing import parse_enum
from refundflow.services.unit_of_work import UnitOfWorkFactory


def _require(actor: Actor, operation: Operation) -> None:
    if not may(actor.role, operation):
        raise PermissionDeniedError(f"the {actor.role.value} role cannot change service levels")


def rule_view(rule: SlaRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "step": rule.step.value,
        "minutes": rule.minutes,
        "business_hours": rule.business_hours,
        "channel": rule.channel,
        "type": rule.type,
        "tier": rule.tier,
        "fast_track": rule.fast_track,
        "order_shipped": rule.order_shipped,
        "remind_at": str(rule.remind_at) if rule.remind_at is not None else None,
        "on_breach": rule.on_breach.value if rule.on_breach else None,
        "preset": rule.preset,
    }


def parse_rule(raw: dict[str, Any], index: int) -> SlaRule:
    at = f"rules[{index}]"
    try:
        remind = raw.get("remind_at")
        return SlaRule(
            step=parse_enum(Step, raw.get("step"), f"{at}.step"),
            minutes=int(raw.get("minutes", 0)),
            business_hours=bool(raw.get("business_hours", False)),
            channel=raw.get("channel"),
            type=raw.get("type"),
            tier=raw.get("tier"),
            fast_track=raw.get("fast_track"),
            order_shipped=raw.get("order_shipped"),
            remind_at=Decimal(str(remind)) if remind is not None else None,
            on_breach=parse_enum(AutoAction, raw["on_breach"], f"{at}.on_breach")
            if raw.get("on_breach")
            else None,
            preset=raw.get("preset"),
        )
    except InvalidOperation:
        raise InvalidInputError(f'{at}.remind_at: a fraction such as "0.75"') from None
    except InvalidInputError as error:
        raise InvalidInputError(f"{at}: {error.message}", details=error.details) from None


def list_rules(uows: UnitOfWorkFactory, actor: Actor) -> list[dict[str, Any]]:
    if not may(actor.role, Operation.READ_SETTINGS):
        raise PermissionDeniedError(f"the {actor.role.value} role cannot read settings")
    with uows(write=False) as uow:
        return [rule_view(rule) for rule in uow.workflow.sla_rules()]


def replace_rules(
    uows: UnitOfWorkFactory, actor: Actor, raw: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Replace every SLA rule (the whole table, as the editor shows it). New deadlines apply
    to steps that open from now on; open steps keep theirs."""
    _require(actor, Operation.MANAGE_SETTINGS)
    rules = [parse_rule(item, i) for i, item in enumerate(raw)]
    with uows() as uow:
        uow.workflow.replace_sla_rules(rules)
        audit.record(uow, actor, "sla.rules_replaced", "sla_rules", {"rules": len(rules)})
        stored = uow.workflow.sla_rules()
        uow.commit()
    return [rule_view(rule) for rule in stored]


def load_preset(uows: UnitOfWorkFactory, actor: Actor, name: str) -> list[dict[str, Any]]:
    """Put a platform preset's rules back as shipped (its own rules only)."""
    _require(actor, Operation.MANAGE_SETTINGS)
    rules = preset(name)
    with uows() as uow:
        uow.workflow.replace_sla_rules(rules, preset=name)
        audit.record(uow, actor, "sla.preset_loaded", f"preset:{name}")
        stored = uow.workflow.sla_rules()
        uow.commit()
    return [rule_view(rule) for rule in stored]


def ensure_default_rules(uows: UnitOfWorkFactory) -> bool:
    """Install every preset on a fresh install (no SLA rule yet)."""
    with uows() as uow:
        if uow.workflow.sla_rules():
            return False
        for name in PRESETS:
            uow.workflow.replace_sla_rules(preset(name), preset=name)
        uow.commit()
    return True


def calendar_days(uows: UnitOfWorkFactory, actor: Actor) -> list[dict[str, str]]:
    if not may(actor.role, Operation.READ_SETTINGS):
        raise PermissionDeniedError(f"the {actor.role.value} role cannot read settings")
    with uows(write=False) as uow:
        return [
            {"day": day.isoformat(), "kind": kind, "name": name}
            for day, kind, name in uow.workflow.calendar_days()
        ]


def replace_calendar_days(
    uows: UnitOfWorkFactory, actor: Actor, raw: list[dict[str, Any]]
) -> list[dict[str, str]]:
    """The shop's own days off and make-up working days, on top of the official calendar
    (and the only holidays for a year the State Council has not announced yet)."""
    _require(actor, Operation.MANAGE_SETTINGS)
    days: dict[date, tuple[str, str]] = {}
    for i, item in enumerate(raw):
        try:
            day = date.fromisoformat(str(item.get("day")))
        except ValueError:
            raise InvalidInputError(f"days[{i}].day: a date such as 2027-02-06") from None
        kind = item.get("kind")
        if kind not in ("holiday", "workday"):
            raise InvalidInputError(f"days[{i}].kind: holiday or workday")
        name = str(item.get("name") or kind)[:100]
        if day in days:
            raise InvalidInputError(f"days[{i}].day: {day} is listed twice")
        days[day] = (kind, name)
    with uows() as uow:
        uow.workflow.replace_calendar_days(
            (day, kind, name) for day, (kind, name) in sorted(days.items())
        )
        audit.record(uow, actor, "calendar.replaced", "calendar_days", {"days": len(days)})
        uow.commit()
    return [{"day": d.isoformat(), "kind": k, "name": n} for d, (k, n) in sorted(days.items())]


def years_without_official_data(
    uows: UnitOfWorkFactory, actor: Actor, years: list[int]
) -> list[int]:
    """Which of ``years`` have no official holidays yet (the console warns: deadlines count
    weekends and the shop's own days only)."""
    if not may(actor.role, Operation.READ_SETTINGS):
        raise PermissionDeniedError(f"the {actor.role.value} role cannot read settings")
    with uows(write=False) as uow:
        return [year for year in years if uow.workdays.is_workday(date(year, 6, 1)) is None]
