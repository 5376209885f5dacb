"""Erasing a customer's personal data while keeping the money's trail (issue 9).

What goes: name, phone and e-mail (customers, notification contacts), every message sent to
them (recipient and text), portal sessions, codes and push subscriptions, the free text of
their requests and of the calls logged about them, survey comments, return tracking numbers
and payees' bank accounts. What stays: orders, lines, payments, requests with their amounts
and statuses, refund records with their references, the ledger and the audit chain (whose
rows name a customer by id only).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from refundflow.adapters.db.sql import Sql

ERASED = "[erased]"


class SqlPrivacyRepository:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    def customer_state(self, customer_id: int) -> str | None:
        """None (no such customer), "erased" or "present"."""
        row = self.sql.one(
            "SELECT name, phone, email FROM customers WHERE id = :c", {"c": customer_id}
        )
        if row is None:
            return None
        return "erased" if row[0] == ERASED and row[1] is None and row[2] is None else "present"

    def open_requests(self, customer_id: int, closed: list[str]) -> list[str]:
        marks = ", ".join(f":s{i}" for i in range(len(closed)))
        rows = self.sql.all(
            f"SELECT number FROM refund_requests WHERE customer_id = :c "
            f"AND status NOT IN ({marks}) ORDER BY id",
            {"c": customer_id, **{f"s{i}": s for i, s in enumerate(closed)}},
        )
        return [str(r[0]) for r in rows]

    def due_for_retention(self, cutoff: datetime, closed: list[str], limit: int) -> list[int]:
        """Customers not yet erased with requests, every one closed and untouched since
        ``cutoff``, and no order since then either."""
        marks = ", ".join(f":s{i}" for i in range(len(closed)))
        rows = self.sql.all(
            "SELECT c.id FROM customers c WHERE c.name <> :erased "
            "AND EXISTS (SELECT 1 FROM refund_requests r WHERE r.customer_id = c.id) "
            "AND NOT EXISTS (SELECT 1 FROM refund_requests r WHERE r.customer_id = c.id "
            f"  AND (r.status NOT IN ({marks}) OR r.updated_at >= :cutoff)) "
            "AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id "
            "  AND o.updated_at >= :cutoff) "
            "ORDER BY c.id LIMIT :n",
            {
                "erased": ERASED,
                "cutoff": self.sql.ts(cutoff),
                "n": limit,
                **{f"s{i}": s for i, s in enumerate(closed)},
            },
        )
        return [int(r[0]) for r in rows]

    def erase_customer(self, customer_id: int, at: datetime) -> dict[str, int]:
        """Anonymise everything personal about one customer; rows changed per table."""
        c = {"c": customer_id}
        requests = "(SELECT id FROM refund_requests WHERE customer_id = :c)"
        counts: dict[str, int] = {}

        def run(table: str, query: str, params: dict[str, Any] | None = None) -> None:
            counts[table] = counts.get(table, 0) + self.sql.run(query, {**c, **(params or {})})

        run(
            "customers",
            "UPDATE customers SET name = :erased, phone = NULL, email = NULL, updated_at = :at "
            "WHERE id = :c",
            {"erased": ERASED, "at": self.sql.ts(at)},
        )
        run(
            "customer_preferences",
            "UPDATE customer_preferences SET contact_email = NULL, contact_phone = NULL "
            "WHERE customer_id = :c",
        )
        run("push_subscriptions", "DELETE FROM push_subscriptions WHERE customer_id = :c")
        run("portal_sessions", "DELETE FROM portal_sessions WHERE customer_id = :c")
        run("customer_codes", "DELETE FROM customer_codes WHERE customer_id = :c")
        run(
            "notifications",
            "UPDATE notifications SET recipient = :erased, content = '{}', "
            "status = CASE WHEN status = 'pending' THEN 'skipped' ELSE status END "
            "WHERE customer_id = :c",
            {"erased": ERASED},
        )
        run(
            "refund_requests",
            "UPDATE refund_requests SET description = '', return_tracking_no = NULL "
            "WHERE customer_id = :c",
        )
        run(
            "refund_request_events",
            f"UPDATE refund_request_events SET actor_name = :erased WHERE actor_kind = 'customer' "
            f"AND request_id IN {requests}",
            {"erased": ERASED},
        )
        run(
            "contacts",
            f"UPDATE contacts SET summary = :erased WHERE request_id IN {requests}",
            {"erased": ERASED},
        )
        run("surveys", "UPDATE surveys SET comment = NULL WHERE customer_id = :c")
        run(
            "refunds",
            f"UPDATE refunds SET payout_account = NULL WHERE payout_account IS NOT NULL "
            f"AND request_id IN {requests}",
        )
        for request_id, body in self.sql.all(
            f"SELECT request_id, body FROM refund_request_docs WHERE request_id IN {requests}", c
        ):
            self.sql.run(
                "UPDATE refund_request_docs SET body = :b WHERE request_id = :r",
                {"b": _erased_document(body), "r": request_id},
            )
            counts["refund_request_docs"] = counts.get("refund_request_docs", 0) + 1
        return counts


def _erased_document(body: str) -> str:
    doc = orjson.loads(body)
    doc["description"] = ""
    if doc.get("return_shipment"):
        doc["return_shipment"]["tracking_no"] = None
    for event in doc.get("timeline") or []:
        actor = event.get("actor") or {}
        if actor.get("kind") == "customer":
            actor["name"] = ERASED
    return orjson.dumps(doc).decode()
