"""The unit of work on a SQL database: one connection, one transaction, all repositories."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from types import TracebackType

from sqlalchemy import Engine

from refundflow.adapters.crypto import DataCipher
from refundflow.adapters.db.audit_repo import SqlAuditRepository
from refundflow.adapters.db.care_repo import SqlCareRepository
from refundflow.adapters.db.gateway_events_repo import SqlGatewayEventsRepository
from refundflow.adapters.db.history_repo import SqlHistoryRepository
from refundflow.adapters.db.integrations_repo import (
    SqlBulkOrdersRepository,
    SqlExportsRepository,
    SqlExternalRefsRepository,
)
from refundflow.adapters.db.ledger_repo import SqlLedgerRepository
from refundflow.adapters.db.metrics_repo import SqlMetricsReader
from refundflow.adapters.db.misc_repos import (
    SqlCredentialsRepository,
    SqlIdempotencyRepository,
    SqlReasonsRepository,
)
from refundflow.adapters.db.notifications_repo import SqlNotificationsRepository
from refundflow.adapters.db.orders_repo import SqlOrdersRepository
from refundflow.adapters.db.outbox_repo import SqlOutboxRepository
from refundflow.adapters.db.policies_repo import SqlPoliciesRepository
from refundflow.adapters.db.portal_repo import SqlPortalRepository
from refundflow.adapters.db.privacy_repo import SqlPrivacyRepository
from refundflow.adapters.db.refunds_repo import SqlRefundsRepository
from refundflow.adapters.db.requests_repo import SqlRequestsRepository
from refundflow.adapters.db.sql import Sql
from refundflow.adapters.db.staff_repo import SqlStaffRepository
from refundflow.adapters.db.webhooks_repo import SqlWebhooksRepository
from refundflow.adapters.db.workflow_repo import SqlWorkflowRepository
from refundflow.adapters.holidays import ChinaWorkdays
from refundflow.domain.calendar import WorkdayData
from refundflow.services.config import ShopConfig

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class SqlUnitOfWork:
    config: ShopConfig
    workdays: WorkdayData
    sql: Sql
    orders: SqlOrdersRepository
    requests: SqlRequestsRepository
    idempotency: SqlIdempotencyRepository
    credentials: SqlCredentialsRepository
    reasons: SqlReasonsRepository
    outbox: SqlOutboxRepository
    policies: SqlPoliciesRepository
    history: SqlHistoryRepository
    workflow: SqlWorkflowRepository
    care: SqlCareRepository
    portal: SqlPortalRepository
    audit: SqlAuditRepository
    staff: SqlStaffRepository
    external_refs: SqlExternalRefsRepository
    bulk_orders: SqlBulkOrdersRepository
    webhooks: SqlWebhooksRepository
    exports: SqlExportsRepository
    notifications: SqlNotificationsRepository
    refunds: SqlRefundsRepository
    privacy: SqlPrivacyRepository
    ledger: SqlLedgerRepository
    gateway_events: SqlGatewayEventsRepository
    metrics: SqlMetricsReader

    def __init__(
        self,
        engine: Engine,
        *,
        write: bool,
        clock: Clock,
        tz: tzinfo,
        config: ShopConfig,
        workdays: WorkdayData,
        cipher: DataCipher | None = None,
    ) -> None:
        self._engine = engine
        self._cipher = cipher
        self.workdays = workdays
        self._write = write
        self._clock = clock
        self.tz = tz
        self.config = config

    def now(self) -> datetime:
        return self._clock()

    def __enter__(self) -> SqlUnitOfWork:
        self.sql = sql = Sql(self._engine)
        try:
            sql.begin(write=self._write)
        except BaseException:
            sql.close()
            raise
        self.orders = SqlOrdersRepository(sql)
        self.requests = SqlRequestsRepository(sql)
        self.idempotency = SqlIdempotencyRepository(sql)
        self.credentials = SqlCredentialsRepository(sql)
        self.reasons = SqlReasonsRepository(sql)
        self.outbox = SqlOutboxRepository(sql)
        self.policies = SqlPoliciesRepository(sql)
        self.history = SqlHistoryRepository(sql)
        self.workflow = SqlWorkflowRepository(sql)
        self.care = SqlCareRepository(sql)
        self.portal = SqlPortalRepository(sql)
        self.audit = SqlAuditRepository(sql)
        self.staff = SqlStaffRepository(sql)
        self.external_refs = SqlExternalRefsRepository(sql)
        self.bulk_orders = SqlBulkOrdersRepository(sql)
        self.webhooks = SqlWebhooksRepository(sql)
        self.exports = SqlExportsRepository(sql)
        self.notifications = SqlNotificationsRepository(sql)
        self.refunds = SqlRefundsRepository(sql, self._cipher)
        self.privacy = SqlPrivacyRepository(sql)
        self.ledger = SqlLedgerRepository(sql)
        self.gateway_events = SqlGatewayEventsRepository(sql)
        self.metrics = SqlMetricsReader(sql, self.tz)
        self._done = False
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._done:
                self.sql.rollback()
        finally:
            self.sql.close()

    def commit(self) -> None:
        self.audit.flush()
        self.sql.commit()
        self._done = True

    def rollback(self) -> None:
        self.sql.rollback()
        self._done = True


class SqlUnitOfWorkFactory:
    """Opens units of work on one engine with one clock and shop time zone."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock = utc_now,
        tz: tzinfo = UTC,
        config: ShopConfig | None = None,
        workdays: WorkdayData | None = None,
        cipher: DataCipher | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.tz = tz
        self.config = config or ShopConfig()
        self.workdays = workdays or ChinaWorkdays()
        self.cipher = cipher  # None: bank accounts can be neither written nor read

    def __call__(self, *, write: bool = True) -> SqlUnitOfWork:
        return SqlUnitOfWork(
            self.engine,
            write=write,
            clock=self.clock,
            tz=self.tz,
            config=self.config,
            workdays=self.workdays,
            cipher=self.cipher,
        )
