"""What the customer and the staff are told, and which facts trigger it.

Every notice is keyed by (request, notice, occurrence, channel, recipient): the database holds
at most one notification per key (a UNIQUE constraint), so an outbox event handled twice — a
retry after a crash, two workers — never yields a second message. ``occurrence`` says how
often a notice may happen for one request:

- ``once``: at most once per request whatever triggers it (received, refunded, exchange
  shipped, appeal received, the survey). "refunded" is triggered both by the request reaching
  ``refunded`` and by the payouts' ``refund.succeeded`` event; both share the key, so the
  customer hears it once, and only once the request is refunded (see ``Trigger.requires``).
- ``outbox:<id>``: once per outbox event, for notices that can repeat (an approval after an
  appeal or a failed inspection, a refund that fails twice).
- ``item:<id>``: once per work item (one apology per late step, however many timers fire).

Rules the mapping states:
- An approval or rejection by the policy happens only when the request is created; the
  "request received" notice carries that instant decision, so it is not told twice.
- An approval that needs the goods back is told as "please ship the goods" (it says approved).
- "refund failed" follows the request reaching ``refund_failed`` (finance acts next); a
  gateway failure that the payouts retry on their own (``refund.failed`` alone) is not told.
- A notice about a status change is told only while the request is still in that status
  when the worker gets to it: a worker that lagged tells where the request is now (the later
  change's notice), never an old next step or deadline ("please ship" after the parcel came).
- A staff step running late (``work_item.escalated``) brings the customer an apology and the
  staff channels an escalation; a reminder on the customer's own step (shipping the goods
  back) reminds the customer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Notice(StrEnum):
    REQUEST_RECEIVED = "request_received"
    APPROVED = "approved"
    REJECTED = "rejected"
    SHIP_GOODS = "ship_goods"
    PARCEL_RECEIVED = "parcel_received"
    INSPECTION_RESULT = "inspection_result"
    REFUNDED = "refunded"
    REFUND_FAILED = "refund_failed"
    EXCHANGE_SHIPPED = "exchange_shipped"
    APPEAL_RECEIVED = "appeal_received"
    SURVEY_INVITATION = "survey_invitation"
    SLA_DELAY = "sla_delay"
    LOGIN_CODE = "login_code"
    STAFF_ESCALATION = "staff_escalation"
    STAFF_COMPLAINT = "staff_complaint"


STAFF_NOTICES = frozenset({Notice.STAFF_ESCALATION, Notice.STAFF_COMPLAINT})


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    APP_PUSH = "app_push"  # a signed webhook to the merchant's app backend
    FCM = "fcm"
    WEB_PUSH = "webpush"
    STAFF = "staff"  # DingTalk, WeCom, Feishu, Slack… through apprise


CUSTOMER_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.APP_PUSH, Channel.FCM, Channel.WEB_PUSH)
PUSH_CHANNELS = frozenset({Channel.APP_PUSH, Channel.FCM, Channel.WEB_PUSH})
# push_subscriptions.kind → channel
SUBSCRIPTION_CHANNELS = {"app": Channel.APP_PUSH, "fcm": Channel.FCM, "webpush": Channel.WEB_PUSH}

ONCE = "once"


@dataclass(frozen=True, slots=True)
class Trigger:
    """A notice to plan for one request. ``requires``: send only if the request's stored
    status is this one when the trigger is handled (nothing is planned otherwise)."""

    notice: Notice
    request_id: int
    occurrence: str
    facts: dict[str, Any] = field(default_factory=dict)
    requires: str | None = None
    deferred: bool = False  # sent after the configured delay (the survey)

    @property
    def staff(self) -> bool:
        return self.notice in STAFF_NOTICES


def _request_id(payload: dict[str, Any], key: str) -> int | None:
    for value in (payload.get("request_id"), payload.get("id")):
        if isinstance(value, int):
            return value
    prefix, _, digits = key.partition(":")
    return int(digits) if prefix == "refund_request" and digits.isdigit() else None


def _refunded(request_id: int) -> list[Trigger]:
    return [
        Trigger(Notice.REFUNDED, request_id, ONCE, requires="refunded"),
        Trigger(Notice.SURVEY_INVITATION, request_id, ONCE, requires="refunded", deferred=True),
    ]


def _status_changed(rid: int, occurrence: str, payload: dict[str, Any]) -> list[Trigger]:
    to = payload.get("to_status")
    return [
        t if t.requires else Trigger(t.notice, rid, t.occurrence, t.facts, to, t.deferred)
        for t in _status_notices(rid, occurrence, payload)
    ]


def _status_notices(rid: int, occurrence: str, payload: dict[str, Any]) -> list[Trigger]:
    action = payload.get("action")
    to = payload.get("to_status")
    actor = payload.get("actor") or {}
    reason = payload.get("reason")
    by_policy = actor.get("kind") == "policy"
    if action == "approve" and not by_policy:
        notice = Notice.SHIP_GOODS if to == "awaiting_return" else Notice.APPROVED
        return [Trigger(notice, rid, occurrence, {"reason": reason})]
    if action == "reject" and not by_policy:
        return [Trigger(Notice.REJECTED, rid, occurrence, {"reason": reason})]
    if action == "receive":
        return [Trigger(Notice.PARCEL_RECEIVED, rid, occurrence)]
    if action == "inspect":
        passed = to != "pending_review"
        return [
            Trigger(Notice.INSPECTION_RESULT, rid, occurrence, {"passed": passed, "reason": reason})
        ]
    if to == "refunded":
        return _refunded(rid)
    if action == "mark-failed":
        return [Trigger(Notice.REFUND_FAILED, rid, occurrence, {"reason": reason})]
    if action == "ship-replacement":
        return [
            Trigger(Notice.EXCHANGE_SHIPPED, rid, ONCE),
            Trigger(Notice.SURVEY_INVITATION, rid, ONCE, deferred=True),
        ]
    if action == "appeal":
        return [Trigger(Notice.APPEAL_RECEIVED, rid, ONCE, {"reason": reason})]
    return []


def triggers_for(topic: str, key: str, payload: dict[str, Any], message_id: int) -> list[Trigger]:
    """The notices an outbox event calls for (none for topics nobody is told about)."""
    rid = _request_id(payload, key)
    if rid is None:
        return []
    occurrence = f"outbox:{message_id}"
    if topic == "refund_request.created":
        return [Trigger(Notice.REQUEST_RECEIVED, rid, ONCE)]
    if topic == "refund_request.status_changed":
        return _status_changed(rid, occurrence, payload)
    if topic == "refund.succeeded":
        return _refunded(rid)
    if topic == "work_item.escalated":
        if payload.get("queue") in ("customer", "system"):
            return []  # the customer's own step ran out; its rule acts (e.g. auto-cancel)
        item = f"item:{payload.get('work_item_id')}"
        facts = {"step": payload.get("step"), "due_at": payload.get("due_at")}
        return [
            Trigger(Notice.SLA_DELAY, rid, item, facts),
            Trigger(Notice.STAFF_ESCALATION, rid, item, {**facts, "queue": payload.get("queue")}),
        ]
    if topic == "work_item.reminder" and payload.get("audience") == "customer":
        if payload.get("step") != "ship_back":
            return []
        item = f"reminder:item:{payload.get('work_item_id')}"
        return [Trigger(Notice.SHIP_GOODS, rid, item, {"reminder": True})]
    if topic == "complaint.opened":
        facts = {k: payload.get(k) for k in ("complaint_id", "severity", "source")}
        return [
            Trigger(Notice.STAFF_COMPLAINT, rid, f"complaint:{payload.get('complaint_id')}", facts)
        ]
    return []
