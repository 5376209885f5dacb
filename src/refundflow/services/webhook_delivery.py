"""Delivering events to webhook subscribers.

Two steps, each safe to repeat:
1. ``fan_out`` is the outbox handler of every catalogued event: it writes one delivery per
   subscription that wants the event, with the envelope (id, type, version, created_at,
   data) frozen as bytes. A repeat writes nothing new (one delivery per subscription and
   event).
2. ``WebhookDispatcher.run_once`` leases due deliveries — only the first pending one of each
   (subscription, refund request) queue, so one request's events arrive in order — signs
   each with the subscription's active secrets, POSTs it, logs the attempt (status code,
   latency, response excerpt) and marks it delivered (2xx) or schedules the next attempt
   until 24 hours after the event; then it is failed until replayed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import orjson

from refundflow.domain.catalogue import CATALOGUE
from refundflow.domain.webhooks import (
    RETRY_WINDOW,
    SIGNATURE_HEADER,
    DeliveryStatus,
    Subscription,
    next_attempt,
    signature_header,
)
from refundflow.services.outbox import Handler, OutboxMessage
from refundflow.services.unit_of_work import UnitOfWorkFactory
from refundflow.services.webhook_records import AttemptRecord, ClaimedDelivery, NewDelivery

log = logging.getLogger("refundflow.webhooks")

LEASE = timedelta(seconds=120)


@dataclass(frozen=True, slots=True)
class SendResult:
    status_code: int | None
    latency_ms: int
    response_excerpt: str | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookSender(Protocol):
    """POSTs one delivery; never raises for what the receiver or the network did."""

    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult: ...


def event_id(outbox_id: int) -> str:
    return f"evt_{outbox_id}"


def envelope(message: OutboxMessage, created_at: datetime) -> str:
    event_type = CATALOGUE[message.topic]
    return orjson.dumps(
        {
            "id": event_id(message.id),
            "type": event_type.name,
            "version": event_type.version,
            "created_at": created_at.isoformat(),
            "data": message.payload,
        }
    ).decode()


def fan_out(uows: UnitOfWorkFactory) -> Handler:
    """The outbox handler that turns one event into deliveries for its subscribers."""

    def handle(message: OutboxMessage) -> None:
        if message.topic not in CATALOGUE:
            return
        with uows() as uow:
            wanting = [s for s in uow.webhooks.subscriptions() if s.wants(message.topic)]
            if wanting:
                now = uow.now()
                created_at = uow.webhooks.event_time(message.id) or now
                body = envelope(message, created_at)
                uow.webhooks.add_deliveries(
                    [
                        NewDelivery(
                            subscription_id=sub.id or 0,
                            event_id=event_id(message.id),
                            event_seq=message.id,
                            event_type=message.topic,
                            ordering_key=message.key,
                            body=body,
                            created_at=now,
                            expires_at=max(created_at, now) + RETRY_WINDOW,
                        )
                        for sub in wanting
                    ]
                )
            uow.commit()

    return handle


def with_fan_out(handlers: Mapping[str, Handler], uows: UnitOfWorkFactory) -> dict[str, Handler]:
    """``handlers`` plus webhook fan-out for every catalogued event type. Where a topic has
    its own handler, that runs first; the outbox retries both if either fails (both are
    idempotent)."""
    fan = fan_out(uows)
    combined = dict(handlers)
    for topic in CATALOGUE:
        own = handlers.get(topic)
        combined[topic] = fan if own is None else _both(own, fan)
    return combined


def _both(first: Handler, second: Handler) -> Handler:
    def handle(message: OutboxMessage) -> None:
        first(message)
        second(message)

    return handle


class WebhookDispatcher:
    """Sends due deliveries; any number may run side by side (leases, SKIP LOCKED)."""

    def __init__(
        self,
        uows: UnitOfWorkFactory,
        sender: WebhookSender,
        worker_id: str,
        *,
        batch: int = 20,
        parallel: int = 4,
    ) -> None:
        self.uows = uows
        self.sender = sender
        self.worker_id = worker_id
        self.batch = batch
        self.parallel = parallel

    def run_once(self) -> int:
        """Send one batch of due deliveries; return how many were leased."""
        with self.uows() as uow:
            now = uow.now()
            claimed = uow.webhooks.claim_due(self.worker_id, self.batch, now, now + LEASE)
            subscriptions = {
                d.subscription_id: uow.webhooks.subscription(d.subscription_id) for d in claimed
            }
            uow.commit()
        if not claimed:
            return 0
        jobs = [(d, subscriptions[d.subscription_id], now) for d in claimed]
        if len(jobs) == 1 or self.parallel <= 1:
            for job in jobs:
                self._deliver(*job)
        else:
            with ThreadPoolExecutor(min(self.parallel, len(jobs))) as pool:
                list(pool.map(lambda job: self._deliver(*job), jobs))
        return len(claimed)

    def _deliver(self, delivery: ClaimedDelivery, sub: Subscription | None, now: datetime) -> None:
        if sub is None:
            return
        body = delivery.body.encode()
        timestamp = int(now.timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "refundflow-webhooks/1",
            "X-Refundflow-Event": delivery.event_type,
            "X-Refundflow-Event-Id": delivery.event_id,
            "X-Refundflow-Delivery": str(delivery.id),
            SIGNATURE_HEADER: signature_header(sub.signing_secrets(now), timestamp, body),
        }
        result = self.sender.send(sub.url, body, headers)
        self._record(delivery, result, now)

    def _record(self, delivery: ClaimedDelivery, result: SendResult, started_at: datetime) -> None:
        with self.uows() as uow:
            now = uow.now()
            uow.webhooks.record_attempt(
                AttemptRecord(
                    delivery_id=delivery.id,
                    attempt=delivery.attempts,
                    started_at=started_at,
                    status_code=result.status_code,
                    latency_ms=result.latency_ms,
                    response_excerpt=result.response_excerpt,
                    error=result.error,
                    outcome="delivered" if result.ok else "failed",
                )
            )
            error = None if result.ok else (result.error or f"HTTP {result.status_code}")
            if result.ok:
                status, retry_at, delivered_at = DeliveryStatus.DELIVERED, None, now
            else:
                retry_at = next_attempt(delivery.attempts, now, delivery.expires_at)
                status = DeliveryStatus.PENDING if retry_at else DeliveryStatus.FAILED
                delivered_at = None
                log.info(
                    "webhook delivery %s attempt %s failed: %s",
                    delivery.id,
                    delivery.attempts,
                    error,
                )
            uow.webhooks.finish(
                delivery.id,
                status.value,
                next_attempt_at=retry_at,
                status_code=result.status_code,
                error=error,
                delivered_at=delivered_at,
            )
            uow.commit()
