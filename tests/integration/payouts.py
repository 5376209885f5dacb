"""Helpers for payout tests: fake gateways wired into settings, orders paid by them, a worker
that drains the outbox under the test's clock, and reads of what the database holds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from refundflow.domain.actors import Actor, ActorKind
from refundflow.domain.lifecycle import Action
from refundflow.domain.permissions import Role
from refundflow.entrypoints.bootstrap import Container, bootstrap
from refundflow.entrypoints.settings import Settings
from refundflow.entrypoints.worker import Worker
from refundflow.services import intake, orders
from refundflow.services.actions import ActionInput, perform
from refundflow.services.clock import ManualClock
from tests.fakes.alipay import FakeAlipay
from tests.fakes.stripe_api import FakeStripe
from tests.fakes.wechat_pay import FakeWechatPay

CS = Actor(ActorKind.STAFF, Role.CS, "cs-1", "cs")
FINANCE = Actor(ActorKind.STAFF, Role.FINANCE, "fin-1", "finance")


@dataclass
class Fakes:
    alipay: FakeAlipay
    wechat: FakeWechatPay
    stripe: FakeStripe

    def env(self, timeout: float = 0.5) -> dict[str, str]:
        return {
            **self.alipay.settings_env(timeout),
            **self.wechat.settings_env(timeout),
            **self.stripe.settings_env(timeout),
        }

    def settings_fields(self, timeout: float = 0.5) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for name, value in self.env(timeout).items():
            fields[name.removeprefix("REFUNDFLOW_").lower()] = value
        return fields

    def all(self) -> list[Any]:
        return [self.alipay, self.wechat, self.stripe]


@contextmanager
def running_fakes() -> Iterator[Fakes]:
    with ExitStack() as stack:
        fakes = Fakes(FakeAlipay(), FakeWechatPay(), FakeStripe())
        for fake in fakes.all():
            stack.enter_context(fake.running())
        yield fakes


def payout_box(db_url: str, fakes: Fakes, clock: ManualClock, **extra: Any) -> Container:
    settings = Settings(
        database_url=db_url,
        environment="test",
        token_cache_seconds=0,
        **{**fakes.settings_fields(), **extra},
    )
    return bootstrap(settings, clock=clock.now)


def paid_order(
    box: Container,
    fakes: Fakes | None,
    order_no: str,
    payments: list[tuple[str, str]],
    *,
    price: str = "100.00",
    quantity: int = 1,
    currency: str = "CNY",
    phone: str | None = None,
) -> None:
    """An order of ``quantity`` units at ``price``, paid by ``payments`` [(method, amount)];
    each gateway payment is registered as a trade at its fake."""
    refs = []
    for i, (method, amount) in enumerate(payments):
        ref = f"{method[:2].upper()}-{order_no}-{i}"
        refs.append(orders.PaymentInput(method, amount, ref))
        if fakes is not None:
            minor = int(amount.replace(".", ""))
            fake = {
                "alipay": fakes.alipay,
                "wechat_pay": fakes.wechat,
                "stripe": fakes.stripe,
                "card": fakes.stripe,
            }.get(method)
            if fake is not None:
                fake.add_trade(ref, minor)
    orders.upsert_order(
        box.uows,
        orders.UpsertOrder(
            order_no=order_no,
            channel="own_site",
            currency=currency,
            customer=orders.CustomerInput(
                "王芳", None, phone or f"137{abs(hash(order_no)) % 10**8:08d}"
            ),
            lines=[orders.LineInput("SKU-1", "跑步鞋", quantity, price, "shoes")],
            payments=refs,
            placed_at=datetime(2026, 11, 20, tzinfo=UTC),
            delivered_at=datetime(2026, 11, 22, tzinfo=UTC),
        ),
    )


def approved_request(
    box: Container, order_no: str, quantity: int = 1, *, route: str = "original"
) -> int:
    """A refund-only request approved by customer service: ``refund_pending``."""
    submitted = intake.submit_refund_request(
        box.uows,
        intake.SubmitRefundRequest(
            order_no, "refund_only", "quality_issue", [("SKU-1", quantity)], refund_route=route
        ),
        CS,
    )
    rid = int(submitted.view["id"])
    if submitted.view["status"] == "pending_review":
        perform(box.uows, str(rid), Action.APPROVE, CS, ActionInput())
    return rid


def act(
    box: Container, rid: int, action: Action, actor: Actor = FINANCE, **data: Any
) -> dict[str, Any]:
    return perform(
        box.uows, str(rid), action, actor, ActionInput(**data), options=box.payout_options
    )


def drain(
    box: Container, clock: ManualClock, *, rounds: int = 30, step: timedelta = timedelta(hours=2)
) -> int:
    """Deliver the outbox until nothing is left (moving the clock past every backoff and
    lease); returns how many deliveries ran."""
    worker = Worker(box, worker_id="test-worker")
    done = 0
    for _ in range(rounds):
        claimed = worker.run_once()
        done += claimed
        if claimed:
            continue
        if pending_outbox(box) == 0:
            break
        clock.advance(step)
    return done


def pending_outbox(box: Container) -> int:
    with box.engine.connect() as conn:
        return int(
            conn.exec_driver_sql(
                "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL"
            ).scalar_one()
        )


def request_doc(box: Container, rid: int) -> dict[str, Any]:
    import orjson

    with box.uows(write=False) as uow:
        body = uow.requests.document(request_id=rid)
    assert body is not None
    return dict(orjson.loads(body))


def rows(box: Container, query: str) -> list[tuple[Any, ...]]:
    with box.engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(query).fetchall()]
