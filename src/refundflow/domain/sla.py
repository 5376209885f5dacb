"""Service levels: how long each step may take, by channel, type, tier and fast track.

A rule applies to one step and may narrow itself to a channel, a request type, a customer
tier, fast-track requests, or whether the order had shipped; the most specific matching
rule wins (ties: the lowest id). Deadlines count in plain or business time. A rule may ask
for a reminder at a fraction of its time and for an automatic action when it runs out —
what the marketplaces would do to the merchant anyway (approve an unanswered request,
cancel a return never shipped, confirm a parcel the carrier delivered).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum

from refundflow.domain.errors import InvalidInputError


class Step(StrEnum):
    REVIEW = "review"
    APPEAL_REVIEW = "appeal_review"
    COMPLAINT = "complaint"
    SHIP_BACK = "ship_back"  # the customer sends the goods back
    RECEIVE = "receive"  # the warehouse expects a parcel with a tracking number
    INSPECT = "inspect"
    FINANCE_APPROVAL = "finance_approval"
    EXECUTE = "execute"
    REFUND_FAILED = "refund_failed"
    SHIP_REPLACEMENT = "ship_replacement"
    FOLLOW_UP = "follow_up"


class AutoAction(StrEnum):
    APPROVE = "auto_approve"
    CANCEL = "auto_cancel"
    CONFIRM_RECEIPT = "auto_confirm_receipt"


# Which automatic action makes sense at the end of which step.
AUTO_ACTIONS: dict[AutoAction, Step] = {
    AutoAction.APPROVE: Step.REVIEW,
    AutoAction.CANCEL: Step.SHIP_BACK,
    AutoAction.CONFIRM_RECEIPT: Step.RECEIVE,
}


@dataclass(frozen=True, slots=True)
class SlaRule:
    step: Step
    minutes: int
    business_hours: bool = False
    channel: str | None = None
    type: str | None = None
    tier: str | None = None
    fast_track: bool | None = None
    order_shipped: bool | None = None
    remind_at: Decimal | None = None  # fraction of the time, e.g. 0.75
    on_breach: AutoAction | None = None
    preset: str | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.minutes <= 365 * 24 * 60:
            raise InvalidInputError(
                "an SLA lasts from 1 minute to 365 days", details={"field": "minutes"}
            )
        if self.remind_at is not None and not Decimal(0) < self.remind_at < Decimal(1):
            raise InvalidInputError(
                'remind_at is a fraction between 0 and 1, e.g. "0.75"',
                details={"field": "remind_at"},
            )
        if self.on_breach is not None and AUTO_ACTIONS[self.on_breach] is not self.step:
            raise InvalidInputError(
                f"{self.on_breach.value} applies to the {AUTO_ACTIONS[self.on_breach].value} "
                f"step, not {self.step.value}",
                details={"field": "on_breach"},
            )

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.minutes)

    @property
    def specificity(self) -> int:
        return sum(
            value is not None
            for value in (self.channel, self.type, self.tier, self.fast_track, self.order_shipped)
        )

    def matches(self, context: SlaContext) -> bool:
        return (
            self.step is context.step
            and self.channel in (None, context.channel)
            and self.type in (None, context.type)
            and self.tier in (None, context.tier)
            and self.fast_track in (None, context.fast_track)
            and self.order_shipped in (None, context.order_shipped)
        )


@dataclass(frozen=True, slots=True)
class SlaContext:
    step: Step
    channel: str
    type: str
    tier: str
    fast_track: bool
    order_shipped: bool


def pick(rules: Iterable[SlaRule], context: SlaContext) -> SlaRule | None:
    """The most specific rule for ``context`` (ties: the first stored)."""
    best: SlaRule | None = None
    for rule in rules:
        if rule.matches(context) and (best is None or rule.specificity > best.specificity):
            best = rule
    return best


H = 60
D = 24 * H
R = Decimal("0.75")


def _own_site() -> list[SlaRule]:
    """Defaults for every channel without its own preset (business hours, 9–18)."""
    return [
        SlaRule(Step.REVIEW, 8 * H, True, remind_at=R),
        SlaRule(Step.REVIEW, 2 * H, True, fast_track=True, remind_at=R),
        SlaRule(Step.APPEAL_REVIEW, 8 * H, True, remind_at=R),
        SlaRule(Step.COMPLAINT, 4 * H, True, remind_at=Decimal("0.5")),
        SlaRule(Step.SHIP_BACK, 7 * D, remind_at=Decimal("0.85"), on_breach=AutoAction.CANCEL),
        SlaRule(Step.RECEIVE, 7 * D, remind_at=R),
        SlaRule(Step.INSPECT, 8 * H, True, remind_at=R),
        SlaRule(Step.FINANCE_APPROVAL, 8 * H, True, remind_at=R),
        SlaRule(Step.EXECUTE, 4 * H, True, remind_at=R),
        SlaRule(Step.REFUND_FAILED, 8 * H, True, remind_at=R),
        SlaRule(Step.SHIP_REPLACEMENT, 16 * H, True, remind_at=R),
        SlaRule(Step.FOLLOW_UP, 16 * H, True, remind_at=R),
    ]


def _marketplace(
    channels: tuple[str, ...], review: int, shipped_review: int, ship_back: int, receive: int
) -> list[SlaRule]:
    """A marketplace's own clock: it acts for the merchant when the time runs out."""
    rules = []
    for channel in channels:
        rules += [
            SlaRule(
                Step.REVIEW,
                review,
                channel=channel,
                order_shipped=False,
                remind_at=R,
                on_breach=AutoAction.APPROVE,
            ),
            SlaRule(
                Step.REVIEW,
                shipped_review,
                channel=channel,
                order_shipped=True,
                remind_at=R,
                on_breach=AutoAction.APPROVE,
            ),
            SlaRule(
                Step.SHIP_BACK,
                ship_back,
                channel=channel,
                remind_at=Decimal("0.85"),
                on_breach=AutoAction.CANCEL,
            ),
            SlaRule(
                Step.RECEIVE,
                receive,
                channel=channel,
                remind_at=R,
                on_breach=AutoAction.CONFIRM_RECEIPT,
            ),
        ]
    return rules


# Taobao/Tmall: 48 h to handle a refund on an unshipped order, 5 days once shipped, then the
# platform approves; the buyer has 7 days to ship a return; receipt is confirmed for the
# merchant 10 days after. WeChat Store: 48 h, 7 days, 10 days. JD: 48 h, 7 days, 7 days.
PRESETS: dict[str, list[SlaRule]] = {
    "own_site": _own_site(),
    "taobao": _marketplace(("tmall", "taobao"), 48 * H, 5 * D, 7 * D, 10 * D),
    "wechat_store": _marketplace(("wechat_store",), 48 * H, 48 * H, 7 * D, 10 * D),
    "jd": _marketplace(("jd",), 48 * H, 48 * H, 7 * D, 7 * D),
}


def preset(name: str) -> list[SlaRule]:
    if name not in PRESETS:
        raise InvalidInputError(
            f"unknown preset {name!r}; use one of {', '.join(PRESETS)}", details={"preset": name}
        )
    return [replace(rule, preset=name) for rule in PRESETS[name]]
