"""Delivering notification rows: leased, sent outside any transaction, outcome recorded.

A worker leases due pending rows (SKIP LOCKED on PostgreSQL, so workers never take the same
row), sends each through its channel and records the provider's reference — or the error:
a retryable one comes back after a capped exponential backoff (``outbox.backoff``: 1 s, 2 s,
4 s… at most an hour, with jitter) until ``max_attempts``; a permanent one fails the row at
once (and a push subscription the provider calls gone is revoked). Only the worker that still
holds the lease may record an outcome. The lease (60 s) outlasts every channel's timeout, so
a slow provider is not sent the same row by a second worker; a worker that dies after the
provider accepted a message but before recording it leaves the row to be sent again when its
lease runs out — channels pass the notification id as their provider's idempotency key where
one exists (SMTP Message-ID, Alibaba OutId, Tencent SessionContext, webhook headers).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from refundflow.domain.notifications import PUSH_CHANNELS, Channel
from refundflow.services.notifications.config import Notifier
from refundflow.services.notifications.ports import (
    ChannelError,
    Message,
    PermanentChannelError,
    StoredNotification,
)
from refundflow.services.outbox import backoff
from refundflow.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger("refundflow.notifications")

LEASE = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Job:
    row: StoredNotification
    message: Message | None  # None: nowhere to send it any more (``problem`` says why)
    problem: str | None = None
    subscription_id: int | None = None


def _job(uow: UnitOfWork, notifier: Notifier, row: StoredNotification) -> Job:
    content = row.content
    to, keys, subscription_id = row.recipient, {}, None
    if row.channel in PUSH_CHANNELS:
        subscription_id = int(row.recipient.partition(":")[2])
        subscription = uow.notifications.subscription(subscription_id)
        if subscription is None:
            return Job(row, None, "the push subscription was revoked")
        to, keys = subscription.endpoint, dict(subscription.keys)
    elif row.channel is Channel.STAFF:
        key = row.recipient.partition(":")[2]
        staff = next((s for s in notifier.config.staff if s.key == key), None)
        if staff is None:
            return Job(row, None, "this staff channel is no longer configured")
        to = staff.url
    if row.channel not in notifier.channels:
        return Job(row, None, f"the {row.channel.value} channel is no longer configured")
    message = Message(
        id=row.id,
        channel=row.channel,
        to=to,
        subject=content.get("subject", ""),
        text=content.get("text", ""),
        html=content.get("html"),
        short=content.get("short", ""),
        sms_template=content.get("sms_template"),
        sms_params=[(str(k), str(v)) for k, v in content.get("sms_params", [])],
        data=dict(content.get("data", {})),
        keys=keys,
        language=row.language,
    )
    return Job(row, message, subscription_id=subscription_id)


def deliver_notifications(
    uows: UnitOfWorkFactory, notifier: Notifier, worker_id: str, *, limit: int = 20
) -> int:
    """Send up to ``limit`` due notifications; return how many were leased."""
    with uows() as uow:
        now = uow.now()
        rows = uow.notifications.claim(worker_id, limit, now, now + LEASE)
        jobs = [_job(uow, notifier, row) for row in rows]
        uow.commit()
    for job in jobs:
        _deliver(uows, notifier, worker_id, job, now)
    return len(jobs)


def _deliver(
    uows: UnitOfWorkFactory, notifier: Notifier, worker_id: str, job: Job, claimed_at: datetime
) -> None:
    row = job.row
    status, ref, error, retry = "sent", None, None, False
    gone = False
    if job.message is None:
        status, error = "failed", job.problem
    elif row.expires_at is not None and claimed_at >= row.expires_at:
        status, error = "expired", "expired before it could be sent"
    else:
        try:
            ref = notifier.channels[row.channel].send(job.message)
        except PermanentChannelError as exc:
            status, error, gone = "failed", f"{exc}", exc.gone
        except ChannelError as exc:
            status, error, retry = "pending", f"{exc}", True
        except Exception as exc:  # a bug or an unforeseen failure: retried, then given up
            log.exception("notification %s: %s failed unexpectedly", row.id, row.channel.value)
            status, error, retry = "pending", f"{type(exc).__name__}: {exc}", True
    if retry and row.attempts >= notifier.config.max_attempts:
        status, retry = "failed", False
        error = f"gave up after {row.attempts} attempts: {error}"
    with uows() as uow:
        now = uow.now()
        recorded = uow.notifications.finish(
            row.id,
            worker_id,
            status=status,
            at=now,
            provider_ref=ref,
            error=(error or "")[:1000] or None,
            retry_at=now + backoff(row.attempts) if retry else None,
            erase=row.sensitive and status != "pending",
        )
        if gone and job.subscription_id is not None:
            uow.notifications.revoke_subscription(job.subscription_id, now)
        uow.commit()
    if not recorded:
        log.warning(
            "notification %s: lease lost before its outcome (%s) was recorded", row.id, status
        )
