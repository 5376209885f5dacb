"""Crash points: the worker process is killed with SIGKILL before the gateway call, after the
call before the result is saved, and after saving before the outbox row is marked
delivered — at random, over and over, while it refunds a batch of split-tender requests
(Alipay + store credit). After each kill a fresh worker process takes over. At the end:
0 double refunds (at the gateway and in the ledger), 0 lost refunds, every record final.

Each worker is a forked child of the test process (a real process, killed for real; forking
spares the interpreter start-up, so a few hundred kills fit in the default run).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from refundflow.domain.lifecycle import Action
from refundflow.entrypoints.bootstrap import Container, bootstrap
from refundflow.services.clock import ManualClock
from tests.conftest import REVIEW_EVERYTHING, publish
from tests.integration.payouts import (
    Fakes,
    act,
    approved_request,
    paid_order,
    payout_box,
    rows,
)

POINTS = ("refund.before_call", "refund.after_call", "refund.after_save")
LONG = os.environ.get("REFUNDFLOW_LONG") == "1"


def _worker_child(settings: object, points: str, log: Path) -> None:  # pragma: no cover - child
    from refundflow.entrypoints.worker import Worker
    from refundflow.services import failpoints

    try:
        failpoints.configure(points)
        os.environ[failpoints.LOG_ENV] = str(log)
        box = bootstrap(settings)  # type: ignore[arg-type]
        Worker(box, worker_id=f"crash-{os.getpid()}").run_forever(threading.Event())
    finally:
        os._exit(0)


def _open_records(box: Container) -> int:
    return int(rows(box, "SELECT COUNT(*) FROM refunds WHERE status = 'pending'")[0][0])


def _run_with_kills(
    box: Container, settings: object, points: str, log: Path, budget: float
) -> Counter[str]:
    """Fork workers until every record is final; return how each one ended."""
    endings: Counter[str] = Counter()
    deadline = time.monotonic() + budget
    while _open_records(box) and time.monotonic() < deadline:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            _worker_child(settings, points, log)
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
                endings["sigkill" if killed else "exit"] += 1
                break
            if not _open_records(box):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                endings["finished"] += 1
                break
            time.sleep(0.02)
    return endings


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("requests", [pytest.param(90, id="default")])
def test_killing_the_worker_at_any_crash_point_never_pays_twice_or_loses_a_refund(
    db_url: str, fakes: Fakes, tmp_path: Path, requests: int
) -> None:
    _crash_run(db_url, fakes, tmp_path, requests * (10 if LONG else 1), chance=0.2)


@pytest.mark.long
@pytest.mark.timeout(3600)
def test_a_thousand_crashes_never_pay_twice_or_lose_a_refund(
    db_url: str, fakes: Fakes, tmp_path: Path
) -> None:
    _crash_run(db_url, fakes, tmp_path, 500, chance=0.2)


def _crash_run(db_url: str, fakes: Fakes, tmp_path: Path, count: int, *, chance: float) -> None:
    clock = ManualClock(datetime.now(UTC))
    fast = {
        "worker_lease_seconds": 0.3,
        "worker_poll_seconds": 0.02,
        "worker_backoff_seconds": 0.05,
        "worker_backoff_cap_seconds": 0.5,
        "payout_max_unknown_attempts": 50,
    }
    box = payout_box(db_url, fakes, clock, **fast)
    try:
        publish(box, REVIEW_EVERYTHING)
        for i in range(count):
            order_no = f"K-{i}"
            paid_order(box, fakes, order_no, [("alipay", "70.00"), ("store_credit", "30.00")])
            act(box, approved_request(box, order_no), Action.EXECUTE)
        worker_settings = box.settings.model_copy()
        log = tmp_path / "failpoints.log"
        points = ",".join(f"{p}={chance}" for p in POINTS)
        endings = _run_with_kills(box, worker_settings, points, log, budget=600)
        fired = Counter(log.read_text().split()) if log.exists() else Counter()
        # ---- the verdict
        statuses = Counter(r[0] for r in rows(box, "SELECT status FROM refunds"))
        assert statuses == {"succeeded": 2 * count}, statuses
        # Every failpoint that fired killed its worker; a worker may also fire one just as
        # the last record turned final, when this harness kills it too ("finished").
        assert endings["sigkill"] <= sum(fired.values()) <= endings["sigkill"] + endings["finished"]
        assert all(fired[p] > 0 for p in POINTS), fired
        made = fakes.alipay.refunds_made
        keys = {
            r[0] for r in rows(box, "SELECT idempotency_key FROM refunds WHERE route = 'alipay'")
        }
        assert set(made) == keys, "every Alipay record refunded (0 lost)"
        assert set(made.values()) == {1}, "once each (0 double)"
        for i in range(count):
            assert fakes.alipay.refunded_minor(f"AL-K-{i}-0") == 7000
        assert rows(box, "SELECT COUNT(*), SUM(amount_minor) FROM ledger_entries") == [
            (count, 3000 * count)
        ], "store credit credited once per record"
        requests = Counter(r[0] for r in rows(box, "SELECT status FROM refund_requests"))
        assert requests == {"refunded": count}
        print(
            f"\ncrash run on {box.engine.dialect.name}: {dict(fired)} kills "
            f"({endings['sigkill']} SIGKILLs), {2 * count} records, 0 double, 0 lost"
        )
    finally:
        box.close()
