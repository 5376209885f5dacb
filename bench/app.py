"""The server under test: refundflow's real app plus two bare baseline routes.

``uvicorn bench.app:create_bench_app --factory`` serves it. The baselines live in the same
process, on the same event loop and the same SQLite file as refundflow, so a ratio between
the two measures what refundflow adds, not what the machine or the transport costs:

- ``GET /bench/hello`` is the least a FastAPI route can do;
- ``POST /bench/insert`` reads the body and inserts it as one row with plain ``sqlite3``
  (one INSERT, one commit), with the same journal settings as refundflow's engine.

No worker is started: ``create_app`` never starts one, and the outbox rows that creates
write just accumulate, as they would behind ``refundflow serve --no-worker``.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request

from refundflow.entrypoints.settings import Settings
from refundflow.entrypoints.web.app import create_app

DATABASE_ENV = "REFUNDFLOW_BENCH_DATABASE"


class BareInserts:
    """One ``sqlite3`` connection for the insert baseline, opened like refundflow's own
    (WAL, ``synchronous=NORMAL``), so both commit with the same durability."""

    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path, check_same_thread=False)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=NORMAL")
        self.connection.execute("PRAGMA busy_timeout=10000")
        self.connection.execute(
            "CREATE TABLE IF NOT EXISTS bench_inserts (id INTEGER PRIMARY KEY, body BLOB NOT NULL)"
        )
        self.connection.commit()

    async def insert(self, request: Request) -> dict[str, Any]:
        body = await request.body()
        cursor = self.connection.execute("INSERT INTO bench_inserts (body) VALUES (?)", (body,))
        self.connection.commit()
        return {"id": cursor.lastrowid}


async def hello() -> dict[str, str]:
    return {"hello": "world"}


def settings_for(path: str | Path) -> Settings:
    # _env_file=None: a developer's .env must not change what the bench measures.
    return Settings(database_url=f"sqlite:///{path}", _env_file=None)


def create_bench_app() -> FastAPI:
    path = os.environ.get(DATABASE_ENV)
    if not path:
        raise RuntimeError(f"set {DATABASE_ENV} to the SQLite file to serve (python -m bench does)")
    app = create_app(settings_for(path))
    bare = BareInserts(path)
    # response_model=None: a plain route that returns a dict, without the response
    # validation FastAPI would add from the return annotation.
    app.add_api_route("/bench/hello", hello, methods=["GET"], response_model=None)
    app.add_api_route(
        "/bench/insert", bare.insert, methods=["POST"], status_code=201, response_model=None
    )
    _close_on_shutdown(app, bare.connection)
    return app


def _close_on_shutdown(app: FastAPI, connection: sqlite3.Connection) -> None:
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[None]:
        async with inner(application):
            yield
        connection.close()

    app.router.lifespan_context = lifespan
