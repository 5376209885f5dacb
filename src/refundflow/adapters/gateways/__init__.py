"""Payment gateways behind the ``PaymentGateway`` port (services/payouts/ports.py): one
adapter per route, plus callback verification and statement parsing for the three that
have them. ``build_gateways`` wires the configured ones; an unconfigured route has none
(its records wait, with a clear error, until it is configured)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from refundflow.adapters.gateways.config import AlipayConfig, StripeConfig, WechatPayConfig
from refundflow.adapters.gateways.internal import BankTransferGateway, LedgerGateway
from refundflow.domain.payouts import PayoutRoute
from refundflow.services.payouts.ports import CallbackEvent, PaymentGateway
from refundflow.services.unit_of_work import UnitOfWorkFactory


class CallbackGateway(PaymentGateway, Protocol):
    def parse_callback(self, headers: dict[str, str], body: bytes) -> CallbackEvent: ...

    @staticmethod
    def callback_answer(ok: bool) -> tuple[int, str, bytes]: ...


@dataclass
class GatewayConfigs:
    alipay: AlipayConfig | None = None
    wechat_pay: WechatPayConfig | None = None
    stripe: StripeConfig | None = None


@dataclass
class Gateways:
    routes: dict[PayoutRoute, PaymentGateway] = field(default_factory=dict)
    callbacks: dict[PayoutRoute, CallbackGateway] = field(default_factory=dict)


def build_gateways(configs: GatewayConfigs, uows: UnitOfWorkFactory) -> Gateways:
    gateways = Gateways()
    gateways.routes[PayoutRoute.BANK_TRANSFER] = BankTransferGateway()
    for route in (PayoutRoute.STORE_CREDIT, PayoutRoute.E_WALLET):
        gateways.routes[route] = LedgerGateway(uows, route)
    if configs.alipay is not None:
        from refundflow.adapters.gateways.alipay import AlipayGateway

        alipay = AlipayGateway(configs.alipay)
        gateways.routes[PayoutRoute.ALIPAY] = gateways.callbacks[PayoutRoute.ALIPAY] = alipay
    if configs.wechat_pay is not None:
        from refundflow.adapters.gateways.wechat_pay import WechatPayGateway

        wechat = WechatPayGateway(configs.wechat_pay)
        gateways.routes[PayoutRoute.WECHAT_PAY] = wechat
        gateways.callbacks[PayoutRoute.WECHAT_PAY] = wechat
    if configs.stripe is not None:
        from refundflow.adapters.gateways.stripe_api import StripeGateway

        stripe_gateway = StripeGateway(configs.stripe)
        gateways.routes[PayoutRoute.STRIPE] = stripe_gateway
        gateways.callbacks[PayoutRoute.STRIPE] = stripe_gateway
    return gateways
