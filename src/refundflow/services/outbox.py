"""Delivering the outbox: what a committed transaction promised to tell or do outside.

Rows are claimed with a lease, handed to the handler of their topic, and marked delivered;
a failing handler's row comes back after a capped exponential backoff with jitter. A worker
that dies mid-delivery loses its lease and another worker takes the row again, so handlers
must be idempotent (they are keyed by the row id and the event's own keys).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from refundflow.services.unit_of_work import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: int
    topic: str
    key: str
    payload: dict[str, Any]
    attempts: int


Handler = Callable[[OutboxMessage], None]

LEASE = timedelta(seconds=60)
MAX_BACKOFF_SECONDS = 3600.0


def backoff(
    attempts: int,
    rng: random.Random | None = None,
    *,
    base: float = 1.0,
    cap: float = MAX_BACKOFF_SECONDS,
) -> timedelta:
    """base, 2×base, 4×base … capped (an hour by default), with ±20 % jitter so retries do
    not stampede."""
    delay = min(cap, base * 2.0 ** max(0, attempts - 1))
    jitter = (rng or random).uniform(0.8, 1.2)
    return timedelta(seconds=delay * jitter)


def deliver_pending(
    uows: UnitOfWorkFactory,
    handlers: Mapping[str, Handler],
    worker_id: str,
    *,
    limit: int = 50,
    lease: timedelta = LEASE,
    backoff_base: float = 1.0,
    backoff_cap: float = MAX_BACKOFF_SECONDS,
) -> int:
    """Deliver up to ``limit`` due messages; return how many were claimed.

    A handler that raises an error with a ``delay`` attribute (seconds, e.g. a gateway's
    "ask again in a minute") is brought back after that delay instead of the backoff."""
    with uows() as uow:
        now = uow.now()
        messages = uow.outbox.claim(worker_id, limit, now, now + lease)
        uow.commit()
    for message in messages:
        handler = handlers.get(message.topic)
        try:
            if handler is not None:
                handler(message)
        except Exception as exc:  # any failure: record it and retry later
            delay = getattr(exc, "delay", None)
            wait = (
                timedelta(seconds=float(delay))
                if delay
                else backoff(message.attempts, base=backoff_base, cap=backoff_cap)
            )
            with uows() as uow:
                uow.outbox.failed(
                    message.id, f"{type(exc).__name__}: {exc}"[:1000], uow.now() + wait
                )
                uow.commit()
            continue
        with uows() as uow:
            uow.outbox.delivered(message.id, uow.now())
            uow.commit()
    return len(messages)
