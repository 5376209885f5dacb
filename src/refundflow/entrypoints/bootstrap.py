"""Wiring: settings in, the engine and the unit-of-work factory out."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from refundflow.adapters.crypto import load_cipher
from refundflow.adapters.db.checkpoint import WalCheckpointer
from refundflow.adapters.db.engine import make_engine, sqlite_path
from refundflow.adapters.db.uow import Clock, SqlUnitOfWorkFactory, utc_now
from refundflow.adapters.media import PhotoStore
from refundflow.entrypoints.settings import Settings

if TYPE_CHECKING:
    from refundflow.adapters.gateways import GatewayConfigs, Gateways
    from refundflow.services.notifications import Notifier
    from refundflow.services.payouts.execution import PayoutOptions


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

    @cached_property
    def gateways(self) -> Gateways:
        """The configured payment gateways (built on first use)."""
        from refundflow.adapters.gateways import build_gateways

        return build_gateways(gateway_configs(self.settings), self.uows)

    @cached_property
    def payout_options(self) -> PayoutOptions:
        from refundflow.domain.allocation import AllocationRule
        from refundflow.services.payouts.execution import PayoutOptions

        rule = AllocationRule.parse(
            self.settings.payout_allocation, self.settings.payout_method_order
        )
        return PayoutOptions(rule, self.settings.payout_key_prefix)

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
        SqlUnitOfWorkFactory(
            engine,
            clock=clock,
            tz=settings.tz,
            config=settings.shop_config(),
            cipher=load_cipher(settings.data_keys, settings.data_dir),
        ),
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


def gateway_configs(settings: Settings) -> GatewayConfigs:
    """The adapters' configs from REFUNDFLOW_ALIPAY_*, REFUNDFLOW_WECHATPAY_*,
    REFUNDFLOW_STRIPE_*; a gateway is configured when its credentials are all set."""
    from refundflow.adapters.gateways import GatewayConfigs
    from refundflow.adapters.gateways.config import AlipayConfig, StripeConfig, WechatPayConfig

    s = settings
    configs = GatewayConfigs()
    timeout = s.gateway_timeout_seconds
    if s.alipay_app_id and s.alipay_private_key and s.alipay_public_key:
        configs.alipay = AlipayConfig(
            s.alipay_app_id, s.alipay_private_key, s.alipay_public_key, s.alipay_base_url, timeout
        )
    wechat = (
        s.wechatpay_mchid,
        s.wechatpay_appid,
        s.wechatpay_private_key,
        s.wechatpay_cert_serial_no,
        s.wechatpay_apiv3_key,
        s.wechatpay_public_key,
        s.wechatpay_public_key_id,
    )
    if all(wechat):
        mchid, appid, key, serial, apiv3, public, public_id = (str(v) for v in wechat)
        configs.wechat_pay = WechatPayConfig(
            mchid,
            appid,
            key,
            serial,
            apiv3,
            public,
            public_id,
            s.wechatpay_base_url,
            s.wechatpay_notify_url,
            timeout,
        )
    if s.stripe_api_key:
        configs.stripe = StripeConfig(
            s.stripe_api_key, s.stripe_webhook_secret, s.stripe_base_url, timeout
        )
    return configs
