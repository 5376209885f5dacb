"""Background WAL checkpoints for SQLite.

By default SQLite checkpoints inside the commit that pushes the WAL past 1,000 pages, so
one request in a few dozen pays for copying everyone's pages back (bench: commits took
twice as long on average, and the unlucky one stalls). Our connections turn that off and
this thread checkpoints instead, every ``interval`` seconds, without blocking writers
(PASSIVE). Each process that writes runs one.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger("refundflow.db")


class WalCheckpointer:
    def __init__(self, path: str, *, interval: float = 0.5) -> None:
        self._path = path
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)

    def start(self) -> WalCheckpointer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def checkpoint(self, conn: sqlite3.Connection, mode: str = "PASSIVE") -> None:
        conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout=1000")
            while not self._stop.wait(self._interval):
                try:
                    self.checkpoint(conn)
                except sqlite3.Error as exc:  # a busy database: try again next time
                    log.debug("checkpoint skipped: %s", exc)
            self.checkpoint(conn, "TRUNCATE")
        except sqlite3.Error as exc:
            log.warning("WAL checkpointer stopped: %s", exc)
        finally:
            conn.close()
