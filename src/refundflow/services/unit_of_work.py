"""The ports the use cases talk to: a unit of work and the repositories it opens.

A unit of work is one database transaction. Writers take the write lock up front (SQLite
``BEGIN IMMEDIATE``); repositories lock the rows a balance check depends on (``FOR UPDATE``
on PostgreSQL). Leaving the ``with`` block without ``commit()`` rolls everything back, so a
refused action changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from refundflow.domain.balances import Holds
from refundflow.domain.lifecycle import RequestType, Status
from refundflow.domain.orders import Order
from refundflow.domain.permissions import Role
from refundflow.domain.reasons import ReasonCode
from refundflow.domain.requests import RefundRequest, TimelineEvent

if TYPE_CHECKING:
    from refundflow.domain.orders import Customer
    from refundflow.domain.webhooks import Subscription
    from refundflow.policy.history import CustomerHistory
    from refundflow.services.outbox import OutboxMessage
    from refundflow.services.webhook_records import (
        AttemptRecord,
        ClaimedDelivery,
        DeliveryRecord,
        NewDelivery,
    )


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A response saved under an Idempotency-Key, replayed for a retry of the same call."""

    fingerprint: str
    status_code: int | None
    body: str | None


@dataclass(frozen=True, slots=True)
class StoredPolicy:
    version: int
    status: str
    document: dict[str, Any]
    digest: str
    created_by: str | None
    created_at: datetime | None
    updated_at: datetime | None
    published_by: str | None
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class RequestFilter:
    status: Status | None = None
    type: RequestType | None = None
    q: str | None = None
    order_id: int | None = None
    customer_id: int | None = None


@dataclass(frozen=True, slots=True)
class TokenRecord:
    id: int
    name: str
    role: Role
    revoked: bool


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    email: str
    name: str
    role: Role
    password_hash: str
    active: bool


class OrdersRepository(Protocol):
    def get(self, order_no: str, *, lock: bool = False) -> Order | None: ...

    def get_by_id(self, order_id: int, *, lock: bool = False) -> Order | None: ...

    def add(self, order: Order) -> None:
        """Insert the order, its customer when new, lines and payments; set their ids."""

    def update(self, order: Order) -> None: ...

    def find_customer(self, email: str | None, phone: str | None) -> int | None: ...

    def any(self) -> bool: ...

    def get_by_prefix_exists(self, prefix: str) -> bool: ...

    def holds(self, order: Order) -> Holds:
        """What the order's live refund requests hold."""


class RequestsRepository(Protocol):
    def next_id(self) -> int: ...

    def add(self, request: RefundRequest, view: dict[str, Any]) -> None:
        """Insert a new request with its document (``view``), timeline and events."""

    def get(self, request_id: int, *, lock: bool = False) -> RefundRequest | None: ...

    def get_by_number(self, number: str, *, lock: bool = False) -> RefundRequest | None: ...

    def save(self, request: RefundRequest, view: dict[str, Any]) -> None:
        """Store the request's changes, its document (``view``), its new timeline events
        and its domain events."""

    def document(self, request_id: int | None = None, number: str | None = None) -> bytes | None:
        """The stored document (JSON) of a request, by id or number."""

    def timeline(self, request_id: int) -> list[TimelineEvent]: ...

    def search(
        self, filters: RequestFilter, *, before_id: int | None, limit: int
    ) -> list[RefundRequest]: ...

    def for_order(self, order_id: int) -> list[RefundRequest]: ...

    def customer_history(self, customer_id: int, *, exclude_id: int) -> CustomerHistory:
        """The customer's orders and other requests, for the policy's history facts."""


class IdempotencyRepository(Protocol):
    def claim(self, scope: str, key: str, fingerprint: str, at: datetime) -> StoredResponse | None:
        """Claim ``key`` for this call, or return what an earlier call with it stored.

        A concurrent call with the same key waits until the first one commits or rolls back.
        """

    def complete(self, scope: str, key: str, status_code: int, body: str) -> None: ...


class CredentialsRepository(Protocol):
    def add_token(self, name: str, role: Role, token_hash: str, at: datetime) -> int: ...

    def token_by_hash(self, token_hash: str) -> TokenRecord | None: ...

    def touch_token(self, token_id: int, at: datetime) -> None: ...

    def add_user(
        self, email: str, name: str, role: Role, password_hash: str, at: datetime
    ) -> int: ...

    def user_by_email(self, email: str) -> UserRecord | None: ...


class ReasonsRepository(Protocol):
    def all(self) -> list[ReasonCode]: ...

    def get(self, code: str) -> ReasonCode | None: ...

    def put(self, reason: ReasonCode, position: int) -> None: ...


class OutboxRepository(Protocol):
    def claim(
        self, worker_id: str, limit: int, now: datetime, lease_until: datetime
    ) -> list[OutboxMessage]:
        """Take up to ``limit`` due, unleased messages, oldest first, and lease them."""

    def delivered(self, message_id: int, at: datetime) -> None: ...

    def failed(self, message_id: int, error: str, retry_at: datetime) -> None: ...


class PoliciesRepository(Protocol):
    def published(self) -> tuple[int, str] | None:
        """The published version and the digest of its document."""

    def published_version(self) -> int | None: ...

    def get(self, version: int) -> StoredPolicy | None: ...

    def latest(self, status: str) -> StoredPolicy | None: ...

    def all(self) -> list[StoredPolicy]: ...

    def next_version(self) -> int: ...

    def lock(self) -> None:
        """Serialise writers of policies for the rest of the transaction."""

    def add_draft(self, version: int, document: dict[str, Any], by: str, at: datetime) -> None: ...

    def update_draft(
        self, version: int, document: dict[str, Any], by: str, at: datetime
    ) -> None: ...

    def publish(self, version: int, by: str, at: datetime) -> None:
        """Make ``version`` the published one and archive the one before."""

    def category_labels(self) -> dict[str, tuple[str, str]]:
        """Category code → (zh-CN label, en label)."""


class HistoryRepository(Protocol):
    """Stored history in one ordered pass (adapters/db/history_repo.py gives the columns)."""

    def requests_before(self, before: datetime) -> Iterator[tuple[Any, ...]]: ...

    def naive_time(self, value: Any) -> datetime | None:
        """A stored time as a naive UTC datetime (the pass compares naive times)."""

    def time_reader(self) -> Callable[[Any], datetime | None]:
        """The same conversion as a plain function, fastest for the database."""


class UnitOfWork(Protocol):
    @property
    def orders(self) -> OrdersRepository: ...

    @property
    def requests(self) -> RequestsRepository: ...

    @property
    def idempotency(self) -> IdempotencyRepository: ...

    @property
    def credentials(self) -> CredentialsRepository: ...

    @property
    def reasons(self) -> ReasonsRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def policies(self) -> PoliciesRepository: ...

    @property
    def history(self) -> HistoryRepository: ...

    @property
    def external_refs(self) -> ExternalRefsRepository: ...

    @property
    def bulk_orders(self) -> BulkOrdersRepository: ...

    @property
    def webhooks(self) -> WebhooksRepository: ...

    @property
    def exports(self) -> ExportsRepository: ...

    @property
    def tz(self) -> tzinfo: ...

    def now(self) -> datetime:
        """The current time, UTC-aware (tests control it)."""

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    """Opens units of work: ``write=False`` for reads (no write lock)."""

    def __call__(self, *, write: bool = True) -> UnitOfWork: ...


# ---------------------------------------------------------------- integrations
@dataclass(frozen=True, slots=True)
class ExternalRef:
    """A shop's order or refund and what it is here."""

    local_id: int
    source_updated_at: datetime | None


class ExternalRefsRepository(Protocol):
    def get(self, source: str, kind: str, external_id: str) -> ExternalRef | None: ...

    def put(
        self,
        source: str,
        kind: str,
        external_id: str,
        local_id: int,
        source_updated_at: datetime | None,
        at: datetime,
    ) -> None:
        """Insert or update the link."""


class BulkOrdersRepository(Protocol):
    """Orders in bulk (file imports, batches): set-wise reads, executemany writes."""

    def existing(self, order_nos: list[str]) -> dict[str, int]:
        """The ids of those orders that exist, by number."""

    def customers_by_contact(
        self, phones: list[str], emails: list[str]
    ) -> tuple[dict[str, int], dict[str, int]]:
        """Customer ids by phone and by e-mail; the oldest customer wins a shared contact."""

    def customers(self, ids: list[int]) -> dict[int, Customer]: ...

    def add_many(self, orders: list[Order]) -> None:
        """Insert new orders with their lines and payments; customers without an id are
        inserted first (one row per distinct Customer object) and get their ids."""

    def update_customers(self, customers: list[Customer], at: datetime) -> None: ...


class WebhooksRepository(Protocol):
    def add_subscription(self, subscription: Subscription, by: str | None) -> int: ...

    def subscription(self, subscription_id: int) -> Subscription | None: ...

    def subscriptions(self) -> list[Subscription]: ...

    def save_subscription(self, subscription: Subscription) -> None: ...

    def event_time(self, outbox_id: int) -> datetime | None:
        """When the outbox row of an event was written."""

    def add_deliveries(self, deliveries: list[NewDelivery]) -> None:
        """Insert deliveries; one already there for (subscription, event) is left alone."""

    def claim_due(
        self, worker_id: str, limit: int, now: datetime, lease_until: datetime
    ) -> list[ClaimedDelivery]:
        """Lease up to ``limit`` due deliveries that are first in their (subscription,
        ordering key) queue and whose earlier events have all been fanned out."""

    def record_attempt(self, attempt: AttemptRecord) -> None: ...

    def finish(
        self,
        delivery_id: int,
        status: str,
        *,
        next_attempt_at: datetime | None,
        status_code: int | None,
        error: str | None,
        delivered_at: datetime | None,
    ) -> None: ...

    def deliveries(
        self, subscription_id: int, *, status: str | None, before_id: int | None, limit: int
    ) -> list[DeliveryRecord]: ...

    def delivery(self, delivery_id: int, *, lock: bool = False) -> DeliveryRecord | None: ...

    def attempts(self, delivery_id: int) -> list[AttemptRecord]: ...

    def replay(self, delivery_id: int, now: datetime, expires_at: datetime) -> None: ...


class ExportsRepository(Protocol):
    def requests(self, start: datetime, end: datetime, by: str) -> Iterator[tuple[Any, ...]]:
        """Refund requests whose ``by`` time is in [start, end), oldest first: rows in
        ``services.exports.COLUMNS`` order, times as UTC-aware datetimes, money in minor
        units."""
