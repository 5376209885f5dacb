"""The refund policy: versioned documents, decisions on requests, facts read set-wise.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The default policy is published by `refundflow migrate` (bootstrap.migrate), not here,
    # so that this migration stays what it was when it shipped.
    op.create_table(
        "policies",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=64), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_policies")),
    )
    op.create_index(
        "uq_policies_published",
        "policies",
        ["status"],
        unique=True,
        sqlite_where=sa.text("status = 'published'"),
        postgresql_where=sa.text("status = 'published'"),
    )
    op.create_table(
        "category_labels",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("label_zh", sa.String(length=100), nullable=False),
        sa.Column("label_en", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_category_labels")),
    )
    with op.batch_alter_table("orders") as batch:
        batch.add_column(
            sa.Column("total_minor", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("payment_methods", sa.String(length=200), nullable=False, server_default="")
        )
    with op.batch_alter_table("refund_requests") as batch:
        batch.add_column(
            sa.Column("language", sa.String(length=8), nullable=False, server_default="zh-CN")
        )
        batch.add_column(
            sa.Column("categories", sa.String(length=500), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("skus", sa.String(length=1000), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("decision_outcome", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("decision_rule", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("decision_policy_version", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("decision", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("priority", sa.String(length=8), nullable=False, server_default="normal")
        )
        batch.add_column(
            sa.Column("fast_track", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("queue", sa.String(length=32), nullable=True))
        batch.add_column(
            sa.Column("auto_execute", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True))
    # Index changes come after the batch blocks: SQLite's batch mode rebuilds the tables.
    op.drop_index("ix_orders_customer_id", table_name="orders")
    op.create_index("ix_orders_customer_placed", "orders", ["customer_id", "placed_at"])
    # One index serves both "this customer's requests" and the simulation's ordered pass.
    op.drop_index("ix_refund_requests_customer_id", table_name="refund_requests")
    op.create_index(
        "ix_refund_requests_customer_created", "refund_requests", ["customer_id", "created_at"]
    )
    # Orders that existed before: their totals and payment methods, from lines and payments.
    op.execute(
        "UPDATE orders SET total_minor = shipping_fee_minor + COALESCE((SELECT "
        "SUM(quantity * unit_price_minor - discount_minor) FROM order_lines "
        "WHERE order_lines.order_id = orders.id), 0)"
    )
    op.execute(
        "UPDATE refund_requests SET categories = COALESCE((SELECT MIN(ol.category) "
        "FROM refund_request_lines rl JOIN order_lines ol ON ol.id = rl.order_line_id "
        "WHERE rl.request_id = refund_requests.id), ''), skus = COALESCE((SELECT MIN(rl.sku) "
        "FROM refund_request_lines rl WHERE rl.request_id = refund_requests.id), '')"
    )
    categories = sa.table(
        "category_labels",
        sa.column("code", sa.String),
        sa.column("label_zh", sa.String),
        sa.column("label_en", sa.String),
    )
    op.bulk_insert(
        categories,
        [
            {"code": code, "label_zh": zh, "label_en": en}
            for code, zh, en in [
                ("apparel", "服装", "Apparel"),
                ("shoes", "鞋靴", "Shoes"),
                ("electronics", "数码电器", "Electronics"),
                ("home", "家居", "Home"),
                ("beauty", "美妆个护", "Beauty"),
                ("food", "食品", "Food"),
                ("general", "其他", "General"),
            ]
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_refund_requests_customer_created", table_name="refund_requests")
    op.create_index("ix_refund_requests_customer_id", "refund_requests", ["customer_id"])
    op.drop_index("ix_orders_customer_placed", table_name="orders")
    op.create_index("ix_orders_customer_id", "orders", ["customer_id"])
    with op.batch_alter_table("refund_requests") as batch:
        for column in (
            "refunded_at",
            "approved_at",
            "auto_execute",
            "queue",
            "fast_track",
            "priority",
            "decision",
            "decision_policy_version",
            "decision_rule",
            "decision_outcome",
            "skus",
            "categories",
            "language",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("payment_methods")
        batch.drop_column("total_minor")
    op.drop_table("category_labels")
    op.drop_index("uq_policies_published", table_name="policies")
    op.drop_table("policies")
