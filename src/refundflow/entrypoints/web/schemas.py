"""Request and response shapes of the REST API (``…Create`` in, ``…Public`` out).

Amounts travel as decimal strings (``"129.00"``). A JSON number is refused with a message
that says so: a float cannot carry money exactly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt

from refundflow.domain.lifecycle import Action, RequestType, Status
from refundflow.domain.orders import PaymentMethod, Tier
from refundflow.domain.requests import IntakeChannel, RefundRoute


def _decimal_string(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError('send amounts as decimal strings such as "129.00", not JSON numbers')
    return value


DecimalString = Annotated[
    str,
    BeforeValidator(_decimal_string),
    Field(pattern=r"^\s*-?\d{1,15}(\.\d{1,4})?\s*$", examples=["129.00"]),
]
Quantity = Annotated[StrictInt, Field(ge=1, le=1_000_000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomerCreate(Strict):
    name: str = Field(min_length=1, max_length=100, examples=["张伟"])
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=32, examples=["13800138000"])
    tier: Tier = Tier.STANDARD


class OrderLineCreate(Strict):
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    category: str = Field("general", min_length=1, max_length=64)
    quantity: Quantity
    unit_price: DecimalString
    discount: DecimalString = "0"


class PaymentCreate(Strict):
    method: PaymentMethod
    amount: DecimalString
    reference: str | None = Field(None, max_length=128)


class OrderCreate(Strict):
    order_no: str = Field(min_length=1, max_length=64, examples=["TM20261126001"])
    channel: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$", examples=["own_site", "tmall"])
    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["CNY"])
    placed_at: AwareDatetime
    paid_at: AwareDatetime | None = None
    shipped_at: AwareDatetime | None = None
    delivered_at: AwareDatetime | None = None
    customer: CustomerCreate
    lines: list[OrderLineCreate] = Field(min_length=1, max_length=500)
    shipping_fee: DecimalString = "0"
    payments: list[PaymentCreate] = Field(default_factory=list, max_length=20)


class CustomerPublic(BaseModel):
    id: int
    name: str
    email: str | None
    phone: str | None
    tier: Tier


class OrderLinePublic(BaseModel):
    sku: str
    name: str
    category: str
    quantity: int
    unit_price: str
    discount: str
    net: str
    refundable_quantity: int
    refundable_amount: str


class PaymentPublic(BaseModel):
    method: PaymentMethod
    amount: str
    reference: str | None


class RefundablePublic(BaseModel):
    amount: str
    shipping: str


class OrderPublic(BaseModel):
    order_no: str
    channel: str
    currency: str
    status: Literal["unshipped", "shipped", "delivered"]
    placed_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    customer: CustomerPublic
    lines: list[OrderLinePublic]
    payments: list[PaymentPublic]
    shipping_fee: str
    goods_total: str
    total: str
    paid: str
    refundable: RefundablePublic


class RequestLineCreate(Strict):
    sku: str = Field(min_length=1, max_length=64)
    quantity: Quantity


class RefundRequestCreate(Strict):
    order_no: str = Field(min_length=1, max_length=64)
    type: RequestType
    reason: str = Field(min_length=1, max_length=40, examples=["quality_issue"])
    description: str = Field("", max_length=2000)
    lines: list[RequestLineCreate] = Field(default_factory=list, max_length=500)
    include_shipping: bool = False
    refund_route: RefundRoute = RefundRoute.ORIGINAL
    intake_channel: IntakeChannel = IntakeChannel.API
    language: Literal["zh-CN", "en"] = Field(
        "zh-CN", description="the language of the customer's explanations and messages"
    )
    amount: DecimalString | None = Field(
        None, description="goodwill: money back without goods (type refund_only, no lines)"
    )
    exchange_sku: str | None = Field(None, max_length=64, description="exchange: the replacement")
    exchange_name: str | None = Field(None, max_length=200)
    exchange_price: DecimalString | None = Field(
        None, description="the replacement's unit price (default: the returned line's)"
    )


class GradeIn(Strict):
    sku: str = Field(min_length=1, max_length=64)
    grade: Literal["A", "B", "C"] = Field(
        description="A resellable, B resellable with defects, C not resellable"
    )
    note: str | None = Field(None, max_length=500)


class ActionBody(Strict):
    """Fields an action reads: ``reason`` (reject, cancel, appeal, mark-failed), ``amount`` and
    ``requires_return`` (approve), ``carrier``/``tracking_no`` (return-shipment,
    ship-replacement), ``result`` and ``note`` (inspect), ``note`` (receive), ``reference``
    (mark-refunded)."""

    reason: str | None = Field(None, max_length=500)
    note: str | None = Field(None, max_length=500)
    amount: DecimalString | None = None
    requires_return: bool | None = None
    carrier: str | None = Field(None, max_length=64)
    tracking_no: str | None = Field(None, max_length=64)
    result: Literal["pass", "fail"] | None = None
    reference: str | None = Field(None, max_length=128)
    grades: list[GradeIn] | None = Field(None, max_length=500, description="inspect: per line")
    delivered_at: AwareDatetime | None = Field(None, description="carrier-delivered: when")
    percent: int | None = Field(
        None, ge=1, le=100, description="approve: keep the item, refund this percentage"
    )
    route: str | None = Field(
        None, max_length=24, description="retry: move the failed refunds to this payout route"
    )
    account_name: str | None = Field(None, max_length=100, description="bank transfer payee")
    bank_name: str | None = Field(None, max_length=100)
    account_no: str | None = Field(None, max_length=40)


class ActorPublic(BaseModel):
    kind: str
    role: str
    id: str | None
    name: str


class TimelineEventPublic(BaseModel):
    at: datetime
    actor: ActorPublic
    action: str
    from_status: Status | None
    to_status: Status
    reason: str | None
    data: dict[str, Any]


class RequestLinePublic(BaseModel):
    sku: str
    name: str
    quantity: int
    amount: str
    grade: str | None


class NextStepPublic(BaseModel):
    queue: str
    step: str
    due_at: datetime | None
    owner: str | None
    work_item_id: int | None


class FinanceApprovalPublic(BaseModel):
    required: bool
    approved_by: str | None


class ExchangePublic(BaseModel):
    sku: str | None
    name: str | None
    price: str | None
    difference: str | None
    amount_payable: str | None


class ReturnShipmentPublic(BaseModel):
    carrier: str | None
    tracking_no: str | None


class ExplanationPublic(BaseModel):
    staff: str
    customer: str


class DecisionPublic(BaseModel):
    outcome: Literal["approve", "reject", "review"]
    rule: str | None = Field(description="the id of the rule that decided (None: no rule)")
    rule_name: str | None
    rule_number: int | None = Field(description="its 1-based position in the policy")
    policy_version: int | None
    explanation_staff: str = Field(description="why, for staff, in the request's language")
    explanation_customer: str = Field(description="why, for the customer")
    explanations: dict[str, ExplanationPublic] = Field(description="both languages")
    requires_return: bool | None
    auto_execute: bool
    fast_track: bool
    priority: Literal["normal", "high"]
    queue: str | None
    offer: dict[str, Any]


class RefundRequestSummary(BaseModel):
    id: int
    number: str = Field(examples=["RF20261126-000123"])
    order_no: str
    customer_id: int
    type: RequestType
    reason: str
    description: str
    status: Status
    allowed_actions: list[Action]
    currency: str
    amount_requested: str
    amount_approved: str | None
    amount_refunded: str | None
    include_shipping: bool
    shipping_amount: str
    refund_route: RefundRoute
    intake_channel: IntakeChannel
    requires_return: bool | None
    appealed: bool
    language: Literal["zh-CN", "en"]
    priority: Literal["normal", "high"]
    fast_track: bool
    channel: str
    customer_tier: str
    finance_approval: FinanceApprovalPublic | None
    root_cause: str | None
    exchange: ExchangePublic | None
    parent_id: int | None
    decision: DecisionPublic | None
    return_shipment: ReturnShipmentPublic | None
    lines: list[RequestLinePublic]
    created_at: datetime
    updated_at: datetime


class RefundRecordPublic(BaseModel):
    """One refund of one payment by one route (issue 5)."""

    id: int
    route: str
    amount: str
    currency: str
    status: Literal["pending", "succeeded", "failed", "needs_reconciliation"]
    idempotency_key: str = Field(description="sent to the gateway on every attempt; never changes")
    gateway_reference: str | None
    attempts: int


class RefundRequestPublic(RefundRequestSummary):
    timeline: list[TimelineEventPublic]
    next_step: NextStepPublic | None
    refunds: list[RefundRecordPublic] = Field(default_factory=list)


class StoreCreditEntryPublic(BaseModel):
    id: int | None
    amount: str
    currency: str
    kind: str
    balance_after: str
    reference: str | None
    refund_id: int | None
    note: str | None
    at: datetime


class StoreCreditPublic(BaseModel):
    customer_id: int
    account: str
    balance: str
    currency: str
    balances: dict[str, str]
    entries: list[StoreCreditEntryPublic]


class RecordMark(Strict):
    reference: str | None = Field(None, max_length=128, description="mark-paid: bank reference")
    reason: str | None = Field(None, max_length=500, description="mark-failed: why")


class RefundRequestPage(BaseModel):
    items: list[RefundRequestSummary]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page")


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict[str, Any]


class ErrorPublic(BaseModel):
    error: ErrorBody
