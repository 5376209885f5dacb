"""Policy versions (drafts, the published one, archived ones) and category labels."""

from __future__ import annotations

import hashlib
from datetime import datetime

import orjson

from refundflow.adapters.db.sql import Sql
from refundflow.services.unit_of_work import StoredPolicy

_COLUMNS = (
    "version, status, document, created_by, created_at, updated_at, published_by, published_at"
)
_READ = f"{_COLUMNS}, digest"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class SqlPoliciesRepository:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    def _stored(self, row: tuple[object, ...] | None) -> StoredPolicy | None:
        if row is None:
            return None
        dt = self.sql.dt
        return StoredPolicy(
            version=int(row[0]),  # type: ignore[call-overload]
            status=str(row[1]),
            document=orjson.loads(row[2]),  # type: ignore[arg-type]
            created_by=row[3],  # type: ignore[arg-type]
            created_at=dt(row[4]),
            updated_at=dt(row[5]),
            published_by=row[6],  # type: ignore[arg-type]
            published_at=dt(row[7]),
            digest=str(row[8]),
        )

    def published(self) -> tuple[int, str] | None:
        row = self.sql.one("SELECT version, digest FROM policies WHERE status = 'published'")
        return (int(row[0]), str(row[1])) if row is not None else None

    def published_version(self) -> int | None:
        published = self.published()
        return published[0] if published is not None else None

    def get(self, version: int) -> StoredPolicy | None:
        return self._stored(
            self.sql.one(f"SELECT {_READ} FROM policies WHERE version = :v", {"v": version})
        )

    def latest(self, status: str) -> StoredPolicy | None:
        return self._stored(
            self.sql.one(
                f"SELECT {_READ} FROM policies WHERE status = :s ORDER BY version DESC LIMIT 1",
                {"s": status},
            )
        )

    def all(self) -> list[StoredPolicy]:
        rows = self.sql.all(f"SELECT {_READ} FROM policies ORDER BY version DESC")
        return [p for p in (self._stored(r) for r in rows) if p is not None]

    def next_version(self) -> int:
        return int(self.sql.scalar("SELECT COALESCE(MAX(version), 0) + 1 FROM policies"))

    def lock(self) -> None:
        """Serialise writers of policies (drafts and publishing) on PostgreSQL; SQLite's
        write lock already does."""
        if self.sql.is_pg:
            self.sql.run("LOCK TABLE policies IN SHARE ROW EXCLUSIVE MODE")

    def add_draft(self, version: int, document: dict[str, object], by: str, at: datetime) -> None:
        text = orjson.dumps(document).decode()
        self.sql.run(
            f"INSERT INTO policies ({_COLUMNS}, digest) VALUES (:v, 'draft', :doc, :by, :at, "
            ":at, NULL, NULL, :digest)",
            {"v": version, "doc": text, "by": by, "at": self.sql.ts(at), "digest": _digest(text)},
        )

    def update_draft(
        self, version: int, document: dict[str, object], by: str, at: datetime
    ) -> None:
        text = orjson.dumps(document).decode()
        self.sql.run(
            "UPDATE policies SET document = :doc, digest = :digest, created_by = :by, "
            "updated_at = :at WHERE version = :v AND status = 'draft'",
            {"v": version, "doc": text, "by": by, "at": self.sql.ts(at), "digest": _digest(text)},
        )

    def publish(self, version: int, by: str, at: datetime) -> None:
        self.sql.run("UPDATE policies SET status = 'archived' WHERE status = 'published'")
        self.sql.run(
            "UPDATE policies SET status = 'published', published_by = :by, published_at = :at, "
            "updated_at = :at WHERE version = :v",
            {"v": version, "by": by, "at": self.sql.ts(at)},
        )

    def category_labels(self) -> dict[str, tuple[str, str]]:
        return {
            row[0]: (row[1], row[2])
            for row in self.sql.all("SELECT code, label_zh, label_en FROM category_labels")
        }
