"""Demo data: a believable merchant's last 90 days, the same for the same seed.

Orders come from several channels with Chinese customers and products; about a third of them
get a refund request, driven through the real use cases (so every balance and timeline rule
holds) to every status, with times that follow each other as they would in a shop.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from refundflow.domain.actors import Actor, ActorKind
from refundflow.domain.errors import ConflictError
from refundflow.domain.lifecycle import Action, Status
from refundflow.domain.permissions import Role
from refundflow.services import actions, intake, orders
from refundflow.services.clock import ManualClock
from refundflow.services.unit_of_work import UnitOfWorkFactory

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁"
    "谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"
    "桂英华玉萍红鹏辉建宇浩宁晨欣怡子涵雨轩梓萱思远嘉豪佳琪"
)
PHONE_PREFIXES = [
    "138",
    "139",
    "137",
    "136",
    "135",
    "150",
    "151",
    "152",
    "158",
    "159",
    "186",
    "187",
    "188",
    "133",
    "153",
    "189",
    "180",
    "177",
    "176",
    "199",
]

# category: [(sku, name, price)]
CATALOGUE: dict[str, list[tuple[str, str, str]]] = {
    "apparel": [
        ("AP-TS-001", "纯棉圆领T恤 白色 L", "79.00"),
        ("AP-JK-014", "轻薄羽绒服 黑色 M", "499.00"),
        ("AP-DR-203", "碎花连衣裙 S", "259.00"),
        ("AP-JN-310", "直筒牛仔裤 32码", "199.00"),
    ],
    "shoes": [
        ("SH-RN-101", "缓震跑步鞋 42码", "429.00"),
        ("SH-CV-022", "帆布休闲鞋 38码", "139.00"),
    ],
    "electronics": [
        ("EL-EB-501", "蓝牙降噪耳机", "899.00"),
        ("EL-PB-120", "20000mAh 移动电源", "149.00"),
        ("EL-SW-330", "智能手表 运动版", "1299.00"),
        ("EL-CB-007", "Type-C 快充数据线", "29.90"),
    ],
    "home": [
        ("HM-PL-045", "记忆棉枕头", "169.00"),
        ("HM-CK-210", "不粘锅炒锅 30cm", "239.00"),
        ("HM-TW-003", "纯棉浴巾 两条装", "89.00"),
    ],
    "beauty": [
        ("BT-SR-880", "保湿精华液 30ml", "329.00"),
        ("BT-LP-112", "丝绒哑光口红", "199.00"),
    ],
    "food": [
        ("FD-TE-066", "西湖龙井 250g", "268.00"),
        ("FD-NT-019", "每日坚果 30袋", "119.00"),
    ],
}
CHANNELS = [
    ("tmall", "TM", 30),
    ("jd", "JD", 22),
    ("douyin", "DY", 18),
    ("own_site", "OS", 15),
    ("wechat_store", "WX", 15),
]
METHODS = {
    "tmall": ["alipay"],
    "jd": ["wechat_pay", "card", "alipay"],
    "douyin": ["alipay", "wechat_pay"],
    "own_site": ["alipay", "wechat_pay", "stripe", "card"],
    "wechat_store": ["wechat_pay"],
}
TIERS = [("standard", 60), ("silver", 22), ("gold", 12), ("vip", 6)]
REASONS_BY_TYPE = {
    "refund_only": [
        ("late_delivery", 3),
        ("missing_parts", 2),
        ("quality_issue", 2),
        ("other", 1),
        ("no_reason_7d", 2),
    ],
    "return_and_refund": [
        ("no_reason_7d", 5),
        ("quality_issue", 3),
        ("not_as_described", 2),
        ("wrong_item", 1),
        ("damaged_in_transit", 1),
    ],
    "exchange": [("wrong_item", 2), ("quality_issue", 2), ("not_as_described", 1)],
}
DESCRIPTIONS = {
    "no_reason_7d": "不太喜欢，想退掉",
    "quality_issue": "收到后发现有质量问题",
    "wrong_item": "颜色/尺码发错了",
    "damaged_in_transit": "包装破损，商品磕坏",
    "not_as_described": "和页面描述不一致",
    "missing_parts": "少发了配件",
    "late_delivery": "等了很久还没发货",
    "other": "个人原因",
}
CARRIERS = ["顺丰速运", "中通快递", "圆通速递", "京东物流", "韵达快递"]

T = TypeVar("T")

CS = Actor(ActorKind.STAFF, Role.CS, "demo-cs", "客服 小王")
WAREHOUSE = Actor(ActorKind.STAFF, Role.WAREHOUSE, "demo-wh", "仓库 老李")
FINANCE = Actor(ActorKind.STAFF, Role.FINANCE, "demo-fin", "财务 陈会计")

# The status each request ends in, with weights: every status appears.
TARGETS: list[tuple[Status, int]] = [
    (Status.REFUNDED, 38),
    (Status.PENDING_REVIEW, 10),
    (Status.AWAITING_RETURN, 8),
    (Status.RECEIVED, 4),
    (Status.REFUND_PENDING, 6),
    (Status.REFUNDING, 3),
    (Status.REFUND_FAILED, 3),
    (Status.REJECTED, 8),
    (Status.CANCELLED, 7),
    (Status.EXCHANGE_PENDING, 3),
    (Status.EXCHANGED, 5),
]


@dataclass(frozen=True, slots=True)
class DemoResult:
    orders: int
    requests: int
    by_status: dict[str, int]


def _pick(rng: random.Random, weighted: list[tuple[T, int]]) -> T:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


def demo_order_prefix(seed: int) -> str:
    return f"D{seed % 1000:03d}"


def has_orders(uows: UnitOfWorkFactory) -> bool:
    with uows(write=False) as uow:
        return uow.orders.any()


def demo_loaded(uows: UnitOfWorkFactory, seed: int) -> bool:
    with uows(write=False) as uow:
        return uow.orders.get_by_prefix_exists(demo_order_prefix(seed))


def _customer_pool(rng: random.Random, size: int) -> list[orders.CustomerInput]:
    pool = []
    for i in range(size):
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        phone = rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        email = f"user{i:05d}_{rng.randrange(1000):03d}@example.cn" if rng.random() < 0.7 else None
        pool.append(orders.CustomerInput(name, email, phone, str(_pick(rng, TIERS))))
    return pool


@dataclass(slots=True)
class _Story:
    """One refund request being played out: where it is and where it is meant to end."""

    ref: str
    target: Status
    status: Status
    customer: Actor
    appeal: bool
    view: dict[str, Any]


def seed_demo(
    uows: UnitOfWorkFactory,
    clock: ManualClock,
    *,
    orders_count: int = 2000,
    seed: int = 7,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> DemoResult:
    """Write ``orders_count`` orders and about a third as many refund requests.

    Everything happens in time order across the whole shop (orders, requests and every
    staff action are events on one clock), so each request is decided with exactly the
    history that existed at its moment, as it would have been live.
    """
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    end = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    start = end - timedelta(days=90)
    prefix = demo_order_prefix(seed)
    customers = _customer_pool(rng, max(50, orders_count // 3))
    placed_times = sorted(
        start + timedelta(seconds=rng.randrange(90 * 86400 - 3600)) for _ in range(orders_count)
    )
    events: list[tuple[datetime, int, Callable[[], None]]] = []
    counter = iter(range(10**9))
    stories: list[_Story] = []
    done_orders = 0

    def schedule(at: datetime, action: Callable[[], None]) -> None:
        heapq.heappush(events, (at, next(counter), action))

    def place(n: int, placed: datetime) -> None:
        nonlocal done_orders
        cmd = _order(rng, customers, prefix, seed, n, placed, end)
        assert cmd.paid_at is not None
        clock.set(cmd.paid_at)
        orders.upsert_order(uows, cmd)
        done_orders += 1
        if progress is not None:
            progress(done_orders)
        if rng.random() < 0.33:
            planned = _plan_request(rng, cmd, end)
            if planned is not None:
                at, submit = planned
                schedule(at, lambda: _submit(uows, clock, rng, at, submit, end, stories, schedule))

    for n, placed in enumerate(placed_times):
        paid = placed + timedelta(minutes=1)
        schedule(paid, lambda n=n, placed=placed: place(n, placed))  # type: ignore[misc]
    while events:
        _, _, action = heapq.heappop(events)
        action()
    by_status: dict[str, int] = {}
    for story in stories:
        by_status[story.status.value] = by_status.get(story.status.value, 0) + 1
    return DemoResult(orders_count, len(stories), by_status)


def _order(
    rng: random.Random,
    customers: list[orders.CustomerInput],
    prefix: str,
    seed: int,
    n: int,
    placed: datetime,
    end: datetime,
) -> orders.UpsertOrder:
    channel, code, _ = rng.choices(CHANNELS, weights=[c[2] for c in CHANNELS])[0]
    paid = placed + timedelta(minutes=rng.randrange(1, 30))
    shipped = paid + timedelta(hours=rng.randrange(4, 60))
    delivered = shipped + timedelta(hours=rng.randrange(20, 96))
    shipped_at = shipped if shipped < end else None
    delivered_at = delivered if delivered < end and shipped_at else None
    lines = []
    for category in rng.sample(list(CATALOGUE), rng.choice((1, 1, 1, 2, 2, 3))):
        sku, name, price = rng.choice(CATALOGUE[category])
        quantity = rng.choice((1, 1, 1, 2, 3))
        discount = "0" if rng.random() < 0.7 else f"{rng.choice((5, 10, 20))}.00"
        lines.append(orders.LineInput(sku, name, quantity, price, category, discount))
    cmd = orders.UpsertOrder(
        order_no=f"{code}{prefix}{placed:%Y%m%d}{n:05d}",
        channel=channel,
        currency="CNY",
        customer=rng.choice(customers),
        lines=lines,
        placed_at=placed,
        payments=[],
        shipping_fee=rng.choice(("0.00", "0.00", "8.00", "12.00")),
        paid_at=paid,
        shipped_at=shipped_at,
        delivered_at=delivered_at,
    )
    method = rng.choice(METHODS[channel])
    total = orders.build_order(cmd).total
    payment = orders.PaymentInput(method, total.text(), f"{method.upper()}-{seed}-{n:06d}")
    return replace(cmd, payments=[payment])


def _plan_request(
    rng: random.Random, order: orders.UpsertOrder, end: datetime
) -> tuple[datetime, tuple[Status, intake.SubmitRefundRequest, Actor]] | None:
    """When a refund request is made on ``order``, what it asks and where it should end."""
    target: Status = _pick(rng, TARGETS)
    delivered = order.delivered_at
    if delivered is None:
        request_type = "refund_only"
        if target in (
            Status.AWAITING_RETURN,
            Status.RECEIVED,
            Status.EXCHANGE_PENDING,
            Status.EXCHANGED,
        ):
            target = Status.REFUND_PENDING
        at = (order.paid_at or order.placed_at) + timedelta(hours=rng.randrange(1, 20))
    else:
        if target in (Status.EXCHANGE_PENDING, Status.EXCHANGED):
            request_type = "exchange"
        elif target in (Status.AWAITING_RETURN, Status.RECEIVED):
            request_type = "return_and_refund"
        else:
            request_type = str(
                _pick(rng, [("return_and_refund", 6), ("refund_only", 3), ("exchange", 1)])
            )
            if request_type == "exchange" and target not in (
                Status.REJECTED,
                Status.CANCELLED,
                Status.PENDING_REVIEW,
            ):
                request_type = "return_and_refund"
        at = delivered + timedelta(hours=rng.randrange(2, 140))
    if at >= end - timedelta(hours=1):
        return None
    reason = str(_pick(rng, REASONS_BY_TYPE[request_type]))
    line = rng.choice(order.lines)
    customer = Actor(ActorKind.CUSTOMER, Role.CUSTOMER, None, order.customer.name)
    intake_channel = str(_pick(rng, [("portal", 6), ("hotline", 2), ("chat", 2), ("api", 1)]))
    submitter = customer if intake_channel == "portal" else CS
    cmd = intake.SubmitRefundRequest(
        order_no=order.order_no,
        type=request_type,
        reason=reason,
        lines=[(line.sku, rng.randint(1, line.quantity))],
        description=DESCRIPTIONS[reason],
        include_shipping=request_type == "refund_only" and delivered is None,
        refund_route=str(_pick(rng, [("original", 8), ("store_credit", 1), ("bank_transfer", 1)])),
        intake_channel=intake_channel,
    )
    return at, (target, cmd, submitter if submitter is CS else customer)


STAFF_FOR = {
    Action.APPROVE: CS,
    Action.REJECT: CS,
    Action.RECEIVE: WAREHOUSE,
    Action.INSPECT: WAREHOUSE,
    Action.SHIP_REPLACEMENT: WAREHOUSE,
    Action.EXECUTE: FINANCE,
    Action.FINANCE_APPROVE: FINANCE,
    Action.MARK_REFUNDED: FINANCE,
    Action.MARK_FAILED: FINANCE,
}
CUSTOMER_ACTS = {Action.CANCEL, Action.RETURN_SHIPMENT, Action.APPEAL}
HOURS = {
    Action.APPROVE: (1, 30),
    Action.REJECT: (1, 30),
    Action.CANCEL: (0, 24),
    Action.RETURN_SHIPMENT: (2, 48),
    Action.RECEIVE: (24, 96),
    Action.INSPECT: (1, 24),
    Action.SHIP_REPLACEMENT: (4, 48),
    Action.EXECUTE: (1, 24),
    Action.FINANCE_APPROVE: (1, 8),
    Action.MARK_REFUNDED: (0, 3),
    Action.MARK_FAILED: (0, 2),
    Action.APPEAL: (1, 30),
}
PAYLOADS: dict[Action, dict[str, Any]] = {
    Action.REJECT: {"reason": "商品已使用，影响二次销售"},
    Action.CANCEL: {"reason": "已和商家协商解决"},
    Action.RECEIVE: {"note": "已签收"},
    Action.INSPECT: {"result": "pass", "note": "外观完好，可二次销售"},
    Action.MARK_FAILED: {"reason": "银行卡状态异常，退款被退回"},
    Action.APPEAL: {"reason": "商品确实有问题，请再看看"},
}


def _submit(
    uows: UnitOfWorkFactory,
    clock: ManualClock,
    rng: random.Random,
    at: datetime,
    planned: tuple[Status, intake.SubmitRefundRequest, Actor],
    end: datetime,
    stories: list[_Story],
    schedule: Callable[[datetime, Callable[[], None]], None],
) -> None:
    target, cmd, submitter = planned
    clock.set(at)
    if submitter.kind is ActorKind.CUSTOMER:  # signed in to the portal as the order's owner
        with uows(write=False) as uow:
            order = uow.orders.get(cmd.order_no)
        assert order is not None
        submitter = Actor(ActorKind.CUSTOMER, Role.CUSTOMER, str(order.customer.id), submitter.name)
    try:
        submitted = intake.submit_refund_request(uows, cmd, submitter)
    except ConflictError:
        return
    # The customer acts on their own request later (cancel, ship back, appeal): as the
    # owner, exactly as a portal session would.
    customer = Actor(
        ActorKind.CUSTOMER,
        Role.CUSTOMER,
        str(submitted.view["customer_id"]),
        submitter.name if submitter.kind is ActorKind.CUSTOMER else "customer",
    )
    story = _Story(
        ref=str(submitted.view["id"]),
        target=target,
        status=Status(submitted.view["status"]),
        customer=customer,
        appeal=target is Status.PENDING_REVIEW and rng.random() < 0.2,
        view=submitted.view,
    )
    stories.append(story)
    _schedule_next(uows, clock, rng, story, at, end, schedule)


def _schedule_next(
    uows: UnitOfWorkFactory,
    clock: ManualClock,
    rng: random.Random,
    story: _Story,
    now: datetime,
    end: datetime,
    schedule: Callable[[datetime, Callable[[], None]], None],
) -> None:
    view = story.view
    awaits_finance = bool(
        view["finance_approval"] and view["finance_approval"]["approved_by"] is None
    )
    shipped = view["return_shipment"] is not None
    action = _next_action(story.status, story.target, story.appeal, shipped, awaits_finance)
    if action is None:
        return
    low, high = HOURS[action]
    at = now + timedelta(minutes=rng.randrange(low * 60, high * 60 + 1))
    if at >= end:
        return
    payload = dict(PAYLOADS.get(action, {}))
    if action is Action.RETURN_SHIPMENT:
        payload = {
            "carrier": rng.choice(CARRIERS),
            "tracking_no": f"SF{rng.randrange(10**12):012d}",
        }
    elif action is Action.SHIP_REPLACEMENT:
        payload = {
            "carrier": rng.choice(CARRIERS),
            "tracking_no": f"YT{rng.randrange(10**12):012d}",
        }
    elif action is Action.MARK_REFUNDED:
        payload = {"reference": f"RFD{rng.randrange(10**10):010d}"}

    def act() -> None:
        if action is Action.APPEAL:
            story.appeal = False
        clock.set(at)
        actor = story.customer if action in CUSTOMER_ACTS else STAFF_FOR[action]
        try:
            story.view = actions.perform(
                uows, story.ref, action, actor, actions.ActionInput(**payload)
            )
        except ConflictError:
            return  # a timer or another step moved it meanwhile: its story ends here
        story.status = Status(story.view["status"])
        _schedule_next(uows, clock, rng, story, at, end, schedule)

    schedule(at, act)


def _next_action(
    status: Status, target: Status, appeal: bool, shipped: bool, awaits_finance: bool = False
) -> Action | None:
    """The next step from ``status`` towards ``target`` (None: stop here). Where the policy
    already took the request past the target's branch, it goes on to the natural end."""
    if status is target and not (appeal and status is Status.PENDING_REVIEW):
        return None
    if status is Status.PENDING_REVIEW:
        if appeal or target is Status.REJECTED:
            return Action.REJECT
        return Action.CANCEL if target is Status.CANCELLED else Action.APPROVE
    if status is Status.REJECTED:
        return Action.APPEAL if appeal else None
    if target is Status.CANCELLED and status in (Status.AWAITING_RETURN, Status.REFUND_PENDING):
        return Action.CANCEL
    if status is Status.AWAITING_RETURN:
        if not shipped:
            return Action.RETURN_SHIPMENT
        return None if target is Status.AWAITING_RETURN else Action.RECEIVE
    if status is Status.REFUND_PENDING and awaits_finance:
        return Action.FINANCE_APPROVE
    moves = {
        Status.RECEIVED: Action.INSPECT,
        Status.REFUND_PENDING: Action.EXECUTE,
        Status.EXCHANGE_PENDING: Action.SHIP_REPLACEMENT,
        Status.REFUNDING: Action.MARK_FAILED
        if target is Status.REFUND_FAILED
        else Action.MARK_REFUNDED,
    }
    return moves.get(status)
