"""The ports the use cases talk to: a unit of work and the repositories it opens.

A unit of work is one database transaction. Writers take the write lock up front (SQLite
``BEGIN IMMEDIATE``); repositories lock the rows a balance check depends on (``FOR UPDATE``
on PostgreSQL). Leaving the ``with`` block without ``commit()`` rolls everything back, so a
refused action changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from refundflow.domain.balances import Holds
from refundflow.domain.calendar import WorkdayData
from refundflow.domain.care import Compensation, Complaint, Contact
from refundflow.domain.events import DomainEvent
from refundflow.domain.lifecycle import RequestType, Status
from refundflow.domain.orders import Order
from refundflow.domain.permissions import Role
from refundflow.domain.reasons import ReasonCode
from refundflow.domain.requests import RefundRequest, TimelineEvent
from refundflow.domain.sla import SlaRule
from refundflow.domain.workitems import Timer, WorkItem
from refundflow.services.config import ShopConfig

if TYPE_CHECKING:
    from refundflow.domain.ledger import LedgerAccount, LedgerEntry
    from refundflow.domain.money import Money
    from refundflow.domain.orders import Customer
    from refundflow.domain.payouts import RecordStatus, RefundRecord
    from refundflow.domain.webhooks import Subscription
    from refundflow.policy.history import CustomerHistory
    from refundflow.services.metrics import MetricsReader
    from refundflow.services.notifications.ports import NotificationsRepository
    from refundflow.services.outbox import OutboxMessage
    from refundflow.services.payouts.ports import PaymentFacts
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
class QueueFilter:
    type: str | None = None
    reason: str | None = None
    channel: str | None = None
    tier: str | None = None
    owner: str | None = None
    step: str | None = None
    min_amount_minor: int | None = None
    overdue_at: datetime | None = None  # only items due before this time


@dataclass(frozen=True, slots=True)
class QueueRow:
    item: WorkItem
    number: str
    type: str
    reason: str
    status: str
    currency: str
    amount_minor: int
    channel: str
    tier: str
    fast_track: bool


@dataclass(frozen=True, slots=True)
class StoredCode:
    id: int
    customer_id: int | None
    code_hash: str
    attempts: int


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

    def add(self, request: RefundRequest) -> None:
        """Insert a new request with its lines, new timeline events and domain events."""

    def get(self, request_id: int, *, lock: bool = False) -> RefundRequest | None: ...

    def get_by_number(self, number: str, *, lock: bool = False) -> RefundRequest | None: ...

    def save(self, request: RefundRequest) -> None:
        """Store the request's changes, its new timeline events and its domain events."""

    def put_document(self, request_id: int, view: dict[str, Any], *, new: bool) -> None:
        """Store the request's document: the JSON that reads serve."""

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

    def tokens(self) -> list[dict[str, Any]]:
        """Every token: id, name, role, created_at, last_used_at, revoked_at (no hashes)."""
        ...

    def revoke_token(self, token_id: int, at: datetime) -> bool:
        """Revoke a live token; False when there is no such live token."""
        ...

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

    def add(self, events: list[DomainEvent]) -> None:
        """Write events to the outbox in the current transaction."""


class PrivacyRepository(Protocol):
    """Erasing a customer's personal data (issue 9); see adapters/db/privacy_repo.py."""

    def customer_state(self, customer_id: int) -> str | None: ...

    def open_requests(self, customer_id: int, closed: list[str]) -> list[str]: ...

    def due_for_retention(self, cutoff: datetime, closed: list[str], limit: int) -> list[int]: ...

    def erase_customer(self, customer_id: int, at: datetime) -> dict[str, int]: ...


class RefundsRepository(Protocol):
    """Refund records (issue 5). ``lock`` holds the rows for the rest of the transaction."""

    def next_id(self) -> int: ...

    def rotate_accounts(self, after_id: int, limit: int) -> tuple[int | None, int, int]:
        """Re-encrypt stored bank accounts with the current data key, a batch at a time."""
        ...

    def get(self, record_id: int, *, lock: bool = False) -> RefundRecord | None: ...

    def by_key(self, key: str, *, lock: bool = False) -> RefundRecord | None: ...

    def by_reference(
        self, route: str, reference: str, *, lock: bool = False
    ) -> RefundRecord | None: ...

    def for_request(self, request_id: int, *, lock: bool = False) -> list[RefundRecord]: ...

    def for_order(self, order_id: int) -> list[RefundRecord]: ...

    def in_status(
        self, statuses: list[RecordStatus], route: str | None = None, limit: int = 500
    ) -> list[RefundRecord]: ...

    def completed_between(
        self, route: str, start: datetime, end: datetime
    ) -> list[RefundRecord]: ...

    def used_by_payment(self, order_id: int) -> dict[int, Money]:
        """Per payment id: the sum of the records that still hold it."""

    def payment_facts(self, record: RefundRecord) -> PaymentFacts: ...

    def add(self, record: RefundRecord) -> None: ...

    def save(self, record: RefundRecord) -> None: ...

    def start_attempt(self, record_id: int, kind: str, actor: str, at: datetime) -> int: ...

    def finish_attempt(self, attempt_id: int, outcome: str, detail: str, at: datetime) -> None: ...

    def count_outcomes(self, record_id: int, outcome: str) -> int: ...

    def attempts_of(self, record_id: int) -> list[dict[str, Any]]: ...

    def add_batch(
        self, currency: str, count: int, total_minor: int, body: str, by: str, at: datetime
    ) -> int: ...

    def batch_body(self, batch_id: int) -> str | None: ...

    def recent_batches(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest payout batches: id, currency, count, total_minor, created_by/at."""
        ...


class LedgerRepository(Protocol):
    def balance(
        self, customer_id: int, account: LedgerAccount, currency: str, *, lock: bool = False
    ) -> Money: ...

    def claim_refund_entry(self, entry: LedgerEntry) -> int | None:
        """Insert a refund's credit unless the record was credited before (then None)."""

    def add(self, entry: LedgerEntry) -> int: ...

    def set_balance(self, entry_id: int, entry: LedgerEntry) -> None: ...

    def entry_for_refund(self, refund_id: int) -> int | None: ...

    def entries(
        self, customer_id: int, account: LedgerAccount, limit: int = 200
    ) -> list[LedgerEntry]: ...

    def balances(self, customer_id: int, account: LedgerAccount) -> dict[str, Money]: ...

    def customer_exists(self, customer_id: int) -> bool: ...


class GatewayEventsRepository(Protocol):
    def claim(self, route: str, event_id: str, at: datetime) -> int | None:
        """Record a callback's event id; None when it was seen before."""

    def settle(self, event_row: int, refund_id: int | None, outcome: str, detail: str) -> None: ...

    def unmatched(self, limit: int = 200) -> list[dict[str, Any]]: ...

    def add_run(
        self,
        route: str,
        source: str,
        summary: dict[str, Any],
        items: list[dict[str, Any]],
        by: str,
        at: datetime,
    ) -> int: ...

    def recent_runs(self, limit: int = 10) -> list[dict[str, Any]]:
        """The newest reconciliation runs with their summaries."""
        ...


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


class WorkflowRepository(Protocol):
    def open_items(self, request_id: int) -> list[WorkItem]: ...

    def item(self, item_id: int, *, lock: bool = False) -> WorkItem | None: ...

    def add_item(self, item: WorkItem) -> None: ...

    def save_item(self, item: WorkItem) -> None: ...

    def queue(
        self,
        name: str,
        filters: QueueFilter,
        *,
        limit: int,
        after: tuple[datetime | None, int] | None,
    ) -> list[QueueRow]: ...

    def add_timers(self, timers: Iterable[Timer]) -> None: ...

    def cancel_timers(self, work_item_id: int, at: datetime) -> None: ...

    def due_timers(
        self, now: datetime, limit: int, worker: str, lease_until: datetime
    ) -> list[Timer]: ...

    def fire(self, timer_id: int, at: datetime) -> bool:
        """Mark the timer fired unless it fired or was cancelled already."""

    def sla_rules(self) -> list[SlaRule]: ...

    def replace_sla_rules(self, rules: Iterable[SlaRule], *, preset: str | None = None) -> None: ...

    def calendar_days(self) -> list[tuple[date, str, str]]: ...

    def replace_calendar_days(self, days: Iterable[tuple[date, str, str]]) -> None: ...


class CareRepository(Protocol):
    def add_complaint(self, complaint: Complaint) -> None: ...

    def complaint(self, complaint_id: int, *, lock: bool = False) -> Complaint | None: ...

    def save_complaint(self, complaint: Complaint) -> None: ...

    def complaints(
        self, request_id: int | None = None, state: str | None = None, limit: int = 200
    ) -> list[Complaint]: ...

    def has_complaint(self, request_id: int) -> bool: ...

    def open_complaint_for_customer(self, customer_id: int) -> bool: ...

    def add_contact(self, contact: Contact) -> int: ...

    def contacts(self, request_id: int) -> list[Contact]: ...

    def add_compensation(self, item: Compensation) -> int: ...

    def compensations(
        self, *, request_id: int | None = None, customer_id: int | None = None
    ) -> list[Compensation]: ...

    def compensation_total(self, since: datetime | None = None) -> dict[str, int]: ...

    def root_causes(self) -> list[ReasonCode]: ...

    def put_root_cause(self, tag: ReasonCode, position: int) -> None: ...


class PortalRepository(Protocol):
    def codes_since(self, identifier: str, since: datetime) -> int: ...

    def add_code(
        self,
        *,
        identifier: str,
        customer_id: int | None,
        order_id: int | None,
        code_hash: str,
        channel: str,
        at: datetime,
        expires_at: datetime,
    ) -> None: ...

    def latest_code(self, identifier: str, now: datetime) -> StoredCode | None: ...

    def count_attempt(self, code_id: int) -> None: ...

    def use_code(self, code_id: int, at: datetime) -> None: ...

    def add_session(
        self, token_hash: str, customer_id: int, at: datetime, expires_at: datetime
    ) -> None: ...

    def session(self, token_hash: str, now: datetime) -> tuple[int, str] | None: ...

    def revoke_session(self, token_hash: str, at: datetime) -> None: ...

    def add_survey(
        self,
        request_id: int,
        customer_id: int,
        csat: int,
        resolved: bool,
        comment: str | None,
        at: datetime,
    ) -> bool: ...

    def survey(self, request_id: int) -> dict[str, Any] | None: ...

    def add_upload(
        self,
        request_id: int | None,
        customer_id: int | None,
        path: str,
        content_type: str,
        size: int,
        sha256: str,
        at: datetime,
    ) -> int: ...

    def uploads(self, request_id: int) -> list[dict[str, Any]]: ...

    def upload(self, upload_id: int) -> dict[str, Any] | None: ...


@dataclass(frozen=True, slots=True)
class StaffUser:
    id: int
    email: str
    name: str
    role: Role
    password_hash: str
    active: bool
    failed_logins: int
    locked_until: datetime | None
    totp_secret: str | None
    totp_required: bool


@dataclass(frozen=True, slots=True)
class StaffSession:
    user: StaffUser
    second_factor: bool
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    stepped_up_at: datetime | None = None


class StaffRepository(Protocol):
    def step_up_session(self, token_hash: str, at: datetime) -> None: ...

    def user_by_email(self, email: str, *, lock: bool = False) -> StaffUser | None: ...

    def user(self, user_id: int, *, lock: bool = False) -> StaffUser | None: ...

    def users(self) -> list[StaffUser]: ...

    def record_failure(self, user_id: int, locked_until: datetime | None) -> None: ...

    def record_success(self, user_id: int) -> None: ...

    def set_role(self, user_id: int, role: Role) -> None: ...

    def set_active(self, user_id: int, active: bool, at: datetime) -> None: ...

    def set_totp(self, user_id: int, secret: str | None, required: bool) -> None: ...

    def add_session(
        self,
        token_hash: str,
        user_id: int,
        second_factor: bool,
        at: datetime,
        expires_at: datetime,
    ) -> None: ...

    def session(self, token_hash: str) -> StaffSession | None: ...

    def touch_session(self, token_hash: str, at: datetime) -> None: ...

    def pass_second_factor(self, token_hash: str) -> None: ...

    def revoke_session(self, token_hash: str, at: datetime) -> None: ...

    def revoke_user_sessions(self, user_id: int, at: datetime) -> None: ...


class AuditRepository(Protocol):
    def stage(self, at: datetime, actor: str, action: str, subject: str, detail: str) -> None:
        """Add a row to the chain when this unit of work commits."""

    def rows(self) -> Iterator[tuple[int, datetime, str, str, str, str, str, str]]: ...

    def recent(self, limit: int = 100) -> list[dict[str, Any]]: ...


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
    def workflow(self) -> WorkflowRepository: ...

    @property
    def workdays(self) -> WorkdayData: ...

    @property
    def care(self) -> CareRepository: ...

    @property
    def portal(self) -> PortalRepository: ...

    @property
    def audit(self) -> AuditRepository: ...

    @property
    def staff(self) -> StaffRepository: ...

    @property
    def external_refs(self) -> ExternalRefsRepository: ...

    @property
    def bulk_orders(self) -> BulkOrdersRepository: ...

    @property
    def webhooks(self) -> WebhooksRepository: ...

    @property
    def exports(self) -> ExportsRepository: ...

    @property
    def notifications(self) -> NotificationsRepository: ...

    @property
    def refunds(self) -> RefundsRepository: ...

    @property
    def privacy(self) -> PrivacyRepository: ...

    @property
    def ledger(self) -> LedgerRepository: ...

    @property
    def gateway_events(self) -> GatewayEventsRepository: ...

    @property
    def metrics(self) -> MetricsReader: ...

    @property
    def tz(self) -> tzinfo: ...

    @property
    def config(self) -> ShopConfig: ...

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
