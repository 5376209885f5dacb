"""The customer side: one-time codes, portal sessions, surveys and uploaded photos."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from refundflow.adapters.db.sql import Sql
from refundflow.services.unit_of_work import StoredCode


class SqlPortalRepository:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    # ------------------------------------------------------------------ codes
    def codes_since(self, identifier: str, since: datetime) -> int:
        return int(
            self.sql.scalar(
                "SELECT COUNT(*) FROM customer_codes WHERE identifier = :i "
                "AND created_at >= :since AND customer_id IS NOT NULL",
                {"i": identifier, "since": self.sql.ts(since)},
            )
        )

    def add_code(
        self,
        *,
        identifier: str,
        customer_id: int | None,
        order_id: int | None,
        code_hash: str,
        channel: str,
        at: datetime,
        expires_at: datetime,
    ) -> None:
        self.sql.run(
            "INSERT INTO customer_codes (identifier, customer_id, order_id, code_hash, channel, "
            "created_at, expires_at, attempts) VALUES (:i, :c, :o, :h, :ch, :at, :exp, 0)",
            {
                "i": identifier,
                "c": customer_id,
                "o": order_id,
                "h": code_hash,
                "ch": channel,
                "at": self.sql.ts(at),
                "exp": self.sql.ts(expires_at),
            },
        )

    def latest_code(self, identifier: str, now: datetime) -> StoredCode | None:
        suffix = self.sql.lock_suffix
        row = self.sql.one(
            "SELECT id, customer_id, code_hash, attempts FROM customer_codes "
            "WHERE identifier = :i AND used_at IS NULL AND expires_at > :now "
            f"ORDER BY id DESC LIMIT 1{suffix}",
            {"i": identifier, "now": self.sql.ts(now)},
        )
        return StoredCode(row[0], row[1], row[2], row[3]) if row else None

    def count_attempt(self, code_id: int) -> None:
        self.sql.run(
            "UPDATE customer_codes SET attempts = attempts + 1 WHERE id = :id", {"id": code_id}
        )

    def use_code(self, code_id: int, at: datetime) -> None:
        self.sql.run(
            "UPDATE customer_codes SET used_at = :at WHERE id = :id",
            {"id": code_id, "at": self.sql.ts(at)},
        )

    # ------------------------------------------------------------------ sessions
    def add_session(
        self, token_hash: str, customer_id: int, at: datetime, expires_at: datetime
    ) -> None:
        self.sql.run(
            "INSERT INTO portal_sessions (token_hash, customer_id, created_at, expires_at) "
            "VALUES (:h, :c, :at, :exp)",
            {
                "h": token_hash,
                "c": customer_id,
                "at": self.sql.ts(at),
                "exp": self.sql.ts(expires_at),
            },
        )

    def session(self, token_hash: str, now: datetime) -> tuple[int, str] | None:
        row = self.sql.one(
            "SELECT s.customer_id, c.name FROM portal_sessions s JOIN customers c "
            "ON c.id = s.customer_id WHERE s.token_hash = :h AND s.revoked_at IS NULL "
            "AND s.expires_at > :now",
            {"h": token_hash, "now": self.sql.ts(now)},
        )
        return (int(row[0]), str(row[1])) if row else None

    def revoke_session(self, token_hash: str, at: datetime) -> None:
        self.sql.run(
            "UPDATE portal_sessions SET revoked_at = :at WHERE token_hash = :h",
            {"h": token_hash, "at": self.sql.ts(at)},
        )

    # ------------------------------------------------------------------ surveys
    def add_survey(
        self,
        request_id: int,
        customer_id: int,
        csat: int,
        resolved: bool,
        comment: str | None,
        at: datetime,
    ) -> bool:
        """Store the answer; False if this request was already answered."""
        row = self.sql.one(
            "INSERT INTO surveys (request_id, customer_id, csat, resolved, comment, answered_at) "
            "VALUES (:r, :c, :csat, :resolved, :comment, :at) "
            "ON CONFLICT (request_id) DO NOTHING RETURNING id",
            {
                "r": request_id,
                "c": customer_id,
                "csat": csat,
                "resolved": resolved,
                "comment": comment,
                "at": self.sql.ts(at),
            },
        )
        return row is not None

    def survey(self, request_id: int) -> dict[str, Any] | None:
        row = self.sql.one(
            "SELECT csat, resolved, comment, answered_at FROM surveys WHERE request_id = :r",
            {"r": request_id},
        )
        if row is None:
            return None
        at = self.sql.dt(row[3])
        return {
            "csat": row[0],
            "resolved": bool(row[1]),
            "comment": row[2],
            "answered_at": at.isoformat() if at else None,
        }

    # ------------------------------------------------------------------ uploads
    def add_upload(
        self,
        request_id: int | None,
        customer_id: int | None,
        path: str,
        content_type: str,
        size: int,
        sha256: str,
        at: datetime,
    ) -> int:
        return int(
            self.sql.scalar(
                "INSERT INTO uploads (request_id, customer_id, path, content_type, size, sha256, "
                "created_at) VALUES (:r, :c, :p, :t, :s, :h, :at) RETURNING id",
                {
                    "r": request_id,
                    "c": customer_id,
                    "p": path,
                    "t": content_type,
                    "s": size,
                    "h": sha256,
                    "at": self.sql.ts(at),
                },
            )
        )

    def uploads(self, request_id: int) -> list[dict[str, Any]]:
        return [
            {"id": r[0], "path": r[1], "content_type": r[2], "size": r[3]}
            for r in self.sql.all(
                "SELECT id, path, content_type, size FROM uploads WHERE request_id = :r "
                "ORDER BY id",
                {"r": request_id},
            )
        ]

    def upload(self, upload_id: int) -> dict[str, Any] | None:
        row = self.sql.one(
            "SELECT id, request_id, customer_id, path, content_type FROM uploads WHERE id = :id",
            {"id": upload_id},
        )
        return (
            {
                "id": row[0],
                "request_id": row[1],
                "customer_id": row[2],
                "path": row[3],
                "content_type": row[4],
            }
            if row
            else None
        )
