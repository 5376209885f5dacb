"""A thin runner for hand-written SQL over a pooled DBAPI connection.

Repositories write SQL once with ``:name`` parameters; this module passes it to sqlite3
as is and rewrites it once to psycopg's ``%(name)s``. It bypasses SQLAlchemy's result and
type layers: a primary-key read through SQLAlchemy Core took 80–100 µs here against about
10 µs through ``Sql.one`` (bench/README.md). It converts the only types that differ between
the two databases: times and booleans.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine

from refundflow.domain.errors import InvalidInputError

Params = Mapping[str, Any] | None

# Joins the few lists kept in one text column (a request's categories, an order's payment
# methods): a control character, never part of a code or a name.
SEP = "\x1f"

_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def _checked(params: Params) -> Mapping[str, Any]:
    """PostgreSQL text cannot hold NUL (psycopg refuses the whole statement, which would be a
    500); no input of ours means one, so it is refused as input on both databases."""
    if not params:
        return {}
    for value in params.values():
        if type(value) is str and "\x00" in value:
            raise InvalidInputError("text must not contain NUL characters (\\x00)")
    return params


@lru_cache(maxsize=1024)
def _pyformat(query: str) -> str:
    return _PARAM.sub(r"%(\1)s", query)


class Sql:
    """One connection, inside one transaction at a time."""

    __slots__ = ("_conn", "_raw", "dialect", "is_pg", "lock_suffix")

    def __init__(self, engine: Engine) -> None:
        self._raw = engine.raw_connection()
        self._conn: Any = self._raw.driver_connection
        self.dialect = engine.dialect.name
        self.is_pg = self.dialect == "postgresql"
        self.lock_suffix = " FOR UPDATE" if self.is_pg else ""

    # ------------------------------------------------------------------ transactions
    def begin(self, *, write: bool) -> None:
        if not self.is_pg:
            self._conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    def commit(self) -> None:
        self._conn.commit() if self.is_pg else self._conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.is_pg:
            self._conn.rollback()
        elif self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def close(self) -> None:
        self._raw.close()

    # ------------------------------------------------------------------ statements
    def _q(self, query: str) -> str:
        return _pyformat(query) if self.is_pg else query

    def all(self, query: str, params: Params = None) -> list[tuple[Any, ...]]:
        return self._conn.execute(self._q(query), _checked(params)).fetchall()  # type: ignore[no-any-return]

    def one(self, query: str, params: Params = None) -> tuple[Any, ...] | None:
        return self._conn.execute(self._q(query), _checked(params)).fetchone()  # type: ignore[no-any-return]

    def scalar(self, query: str, params: Params = None) -> Any:
        row = self.one(query, params)
        return row[0] if row is not None else None

    def run(self, query: str, params: Params = None) -> int:
        return self._conn.execute(self._q(query), _checked(params)).rowcount  # type: ignore[no-any-return]

    def stream(
        self, query: str, params: Params = None, *, size: int = 2000
    ) -> Iterator[tuple[Any, ...]]:
        """Rows one at a time, fetched ``size`` at a time (a server-side cursor on
        PostgreSQL), so a pass over millions of rows holds only a batch in memory."""
        if self.is_pg:
            cursor = self._conn.cursor(name=f"stream_{id(query):x}")
            cursor.itersize = size
            cursor.execute(self._q(query), _checked(params))
        else:
            cursor = self._conn.execute(query, _checked(params))
        try:
            while batch := cursor.fetchmany(size):
                yield from batch
        finally:
            cursor.close()

    def many(
        self, query: str, rows: Sequence[Mapping[str, Any]] | Iterable[Mapping[str, Any]]
    ) -> None:
        if self.is_pg:
            with self._conn.cursor() as cursor:
                cursor.executemany(self._q(query), rows)
        else:
            self._conn.executemany(query, rows)

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        """``INSERT INTO table (columns) VALUES (…)`` for each row of positional values:
        the fastest bulk path of both drivers (no parameter names to look up)."""
        mark = "%s" if self.is_pg else "?"
        query = (
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join([mark] * len(columns))})"
        )
        if self.is_pg:
            with self._conn.cursor() as cursor:
                cursor.executemany(query, rows)
        else:
            self._conn.executemany(query, rows)

    # ------------------------------------------------------------------ values
    def ts(self, at: datetime | None) -> Any:
        """A UTC-aware time as the database stores it."""
        if at is None:
            return None
        if self.is_pg:
            return at
        return at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

    @staticmethod
    def dt(value: Any) -> datetime | None:
        """A stored time back as a UTC-aware ``datetime``."""
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
