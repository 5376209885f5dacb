"""Wiring: settings in, the engine and the unit-of-work factory out."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from refundflow.adapters.db.checkpoint import WalCheckpointer
from refundflow.adapters.db.engine import make_engine, sqlite_path
from refundflow.adapters.db.uow import Clock, SqlUnitOfWorkFactory, utc_now
from refundflow.adapters.media import PhotoStore
from refundflow.entrypoints.settings import Settings

if TYPE_CHECKING:
    from refundflow.services.notifications import Notifier


@dataclass
class Container:
    """What a process needs, built once from settings; ``close()`` releases it."""

    settings: Settings
    engine: Engine
    uows: SqlUnitOfWorkFactory
    checkpointer: WalCheckpointer | None = None
    photos: PhotoStore = field(default_factory=lambda: PhotoStore("./media"))

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @cached_property
    def notifier(self) -> Notifier:
        """The notification channels and templates (built on first use; no I/O)."""
        from refundflow.entrypoints.notifier import build_notifier

        return build_notifier(self.settings)

    def close(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
            self.checkpointer = None
        self.engine.dispose()


def bootstrap(settings: Settings, *, clock: Clock = utc_now) -> Container:
    engine = make_engine(
        settings.database_url,
        busy_timeout_ms=settings.busy_timeout_ms,
        pool_size=settings.db_pool_size,
    )
    path = sqlite_path(engine)
    return Container(
        settings,
        engine,
        SqlUnitOfWorkFactory(engine, clock=clock, tz=settings.tz, config=settings.shop_config()),
        WalCheckpointer(path).start() if path else None,
        PhotoStore(settings.media_dir),
    )


def migrate(box: Container) -> None:
    """Bring the schema to head and publish the default policy on a fresh install."""
    from refundflow.adapters.db.migrate import upgrade
    from refundflow.policy.defaults import DEFAULT_POLICY
    from refundflow.services.notifications import ensure_default_templates
    from refundflow.services.policies import ensure_published
    from refundflow.services.sla_settings import ensure_default_rules

    upgrade(box.engine)
    ensure_published(box.uows, DEFAULT_POLICY, box.uows.clock())
    ensure_default_rules(box.uows)
    ensure_default_templates(box.uows)
