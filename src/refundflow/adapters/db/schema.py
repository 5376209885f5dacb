"""The tables. Alembic migrations are written against these definitions.

Money is stored as integer minor units next to a currency code; times as UTC (SQLite:
``YYYY-MM-DD HH:MM:SS.ffffff`` text, PostgreSQL: ``timestamptz``); JSON as text.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _time(name: str, *, nullable: bool = True) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("email", String(254), index=True),
    Column("phone", String(32), index=True),
    Column("tier", String(16), nullable=False),
    _time("created_at", nullable=False),
    _time("updated_at", nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_no", String(64), nullable=False, unique=True),
    Column("channel", String(32), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
    Column("shipping_fee_minor", BigInteger, nullable=False),
    # Copies of what the lines and payments say, for the policy's facts read set-wise.
    Column("total_minor", BigInteger, nullable=False, server_default="0"),
    Column("payment_methods", String(200), nullable=False, server_default=""),
    _time("placed_at", nullable=False),
    _time("paid_at"),
    _time("shipped_at"),
    _time("delivered_at"),
    _time("created_at", nullable=False),
    _time("updated_at", nullable=False),
    Index("ix_orders_customer_placed", "customer_id", "placed_at"),
    Index("ix_orders_placed_at", "placed_at"),  # the dashboard's orders of a period
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("category", String(64), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price_minor", BigInteger, nullable=False),
    Column("discount_minor", BigInteger, nullable=False),
    UniqueConstraint("order_id", "sku", name="uq_order_lines_order_id_sku"),
)

payments = Table(
    "payments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False, index=True),
    Column("method", String(32), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("reference", String(128)),
)

refund_requests = Table(
    "refund_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    # Unique because it embeds the id (domain.requests.request_number); looked up by its id.
    Column("number", String(32), nullable=False),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False, index=True),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
    Column("type", String(24), nullable=False),
    Column("reason", String(40), nullable=False),
    Column("description", Text, nullable=False),
    Column("include_shipping", Boolean, nullable=False),
    Column("shipping_minor", BigInteger, nullable=False),
    Column("refund_route", String(24), nullable=False),
    Column("intake_channel", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_requested_minor", BigInteger, nullable=False),
    Column("amount_approved_minor", BigInteger),
    Column("amount_refunded_minor", BigInteger),
    Column("status", String(24), nullable=False),
    Column("requires_return", Boolean),
    Column("goods_received", Boolean, nullable=False),
    Column("appealed", Boolean, nullable=False),
    Column("return_carrier", String(64)),
    Column("return_tracking_no", String(64), index=True),
    Column("created_by", String(64)),
    Column("language", String(8), nullable=False, server_default="zh-CN"),
    # The request's lines' categories and skus (joined by \x1f) for set-wise policy facts.
    Column("categories", String(500), nullable=False, server_default=""),
    Column("skus", String(1000), nullable=False, server_default=""),
    Column("decision_outcome", String(8)),
    Column("decision_rule", String(64)),
    Column("decision_policy_version", Integer),
    Column("decision", Text),
    Column("priority", String(8), nullable=False, server_default="normal"),
    Column("fast_track", Boolean, nullable=False, server_default="0"),
    Column("queue", String(32)),
    Column("auto_execute", Boolean, nullable=False, server_default="0"),
    _time("approved_at"),
    _time("refunded_at"),
    # The first event by staff or the policy after the submission (the dashboard's first
    # response), written with the request by requests_repo.
    _time("first_response_at"),
    Column("approved_by", String(64)),
    Column("finance_approval_required", Boolean, nullable=False, server_default="0"),
    Column("finance_approved_by", String(64)),
    _time("return_delivered_at"),
    Column("root_cause", String(40)),
    Column("exchange_sku", String(64)),
    Column("exchange_name", String(200)),
    Column("exchange_price_minor", BigInteger),
    Column("amount_payable_minor", BigInteger),
    Column("parent_id", Integer),
    # Snapshots taken when the request is made, for deadlines and breakdowns.
    Column("channel", String(32), nullable=False, server_default=""),
    Column("customer_tier", String(16), nullable=False, server_default="standard"),
    Column("order_shipped", Boolean, nullable=False, server_default="0"),
    _time("created_at", nullable=False),
    _time("updated_at", nullable=False),
    Index("ix_refund_requests_status_id", "status", "id"),
    Index("ix_refund_requests_customer_created", "customer_id", "created_at"),
    Index("ix_refund_requests_created_at", "created_at"),
    # Everything the dashboard aggregates over a period: its scans read this index alone.
    Index(
        "ix_refund_requests_dashboard",
        "created_at",
        "parent_id",
        "currency",
        "type",
        "decision_outcome",
        "appealed",
        "refunded_at",
        "amount_refunded_minor",
        "first_response_at",
        "reason",
        "channel",
        "customer_tier",
        "root_cause",
        "categories",
        "skus",
        "id",
    ),
)

# The request as the API shows it, rewritten in the same transaction as every change to the
# request: reads cost one primary-key lookup (see bench/README.md for why).
refund_request_docs = Table(
    "refund_request_docs",
    metadata,
    Column("request_id", Integer, ForeignKey("refund_requests.id"), primary_key=True),
    Column("body", Text, nullable=False),
)

refund_request_lines = Table(
    "refund_request_lines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("request_id", Integer, ForeignKey("refund_requests.id"), nullable=False, index=True),
    Column("order_line_id", Integer, ForeignKey("order_lines.id"), nullable=False, index=True),
    Column("sku", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("grade", String(1)),
)

refund_request_events = Table(
    "refund_request_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("request_id", Integer, ForeignKey("refund_requests.id"), nullable=False, index=True),
    _time("at", nullable=False),
    Column("actor_kind", String(16), nullable=False),
    Column("actor_role", String(16), nullable=False),
    Column("actor_id", String(64)),
    Column("actor_name", String(100), nullable=False),
    Column("action", String(32), nullable=False),
    Column("from_status", String(24)),
    Column("to_status", String(24), nullable=False),
    Column("reason", Text),
    Column("data", Text, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("topic", String(64), nullable=False),
    Column("key", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    _time("created_at", nullable=False),
    _time("available_at", nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("locked_by", String(64)),
    _time("locked_until"),
    _time("delivered_at"),
    Column("last_error", Text),
    Index("ix_outbox_pending", "delivered_at", "available_at"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("scope", String(64), nullable=False),
    Column("key", String(255), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("status_code", Integer),
    Column("response", Text),
    _time("created_at", nullable=False),
    UniqueConstraint("scope", "key", name="uq_idempotency_keys_scope_key"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("role", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    _time("created_at", nullable=False),
    _time("last_used_at"),
    _time("revoked_at"),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("active", Boolean, nullable=False),
    _time("created_at", nullable=False),
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    _time("locked_until"),
    Column("totp_secret", String(64)),
    Column("totp_required", Boolean, nullable=False, server_default="0"),
    _time("disabled_at"),
)

policies = Table(
    "policies",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("status", String(16), nullable=False),
    Column("document", Text, nullable=False),
    # SHA-256 of the document: the key of compiled policies cached in each process.
    Column("digest", String(64), nullable=False),
    Column("created_by", String(64)),
    _time("created_at", nullable=False),
    _time("updated_at", nullable=False),
    Column("published_by", String(64)),
    _time("published_at"),
    # At most one published version: publishing flips two rows in one transaction.
    Index(
        "uq_policies_published",
        "status",
        unique=True,
        sqlite_where=text("status = 'published'"),
        postgresql_where=text("status = 'published'"),
    ),
)

category_labels = Table(
    "category_labels",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("label_zh", String(100), nullable=False),
    Column("label_en", String(100), nullable=False),
)

reason_codes = Table(
    "reason_codes",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("label_zh", String(100), nullable=False),
    Column("label_en", String(100), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("position", Integer, nullable=False),
)


# ---------------------------------------------------------------------------- workflow
work_items = Table(
    "work_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("request_id", Integer, ForeignKey("refund_requests.id"), nullable=False),
    # "status": the step the request's status waits on; "complaint", "follow_up": extra.
    Column("kind", String(16), nullable=False),
    Column("queue", String(16), nullable=False),
    Column("step", String(24), nullable=False),
    Column("state", String(8), nullable=False),  # open, done, cancelled
    Column("owner", String(64)),
    Column("priority", String(8), nullable=False),
    _time("due_at"),
    Column("business_hours", Boolean, nullable=False, server_default="0"),
    Column("complaint_id", Integer),
    _time("created_at", nullable=False),
    _time("closed_at"),
    _time("reminded_at"),
    _time("escalated_at"),
    Column("note", Text),
    Index("ix_work_items_queue", "queue", "state", "due_at"),
    # queue, due_at, closed_at: the dashboard's SLA compliance reads the index alone.
    Index("ix_work_items_request", "request_id", "state", "queue", "due_at", "closed_at"),
)

timers = Table(
    "timers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("work_item_id", Integer, ForeignKey("work_items.id"), nullable=False, index=True),
    Column("request_id", Integer, nullable=False),
    Column("kind", String(8), nullable=False),  # remind, breach, auto
    Column("action", String(24)),
    _time("due_at", nullable=False),
    _time("fired_at"),
    _time("cancelled_at"),
    Column("locked_by", String(64)),
    _time("locked_until"),
    Index("ix_timers_due", "fired_at", "cancelled_at", "due_at"),
)

sla_rules = Table(
    "sla_rules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("step", String(24), nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("business_hours", Boolean, nullable=False),
    Column("channel", String(32)),
    Column("type", String(24)),
    Column("tier", String(16)),
    Column("fast_track", Boolean),
    Column("order_shipped", Boolean),
    Column("remind_at", String(8)),
    Column("on_breach", String(24)),
    Column("preset", String(16)),
)

calendar_days = Table(
    "calendar_days",
    metadata,
    Column("day", String(10), primary_key=True),  # YYYY-MM-DD in the shop's time zone
    Column("kind", String(8), nullable=False),  # holiday, workday
    Column("name", String(100), nullable=False),
)

complaints = Table(
    "complaints",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("request_id", Integer, ForeignKey("refund_requests.id"), nullable=False, index=True),
    Column("source", String(16), nullable=False),
    Column("severity", String(8), nullable=False),
    Column("text", Text, nullable=False),
    Column("state", String(8), nullable=False),
    Column("opened_by", String(64)),
    _time("opened_at", nullable=False),
    Column("resolved_by", String(64)),
    _time("resolved_at"),
    Column("resolution", Text),
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("request_id", Integer, ForeignKey("refund_requests.id"), nullable=False, index=True),
    Column("channel", String(16), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("summary", Text, nullable=False),
    Column("by_id", String(64)),
    Column("by_name", String(100), nullable=False),
    _time("at", nullable=False),
)

compensations = Table(
    "compensations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("request_id", Integer, ForeignKey("refund_requests.id"), nullable=False, index=True),
    Column("customer_id", Integer, nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # coupon, points, store_credit
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger),
    Column("points", Integer),
    Column("code", String(64)),
    _time("expires_at"),
    Column("cost_minor", BigInteger, nullable=False),
    Column("issued_by", String(64)),
    _time("issued_at", nullable=False),
)

root_cause_tags = Table(
    "root_cause_tags",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("label_zh", String(100), nullable=False),
    Column("label_en", String(100), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("position", Integer, nullable=False),
)


# ---------------------------------------------------------------------------- customers' side
customer_codes = Table(
    "customer_codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("identifier", String(64), nullable=False, index=True),  # hash of order + contact
    Column("customer_id", Integer, ForeignKey("customers.id")),
    Column("order_id", Integer, ForeignKey("orders.id")),
    Column("code_hash", String(128), nullable=False),
    Column("channel", String(8), nullable=False),  # sms, email
    _time("created_at", nullable=False),
    _time("expires_at", nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    _time("used_at"),
)

portal_sessions = Table(
    "portal_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False, index=True),
    _time("created_at", nullable=False),
    _time("expires_at", nullable=False),
    _time("revoked_at"),
)

customer_preferences = Table(
    "customer_preferences",
    metadata,
    Column("customer_id", Integer, ForeignKey("customers.id"), primary_key=True),
    Column("language", String(8), nullable=False),
    Column("email", Boolean, nullable=False),
    Column("sms", Boolean, nullable=False),
    Column("push", Boolean, nullable=False),
    _time("updated_at", nullable=False),
    # Where messages go when not to the contact on the customer's orders (normalised).
    Column("contact_email", String(254)),
    Column("contact_phone", String(32)),
)

push_subscriptions = Table(
    "push_subscriptions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False, index=True),
    Column("kind", String(8), nullable=False),  # webpush, app, fcm
    Column("endpoint", Text, nullable=False),
    Column("keys", Text),  # JSON: p256dh and auth for Web Push
    _time("created_at", nullable=False),
    _time("revoked_at"),
)

surveys = Table(
    "surveys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("request_id", Integer, ForeignKey("refund_requests.id"), nullable=False, unique=True),
    Column("customer_id", Integer, nullable=False, index=True),
    Column("csat", Integer, nullable=False),  # 1–5
    Column("resolved", Boolean, nullable=False),
    Column("comment", Text),
    _time("answered_at", nullable=False),
    Index("ix_surveys_request_csat", "request_id", "csat"),  # the dashboard's satisfaction
)

uploads = Table(
    "uploads",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("request_id", Integer, ForeignKey("refund_requests.id"), index=True),
    Column("customer_id", Integer),
    Column("path", String(255), nullable=False),
    Column("content_type", String(32), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    _time("created_at", nullable=False),
)


# ---------------------------------------------------------------------------- staff console
staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("second_factor", Boolean, nullable=False),  # passed TOTP (or none needed)
    _time("created_at", nullable=False),
    _time("last_seen_at", nullable=False),
    _time("expires_at", nullable=False),  # absolute end
    _time("revoked_at"),
    _time("stepped_up_at"),  # the password confirmed again for a sensitive action
)

# Append-only; each row carries the hash of the one before (see services/audit.py).
audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True),
    _time("at", nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(40), nullable=False),
    Column("subject", String(100), nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
)

# ---------------------------------------------------------------- integrations (0005)
# What a shop calls an order or a refund, and what it is here: makes shop webhooks idempotent
# on the shop's ids, and lets an older delivery of an order be told from a newer one.
external_refs = Table(
    "external_refs",
    metadata,
    Column("source", String(16), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("external_id", String(64), primary_key=True),
    Column("local_id", Integer, nullable=False),
    _time("source_updated_at"),
    _time("created_at", nullable=False),
    _time("updated_at", nullable=False),
)

webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", String(2000), nullable=False),
    # JSON list of event types, or ["*"] for every event in the catalogue.
    Column("events", Text, nullable=False),
    Column("description", String(200), nullable=False, server_default=""),
    # Kept as given: signing needs the secret itself. The API shows it once.
    Column("secret", String(128), nullable=False),
    Column("previous_secret", String(128)),
    _time("previous_secret_expires_at"),
    Column("active", Boolean, nullable=False),
    Column("created_by", String(64)),
    _time("created_at", nullable=False),
    _time("updated_at", nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subscription_id", Integer, ForeignKey("webhook_subscriptions.id"), nullable=False),
    Column("event_id", String(64), nullable=False),
    # The outbox row's id: events of one ordering key are delivered in this order.
    Column("event_seq", BigInteger, nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("ordering_key", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    _time("next_attempt_at", nullable=False),
    _time("expires_at", nullable=False),
    Column("locked_by", String(64)),
    _time("locked_until"),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    _time("created_at", nullable=False),
    _time("delivered_at"),
    UniqueConstraint(
        "subscription_id", "event_id", name="uq_webhook_deliveries_subscription_id_event_id"
    ),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    Index("ix_webhook_deliveries_queue", "subscription_id", "ordering_key", "event_seq"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("delivery_id", Integer, ForeignKey("webhook_deliveries.id"), nullable=False, index=True),
    Column("attempt", Integer, nullable=False),
    _time("started_at", nullable=False),
    Column("status_code", Integer),
    Column("latency_ms", Integer, nullable=False),
    Column("response_excerpt", Text),
    Column("error", Text),
    Column("outcome", String(16), nullable=False),
)

# ---------------------------------------------------------------------------- notifications
# One row per message to one recipient on one channel. The key (request, notice, occurrence,
# channel, recipient) is UNIQUE: handling an outbox event twice never plans a second message
# (domain/notifications.py says what an occurrence is). Workers lease pending rows like the
# outbox and record the provider's reference, the attempts and the last error.
notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("request_id", Integer, ForeignKey("refund_requests.id")),
    Column("customer_id", Integer),
    Column("notice", String(32), nullable=False),
    Column("occurrence", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("recipient", String(254), nullable=False),
    Column("language", String(8), nullable=False),
    Column("content", Text, nullable=False),  # JSON: the rendered parts the channel sends
    Column("status", String(8), nullable=False),  # pending, sent, failed, skipped, expired
    Column("attempts", Integer, nullable=False, server_default="0"),
    _time("available_at", nullable=False),
    Column("locked_by", String(64)),
    _time("locked_until"),
    _time("created_at", nullable=False),
    _time("sent_at"),
    _time("expires_at"),
    Column("provider_ref", String(200)),
    Column("last_error", Text),
    Column("sensitive", Boolean, nullable=False, server_default="0"),
    UniqueConstraint(
        "request_id", "notice", "occurrence", "channel", "recipient", name="uq_notifications_key"
    ),
    Index("ix_notifications_due", "status", "available_at"),
    Index("ix_notifications_request", "request_id"),
)

notification_templates = Table(
    "notification_templates",
    metadata,
    Column("notice", String(32), primary_key=True),
    Column("language", String(8), primary_key=True),
    Column("subject", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("html", Text, nullable=False),
    Column("short", Text, nullable=False),
    Column("sms_template", String(64)),
    Column("sms_params", Text, nullable=False),  # JSON list of context names
    Column("customised", Boolean, nullable=False),
    Column("updated_by", String(64)),
    _time("updated_at", nullable=False),
)

# ---------------------------------------------------------------- payouts (issue 5)
# One row per refund of one payment by one route. The idempotency key is derived from the id
# and unique: a second record can never reuse a key, so a gateway refunds each key once.
refunds = Table(
    "refunds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("request_id", Integer, ForeignKey("refund_requests.id"), nullable=False, index=True),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False, index=True),
    Column("payment_id", Integer, ForeignKey("payments.id")),
    Column("route", String(24), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("status", String(24), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("idempotency_key", String(64), nullable=False),
    Column("gateway_reference", String(128), index=True),
    Column("payout_account", Text),
    Column("payout_batch_id", Integer),
    Column("replaced_by", Integer),
    Column("last_error", Text),
    _time("claimed_until"),
    _time("created_at", nullable=False),
    _time("updated_at", nullable=False),
    _time("completed_at"),
    UniqueConstraint("idempotency_key", name="uq_refunds_idempotency_key"),
    Index("ix_refunds_status_route", "status", "route"),
)

# Every call to a gateway (and every status change) of a record, for finance and audits.
refund_attempts = Table(
    "refund_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("refund_id", Integer, ForeignKey("refunds.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("outcome", String(24)),
    Column("detail", Text),
    Column("actor", String(64), nullable=False),
    _time("started_at", nullable=False),
    _time("finished_at"),
)

payout_batches = Table(
    "payout_batches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("currency", String(3), nullable=False),
    Column("count", Integer, nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_by", String(64), nullable=False),
    _time("created_at", nullable=False),
)

# Gateway callbacks, deduplicated by the gateway's own event id.
gateway_events = Table(
    "gateway_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("route", String(24), nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("refund_id", Integer),
    Column("outcome", String(24), nullable=False),
    Column("detail", Text),
    _time("received_at", nullable=False),
    UniqueConstraint("route", "event_id", name="uq_gateway_events_route_event_id"),
)

reconciliation_runs = Table(
    "reconciliation_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("route", String(24), nullable=False),
    Column("source", String(200), nullable=False),
    Column("summary", Text, nullable=False),
    Column("created_by", String(64), nullable=False),
    _time("created_at", nullable=False),
)

reconciliation_items = Table(
    "reconciliation_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("reconciliation_runs.id"), nullable=False, index=True),
    Column("kind", String(24), nullable=False),
    Column("refund_id", Integer),
    Column("reference", String(128)),
    Column("currency", String(3)),
    Column("ours_minor", BigInteger),
    Column("theirs_minor", BigInteger),
    Column("detail", Text),
)

# Store credit and e-wallet: entries, and one balance row per customer/account/currency that
# is locked while an entry is posted. A refund record credits at most once (unique refund_id).
ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
    Column("account", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("balance_after_minor", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("refund_id", Integer, ForeignKey("refunds.id")),
    Column("reference", String(128)),
    Column("note", Text),
    _time("created_at", nullable=False),
    UniqueConstraint("refund_id", name="uq_ledger_entries_refund_id"),
    Index("ix_ledger_entries_customer", "customer_id", "account", "id"),
)

ledger_balances = Table(
    "ledger_balances",
    metadata,
    Column("customer_id", Integer, ForeignKey("customers.id"), primary_key=True),
    Column("account", String(16), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("balance_minor", BigInteger, nullable=False),
    CheckConstraint("balance_minor >= 0", name="not_negative"),
)

# The dashboard's daily rollups (issue 7, docs/metrics.md "Rollups"). A day is the shop's
# local day (YYYY-MM-DD); a row of metric_days says the day was rolled up in that time zone.
# Triggers on the tables the dashboard reads add the UTC hour ("YYYY-MM-DD HH") of every
# changed request's creation (an order's placing) to metric_changes; a day with a pending
# change is read from the live tables until the worker has rolled it up again.
metric_changes = Table(
    "metric_changes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slot", String(13), nullable=False, index=True),
)

metric_days = Table(
    "metric_days",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("tz", String(64), nullable=False),
    Column("orders", Integer, nullable=False),
    Column("complaints", Integer, nullable=False),
    Column("sla_finished", Integer, nullable=False),
    Column("sla_met", Integer, nullable=False),
    Column("surveys", Integer, nullable=False),
    Column("csat_sum", Integer, nullable=False),
    Column("csat_positive", Integer, nullable=False),
    _time("built_at", nullable=False),
)

# The cohort's requests of a day per combination of the four breakdown dimensions.
metric_groups = Table(
    "metric_groups",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("reason", String(40), primary_key=True),
    Column("channel", String(32), primary_key=True),
    Column("tier", String(16), primary_key=True),
    Column("root_cause", String(40), primary_key=True),
    Column("requests", Integer, nullable=False),
    Column("auto_decided", Integer, nullable=False),
    Column("exchanges", Integer, nullable=False),
    Column("appealed", Integer, nullable=False),
    Column("refunded", Integer, nullable=False),
    Column("refunded_minor", BigInteger, nullable=False),
)

# Requests of a day per category and per SKU among their lines (a request once per key).
metric_keys = Table(
    "metric_keys",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("dimension", String(16), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("requests", Integer, nullable=False),
    Column("refunded", Integer, nullable=False),
    Column("refunded_minor", BigInteger, nullable=False),
)

metric_compensation = Table(
    "metric_compensation",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("cost_minor", BigInteger, nullable=False),
)

# A day's durations (seconds, ``refund`` and ``first_response``) in ascending order as
# little-endian float64: exact medians and percentiles over any range of days.
metric_durations = Table(
    "metric_durations",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("metric", String(16), primary_key=True),
    Column("n", Integer, nullable=False),
    Column("seconds", LargeBinary, nullable=False),
)
