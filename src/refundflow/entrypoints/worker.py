"""The worker: delivers the outbox, fires timers, sends webhooks and notifications. Any
number may run at once."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import timedelta

from refundflow.adapters.webhooks.http_sender import HttpWebhookSender
from refundflow.domain.events import STATUS_CHANGED
from refundflow.entrypoints.bootstrap import Container
from refundflow.services import metrics, notifications
from refundflow.services.outbox import Handler, OutboxMessage, deliver_pending
from refundflow.services.payouts.automatic import execute_if_automatic
from refundflow.services.payouts.delivery import deliver_refund
from refundflow.services.payouts.execution import REFUND_DUE
from refundflow.services.timers import fire_due_timers
from refundflow.services.webhook_delivery import WebhookDispatcher, with_fan_out

log = logging.getLogger("refundflow.worker")


def _each(*handlers: Handler) -> Handler:
    """Several handlers for one topic, in order; the outbox retries the message if any
    fails, so each must be idempotent (they are)."""

    def handle(message: OutboxMessage) -> None:
        for handler in handlers:
            handler(message)

    return handle


def handlers_for(box: Container, worker_id: str = "worker") -> dict[str, Handler]:
    """The outbox topics this installation acts on. Topics without a handler are simply
    marked delivered (they exist for subscribers added later). Refunds due go to their
    gateway; a request reaching ``refund_pending`` is executed when its policy says so;
    lifecycle events become customer and staff notifications; every catalogued event is
    also offered to webhook subscribers (``with_fan_out``)."""
    settings = box.settings
    lease = timedelta(seconds=settings.worker_lease_seconds)

    def refund_due(message: OutboxMessage) -> None:
        deliver_refund(
            box.uows,
            box.gateways.routes,
            int(message.payload["refund_id"]),
            worker=worker_id,
            max_unknown=settings.payout_max_unknown_attempts,
            lease=lease,
        )

    def status_changed(message: OutboxMessage) -> None:
        execute_if_automatic(box.uows, message.payload, box.payout_options)

    def notify(message: OutboxMessage) -> None:
        notifications.on_outbox_message(box.uows, box.notifier, message)

    handlers: dict[str, Handler] = dict.fromkeys(notifications.TOPICS, notify)
    handlers[REFUND_DUE] = refund_due
    handlers[STATUS_CHANGED] = _each(status_changed, notify)
    return with_fan_out(handlers, box.uows)


class Worker:
    def __init__(self, box: Container, *, worker_id: str | None = None) -> None:
        self.box = box
        self.worker_id = (
            worker_id or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        )
        self.handlers = handlers_for(box, self.worker_id)
        self.webhooks = WebhookDispatcher(
            box.uows,
            HttpWebhookSender(timeout=box.settings.webhook_timeout_seconds),
            self.worker_id,
        )
        self._next_rollup = 0.0

    def run_once(self) -> int:
        settings = self.box.settings
        delivered = deliver_pending(
            self.box.uows,
            self.handlers,
            self.worker_id,
            lease=timedelta(seconds=settings.worker_lease_seconds),
            backoff_base=settings.worker_backoff_seconds,
            backoff_cap=settings.worker_backoff_cap_seconds,
        )
        delivered += fire_due_timers(self.box.uows, self.worker_id)
        delivered += self.webhooks.run_once()
        # The dashboard's rollups of the days that changed, every rollup_interval_seconds
        # (not counted as work claimed: the loop does not spin on it).
        if time.monotonic() >= self._next_rollup:
            self._next_rollup = time.monotonic() + settings.rollup_interval_seconds
            metrics.refresh_rollups(self.box.uows)
        return delivered + notifications.deliver_notifications(
            self.box.uows, self.box.notifier, self.worker_id
        )

    def run_forever(self, stop: threading.Event) -> None:
        log.info("worker %s started", self.worker_id)
        while not stop.is_set():
            try:
                claimed = self.run_once()
            except Exception:
                log.exception("worker pass failed; retrying")
                claimed = 0
            if not claimed:
                stop.wait(self.box.settings.worker_poll_seconds)
        log.info("worker %s stopped", self.worker_id)


def start_in_thread(box: Container) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(
        target=Worker(box).run_forever, args=(stop,), name="refundflow-worker", daemon=True
    )
    thread.start()
    return thread, stop
