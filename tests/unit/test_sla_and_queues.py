"""SLA rules pick the most specific; each status waits in one queue at one step."""

from decimal import Decimal

import pytest

from refundflow.domain.errors import InvalidInputError
from refundflow.domain.lifecycle import RequestType, Status
from refundflow.domain.sla import PRESETS, AutoAction, SlaContext, SlaRule, Step, pick
from refundflow.domain.work import Queue, assignment_for
from tests.builders import request


def context(**overrides: object) -> SlaContext:
    values: dict[str, object] = {
        "step": Step.REVIEW,
        "channel": "tmall",
        "type": "refund_only",
        "tier": "standard",
        "fast_track": False,
        "order_shipped": False,
    }
    values.update(overrides)
    return SlaContext(**values)  # type: ignore[arg-type]


def test_the_most_specific_rule_wins() -> None:
    rules = [
        SlaRule(Step.REVIEW, 480, True, id=1),
        SlaRule(Step.REVIEW, 120, True, fast_track=True, id=2),
        SlaRule(Step.REVIEW, 2880, channel="tmall", order_shipped=False, id=3),
    ]
    assert pick(rules, context()).id == 3  # type: ignore[union-attr]
    assert pick(rules, context(channel="own_site")).id == 1  # type: ignore[union-attr]
    assert pick(rules, context(channel="own_site", fast_track=True)).id == 2  # type: ignore[union-attr]
    assert pick(rules, context(step=Step.INSPECT)) is None


def test_the_taobao_preset_gives_48_hours_unshipped_and_5_days_shipped() -> None:
    rules = PRESETS["own_site"] + PRESETS["taobao"]
    unshipped = pick(rules, context())
    shipped = pick(rules, context(order_shipped=True))
    assert (unshipped.minutes, unshipped.on_breach) == (48 * 60, AutoAction.APPROVE)  # type: ignore[union-attr]
    assert shipped.minutes == 5 * 24 * 60  # type: ignore[union-attr]
    ship_back = pick(rules, context(step=Step.SHIP_BACK))
    assert (ship_back.minutes, ship_back.on_breach) == (7 * 24 * 60, AutoAction.CANCEL)  # type: ignore[union-attr]
    receive = pick(PRESETS["wechat_store"], context(step=Step.RECEIVE, channel="wechat_store"))
    assert receive.minutes == 10 * 24 * 60  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"step": Step.INSPECT, "minutes": 60, "on_breach": AutoAction.APPROVE},
            "applies to the review",
        ),
        ({"step": Step.REVIEW, "minutes": 0}, "1 minute to 365 days"),
        ({"step": Step.REVIEW, "minutes": 60, "remind_at": Decimal("1.5")}, "fraction"),
    ],
)
def test_a_nonsensical_rule_is_refused(rule: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        SlaRule(**rule)  # type: ignore[arg-type]


QUEUES = {
    Status.PENDING_REVIEW: (Queue.CS, Step.REVIEW),
    Status.AWAITING_RETURN: (Queue.CUSTOMER, Step.SHIP_BACK),
    Status.RECEIVED: (Queue.WAREHOUSE, Step.INSPECT),
    Status.REFUND_PENDING: (Queue.FINANCE, Step.EXECUTE),
    Status.REFUNDING: None,
    Status.REFUND_FAILED: (Queue.FINANCE, Step.REFUND_FAILED),
    Status.EXCHANGE_PENDING: (Queue.WAREHOUSE, Step.SHIP_REPLACEMENT),
    Status.REFUNDED: None,
    Status.EXCHANGED: None,
    Status.REJECTED: None,
    Status.CANCELLED: None,
}


@pytest.mark.parametrize("status", list(Status))
def test_every_status_waits_in_its_queue(status: Status) -> None:
    kind = (
        RequestType.EXCHANGE if status is Status.EXCHANGE_PENDING else RequestType.RETURN_AND_REFUND
    )
    assignment = assignment_for(request(status, kind))
    expected = QUEUES[status]
    assert (None if assignment is None else (assignment.queue, assignment.step)) == expected


def test_the_step_follows_what_the_request_still_waits_for() -> None:
    appealed = request(Status.PENDING_REVIEW, appealed=True)
    assert assignment_for(appealed).queue is Queue.CS_SENIOR  # type: ignore[union-attr]
    shipped = request(Status.AWAITING_RETURN)
    shipped.return_tracking_no = "SF1"
    assert assignment_for(shipped).step is Step.RECEIVE  # type: ignore[union-attr]
    large = request(Status.REFUND_PENDING)
    large.finance_approval_required = True
    assert assignment_for(large).step is Step.FINANCE_APPROVAL  # type: ignore[union-attr]
    large.finance_approved_by = "fin-2"
    assert assignment_for(large).step is Step.EXECUTE  # type: ignore[union-attr]
    large.auto_execute = True
    assert assignment_for(large).queue is Queue.SYSTEM  # type: ignore[union-attr]
