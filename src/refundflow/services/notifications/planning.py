"""From outbox events to notification rows: who is told what, on which channel.

The handler runs in the worker after the change committed. It reads the request's stored
document (what the customer sees at that moment), the customer's preferences and contacts
and push subscriptions, renders each notice once per language and channel, and inserts one
row per (request, notice, occurrence, channel, recipient) — a key the database keeps unique,
so running the handler again (a retry after a crash, a second worker) adds nothing. The
worker delivers the rows afterwards (``delivery.py``); nothing is sent from a web request.

Channels: email and SMS go to the customer's preferred contact (else the contact on their
orders), push to each of their active subscriptions (app, FCM, Web Push); a channel the
customer turned off, or that this installation has not configured, gets no row. A contact
that is not a valid email or mobile number gets a ``skipped`` row saying so, for support.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from refundflow.domain.errors import InvalidInputError
from refundflow.domain.notifications import (
    SUBSCRIPTION_CHANNELS,
    Channel,
    Notice,
    Trigger,
    triggers_for,
)
from refundflow.services.notifications.config import Notifier
from refundflow.services.notifications.contacts import normalise_email, normalise_phone
from refundflow.services.notifications.context import local_time, request_context
from refundflow.services.notifications.links import survey_link
from refundflow.services.notifications.ports import (
    NewNotification,
    Preferences,
    TemplateRenderError,
)
from refundflow.services.notifications.templates import render, template_for
from refundflow.services.outbox import OutboxMessage
from refundflow.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

# The outbox topics that can lead to a notice (worker.handlers_for maps them here).
TOPICS = (
    "refund_request.created",
    "refund_request.status_changed",
    "refund.succeeded",
    "work_item.escalated",
    "work_item.reminder",
    "complaint.opened",
)


def on_outbox_message(uows: UnitOfWorkFactory, notifier: Notifier, message: OutboxMessage) -> int:
    """Plan the notices an outbox event calls for; return how many new rows were stored."""
    triggers = triggers_for(message.topic, message.key, message.payload, message.id)
    if not triggers:
        return 0
    with uows() as uow:
        rows: list[NewNotification] = []
        for trigger in triggers:
            rows.extend(plan(uow, notifier, trigger))
        inserted = uow.notifications.add(rows, uow.now())
        uow.commit()
    return len(inserted)


def load_document(uow: UnitOfWork, request_id: int) -> dict[str, Any] | None:
    raw = uow.requests.document(request_id)
    return json.loads(raw) if raw is not None else None


def context_for(
    uow: UnitOfWork,
    notifier: Notifier,
    doc: Mapping[str, Any],
    language: str,
    facts: Mapping[str, Any],
) -> dict[str, Any]:
    order = uow.orders.get(doc["order_no"]) if doc.get("order_no") else None
    contact = uow.notifications.customer(doc["customer_id"]) if doc.get("customer_id") else None
    return request_context(
        doc,
        language=language,
        config=notifier.config,
        tz=uow.tz,
        customer_name=contact.name if contact else "",
        payment_methods=[p.method.value for p in order.payments] if order else [],
        facts=facts,
    )


def _targets(
    uow: UnitOfWork, notifier: Notifier, prefs: Preferences
) -> list[tuple[Channel, str, str | None]]:
    """(channel, recipient, why it is skipped) for each place the customer is told."""
    contact = uow.notifications.customer(prefs.customer_id)
    targets: list[tuple[Channel, str, str | None]] = []
    wanted = (
        (Channel.EMAIL, prefs.email, prefs.contact_email or (contact and contact.email)),
        (Channel.SMS, prefs.sms, prefs.contact_phone or (contact and contact.phone)),
    )
    for channel, allowed, raw in wanted:
        if not (allowed and raw and notifier.has(channel)):
            continue
        try:
            if channel is Channel.EMAIL:
                targets.append((channel, normalise_email(raw), None))
            else:
                targets.append((channel, normalise_phone(raw, mobile=True), None))
        except InvalidInputError as exc:
            targets.append((channel, raw[:254], exc.message))
    if prefs.push:
        for sub in uow.notifications.subscriptions(prefs.customer_id):
            push = SUBSCRIPTION_CHANNELS.get(sub.kind)
            if push is not None and notifier.has(push):
                targets.append((push, f"subscription:{sub.id}", None))
    return targets


def _facts(uow: UnitOfWork, notifier: Notifier, trigger: Trigger) -> dict[str, Any]:
    facts = dict(trigger.facts)
    if trigger.notice is Notice.SURVEY_INVITATION:
        config = notifier.config
        link, expires_at = survey_link(
            config.public_url, config.secret, trigger.request_id, uow.now(), config.survey_valid
        )
        facts["survey_link"] = link
        facts["survey_expires"] = local_time(expires_at, uow.tz)
    return facts


def plan(uow: UnitOfWork, notifier: Notifier, trigger: Trigger) -> list[NewNotification]:
    doc = load_document(uow, trigger.request_id)
    if doc is None:
        return []
    if trigger.requires is not None and doc.get("status") != trigger.requires:
        return []  # e.g. a refund record succeeded but the request is not refunded (yet)
    if trigger.notice is Notice.REQUEST_RECEIVED and doc.get("parent_id"):
        return []  # an exchange's price difference: the customer did not ask; "approved" tells
    now = uow.now()
    available_at = now + (notifier.config.survey_delay if trigger.deferred else timedelta(0))
    facts = _facts(uow, notifier, trigger)
    targets: list[tuple[Channel, str, str | None]]
    if trigger.staff:
        language = notifier.config.staff_language
        targets = [(Channel.STAFF, f"staff:{r.key}", None) for r in notifier.config.staff]
        targets = targets if notifier.has(Channel.STAFF) else []
        customer_id = None
    else:
        customer_id = doc["customer_id"]
        prefs = uow.notifications.preferences(customer_id) or Preferences(
            customer_id, language=doc.get("language") or "zh-CN"
        )
        language = prefs.language
        targets = _targets(uow, notifier, prefs)
    if not targets:
        return []
    template = template_for(uow, trigger.notice.value, language)
    context = context_for(uow, notifier, doc, language, facts)
    return [
        _row(
            notifier,
            trigger,
            customer_id,
            channel,
            recipient,
            language,
            skipped,
            now,
            available_at,
            template,
            context,
        )
        for channel, recipient, skipped in targets
    ]


def _row(
    notifier: Notifier,
    trigger: Trigger,
    customer_id: int | None,
    channel: Channel,
    recipient: str,
    language: str,
    skipped: str | None,
    now: datetime,
    available_at: datetime,
    template: Any,
    context: Mapping[str, Any],
) -> NewNotification:
    status, error, content = "pending", skipped, {}
    if skipped:
        status = "skipped"
    else:
        try:
            content = render(notifier, template, channel, context)
        except TemplateRenderError as exc:  # stored for support; nothing to send
            status, error = "failed", f"template {trigger.notice.value}/{language}: {exc}"
    return NewNotification(
        request_id=trigger.request_id,
        customer_id=customer_id,
        notice=trigger.notice.value,
        occurrence=trigger.occurrence,
        channel=channel,
        recipient=recipient,
        language=language,
        content=content,
        available_at=available_at if status == "pending" else now,
        status=status,
        last_error=error,
    )
