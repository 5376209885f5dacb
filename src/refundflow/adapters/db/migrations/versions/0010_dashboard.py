"""dashboard: orders found by the time they were placed

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 07:00:00

The dashboard counts the orders placed in a period (refund rate = requests / orders);
without an index on ``placed_at`` alone that is a scan of every order.
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_orders_placed_at", "orders", ["placed_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_orders_placed_at", table_name="orders")
