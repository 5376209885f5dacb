"""The unit of work on a SQL database: one connection, one transaction, all repositories."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from types import TracebackType

from sqlalchemy import Engine

from refundflow.adapters.db.history_repo import SqlHistoryRepository
from refundflow.adapters.db.integrations_repo import (
    SqlBulkOrdersRepository,
    SqlExportsRepository,
    SqlExternalRefsRepository,
)
from refundflow.adapters.db.misc_repos import (
    SqlCredentialsRepository,
    SqlIdempotencyRepository,
    SqlReasonsRepository,
)
from refundflow.adapters.db.orders_repo import SqlOrdersRepository
from refundflow.adapters.db.outbox_repo import SqlOutboxRepository
from refundflow.adapters.db.policies_repo import SqlPoliciesRepository
from refundflow.adapters.db.requests_repo import SqlRequestsRepository
from refundflow.adapters.db.sql import Sql
from refundflow.adapters.db.webhooks_repo import SqlWebhooksRepository

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class SqlUnitOfWork:
    sql: Sql
    orders: SqlOrdersRepository
    requests: SqlRequestsRepository
    idempotency: SqlIdempotencyRepository
    credentials: SqlCredentialsRepository
    reasons: SqlReasonsRepository
    outbox: SqlOutboxRepository
    policies: SqlPoliciesRepository
    history: SqlHistoryRepository
    external_refs: SqlExternalRefsRepository
    bulk_orders: SqlBulkOrdersRepository
    webhooks: SqlWebhooksRepository
    exports: SqlExportsRepository

    def __init__(self, engine: Engine, *, write: bool, clock: Clock, tz: tzinfo) -> None:
        self._engine = engine
        self._write = write
        self._clock = clock
        self.tz = tz

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
        self.external_refs = SqlExternalRefsRepository(sql)
        self.bulk_orders = SqlBulkOrdersRepository(sql)
        self.webhooks = SqlWebhooksRepository(sql)
        self.exports = SqlExportsRepository(sql)
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
        self.sql.commit()
        self._done = True

    def rollback(self) -> None:
        self.sql.rollback()
        self._done = True


class SqlUnitOfWorkFactory:
    """Opens units of work on one engine with one clock and shop time zone."""

    def __init__(self, engine: Engine, *, clock: Clock = utc_now, tz: tzinfo = UTC) -> None:
        self.engine = engine
        self.clock = clock
        self.tz = tz

    def __call__(self, *, write: bool = True) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, write=write, clock=self.clock, tz=self.tz)
