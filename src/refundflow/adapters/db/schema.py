"""The tables. Alembic migrations are written against these definitions.

Money is stored as integer minor units next to a currency code; times as UTC (SQLite:
``YYYY-MM-DD HH:MM:SS.ffffff`` text, PostgreSQL: ``timestamptz``); JSON as text.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
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
    _time("created_at", nullable=False),
    _time("updated_at", nullable=False),
    Index("ix_refund_requests_status_id", "status", "id"),
    Index("ix_refund_requests_customer_created", "customer_id", "created_at"),
    Index("ix_refund_requests_created_at", "created_at"),
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
