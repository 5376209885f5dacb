"""Small repositories: idempotency keys, credentials, reason codes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from refundflow.adapters.db.sql import Sql
from refundflow.domain.permissions import Role
from refundflow.domain.reasons import ReasonCode
from refundflow.services.unit_of_work import StoredResponse, TokenRecord, UserRecord


class SqlIdempotencyRepository:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    def claim(self, scope: str, key: str, fingerprint: str, at: datetime) -> StoredResponse | None:
        # On PostgreSQL a second transaction inserting the same key waits here on the unique
        # index until the first commits (then it conflicts and reads the stored response) or
        # rolls back (then it claims the key itself).
        claimed = self.sql.one(
            "INSERT INTO idempotency_keys (scope, key, fingerprint, created_at) "
            "VALUES (:scope, :key, :fingerprint, :at) ON CONFLICT (scope, key) DO NOTHING "
            "RETURNING id",
            {"scope": scope, "key": key, "fingerprint": fingerprint, "at": self.sql.ts(at)},
        )
        if claimed is not None:
            return None
        row = self.sql.one(
            "SELECT fingerprint, status_code, response FROM idempotency_keys "
            "WHERE scope = :scope AND key = :key",
            {"scope": scope, "key": key},
        )
        assert row is not None
        return StoredResponse(row[0], row[1], row[2])

    def complete(self, scope: str, key: str, status_code: int, body: str) -> None:
        self.sql.run(
            "UPDATE idempotency_keys SET status_code = :status, response = :body "
            "WHERE scope = :scope AND key = :key",
            {"scope": scope, "key": key, "status": status_code, "body": body},
        )


class SqlCredentialsRepository:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    def add_token(self, name: str, role: Role, token_hash: str, at: datetime) -> int:
        return int(
            self.sql.scalar(
                "INSERT INTO api_tokens (name, role, token_hash, created_at) "
                "VALUES (:name, :role, :hash, :at) RETURNING id",
                {"name": name, "role": role.value, "hash": token_hash, "at": self.sql.ts(at)},
            )
        )

    def token_by_hash(self, token_hash: str) -> TokenRecord | None:
        row = self.sql.one(
            "SELECT id, name, role, revoked_at FROM api_tokens WHERE token_hash = :hash",
            {"hash": token_hash},
        )
        if row is None:
            return None
        return TokenRecord(row[0], row[1], Role(row[2]), row[3] is not None)

    def tokens(self) -> list[dict[str, Any]]:
        dt = self.sql.dt
        return [
            {
                "id": r[0],
                "name": r[1],
                "role": r[2],
                "created_at": dt(r[3]),
                "last_used_at": dt(r[4]),
                "revoked_at": dt(r[5]),
            }
            for r in self.sql.all(
                "SELECT id, name, role, created_at, last_used_at, revoked_at FROM api_tokens "
                "ORDER BY id"
            )
        ]

    def revoke_token(self, token_id: int, at: datetime) -> bool:
        live = self.sql.scalar(
            "SELECT COUNT(*) FROM api_tokens WHERE id = :id AND revoked_at IS NULL",
            {"id": token_id},
        )
        if not live:
            return False
        self.sql.run(
            "UPDATE api_tokens SET revoked_at = :at WHERE id = :id",
            {"id": token_id, "at": self.sql.ts(at)},
        )
        return True

    def touch_token(self, token_id: int, at: datetime) -> None:
        self.sql.run(
            "UPDATE api_tokens SET last_used_at = :at WHERE id = :id",
            {"id": token_id, "at": self.sql.ts(at)},
        )

    def add_user(self, email: str, name: str, role: Role, password_hash: str, at: datetime) -> int:
        return int(
            self.sql.scalar(
                "INSERT INTO users (email, name, role, password_hash, active, created_at) "
                "VALUES (:email, :name, :role, :hash, :active, :at) RETURNING id",
                {
                    "email": email,
                    "name": name,
                    "role": role.value,
                    "hash": password_hash,
                    "active": True,
                    "at": self.sql.ts(at),
                },
            )
        )

    def user_by_email(self, email: str) -> UserRecord | None:
        row = self.sql.one(
            "SELECT id, email, name, role, password_hash, active FROM users WHERE email = :email",
            {"email": email},
        )
        if row is None:
            return None
        return UserRecord(row[0], row[1], row[2], Role(row[3]), row[4], bool(row[5]))


class SqlReasonsRepository:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    def all(self) -> list[ReasonCode]:
        return [
            ReasonCode(r[0], r[1], r[2], bool(r[3]))
            for r in self.sql.all(
                "SELECT code, label_zh, label_en, active FROM reason_codes ORDER BY position, code"
            )
        ]

    def get(self, code: str) -> ReasonCode | None:
        row = self.sql.one(
            "SELECT code, label_zh, label_en, active FROM reason_codes WHERE code = :code",
            {"code": code},
        )
        return ReasonCode(row[0], row[1], row[2], bool(row[3])) if row else None

    def put(self, reason: ReasonCode, position: int) -> None:
        self.sql.run(
            "INSERT INTO reason_codes (code, label_zh, label_en, active, position) "
            "VALUES (:code, :zh, :en, :active, :position) ON CONFLICT (code) DO UPDATE SET "
            "label_zh = excluded.label_zh, label_en = excluded.label_en, "
            "active = excluded.active, position = excluded.position",
            {
                "code": reason.code,
                "zh": reason.label_zh,
                "en": reason.label_en,
                "active": reason.active,
                "position": position,
            },
        )
