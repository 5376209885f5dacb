"""The dashboard's daily rollups (docs/metrics.md "Rollups"): whichever days are rolled up,
changed since, or never rolled up, the figures are the ones the live tables give; every
change through the product marks its day; a change committed while the worker rolls up
stays marked."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine

from refundflow.adapters.db.metrics_repo import SqlMetricsReader
from refundflow.domain.actors import Actor, ActorKind
from refundflow.domain.permissions import Role
from refundflow.entrypoints.bootstrap import Container, bootstrap
from refundflow.entrypoints.settings import Settings
from refundflow.entrypoints.worker import Worker
from refundflow.services import customer
from refundflow.services.clock import ManualClock
from refundflow.services.demo import seed_demo
from refundflow.services.metrics import (
    Period,
    parse_period,
    pending_rollups,
    rebuild_rollups,
    refresh_rollups,
    summary,
)
from tests.integration.api import Api

MANAGER = Actor(ActorKind.STAFF, Role.MANAGER, "m", "manager")
NOW = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
CLOSED = "status IN ('refunded', 'exchanged', 'rejected', 'cancelled')"


def _sql(box: Container, query: str) -> list[tuple[Any, ...]]:
    engine = create_engine(box.settings.database_url)
    try:
        with engine.begin() as conn:
            result = conn.exec_driver_sql(query)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def _periods() -> list[Period]:
    today = NOW.date()
    return [
        parse_period(None, None, today),  # the last 30 days
        Period(today - timedelta(days=120), today),  # all of it, and days before any data
        Period(today - timedelta(days=45), today - timedelta(days=45)),  # one day
        Period(today - timedelta(days=70), today - timedelta(days=20)),
    ]


def _figures(box: Container) -> list[dict[str, Any]]:
    return [summary(box.uows, MANAGER, period) for period in _periods()]


def _live(box: Container) -> list[dict[str, Any]]:
    """The figures with every day read from the live tables (metric_days emptied: no day
    counts as rolled up)."""
    _sql(box, "DELETE FROM metric_days")
    return _figures(box)


@pytest.fixture
def shop(api: Api, box: Container, clock: ManualClock) -> Container:
    """90 days of demo history, with surveys, complaints, compensation and root causes on
    some of its requests."""
    seed_demo(box.uows, clock, orders_count=240, seed=5, now=NOW)
    ids = [row[0] for row in _sql(box, "SELECT id FROM refund_requests ORDER BY id")]
    closed = [row[0] for row in _sql(box, f"SELECT id FROM refund_requests WHERE {CLOSED}")]
    clock.set(NOW - timedelta(hours=1))
    for i, rid in enumerate(closed[::3]):
        customer.answer_survey(box.uows, rid, csat=1 + i % 5, resolved=True, comment=None)
    for rid in ids[1::9]:
        response = api.as_("cs").post(
            f"/api/v1/refund-requests/{rid}/complaints",
            json={"source": "phone", "severity": "medium", "text": "慢"},
        )
        assert response.status_code == 201, response.text
    for rid in ids[2::11]:
        response = api.as_("cs").post(
            f"/api/v1/refund-requests/{rid}/compensations",
            json={"kind": "store_credit", "amount": "3.20"},
        )
        assert response.status_code == 201, response.text
    for rid in ids[3::7]:
        response = api.as_("cs").post(
            f"/api/v1/refund-requests/{rid}/root-cause", json={"code": "logistics"}
        )
        assert response.status_code in (200, 201), response.text
    clock.set(NOW)
    return box


def test_rolled_up_days_give_the_figures_of_the_live_tables(shop: Container) -> None:
    box = shop
    assert pending_rollups(box.uows) > 30  # every day of the history waits for its rollup
    live_first = _figures(box)  # nothing rolled up yet: all live
    assert live_first[1]["requests"] > 50 and live_first[1]["surveys"] > 10

    days = rebuild_rollups(box.uows)
    assert days >= 60
    assert pending_rollups(box.uows) == 0
    assert _sql(box, "SELECT COUNT(*) FROM metric_changes") == [(0,)]
    with box.uows(write=False) as uow:
        reader = uow.metrics
        assert isinstance(reader, SqlMetricsReader)
        whole = _periods()[1]
        plan = reader._plan(whole.window(uow.tz))
        # Every day with data is read from the rollups; live reads cover only empty days.
        assert len(plan.clean) == days
    assert _figures(box) == live_first
    assert _live(box) == live_first


def test_days_changed_after_the_rollup_are_read_live_until_rolled_up_again(
    api: Api, shop: Container, clock: ManualClock
) -> None:
    box = shop
    rebuild_rollups(box.uows)
    before = _figures(box)
    # Changes to requests of old days, through the product: a survey, a complaint, a
    # compensation, a root cause, a cancelled order's new request would be today's.
    old = _sql(
        box,
        "SELECT id FROM refund_requests WHERE id NOT IN (SELECT request_id FROM surveys) "
        f"AND {CLOSED} ORDER BY created_at LIMIT 3",
    )
    clock.set(NOW + timedelta(minutes=5))
    customer.answer_survey(box.uows, old[0][0], csat=5, resolved=True, comment=None)
    response = api.as_("cs").post(
        f"/api/v1/refund-requests/{old[1][0]}/complaints",
        json={"source": "chat", "severity": "high", "text": "还没退"},
    )
    assert response.status_code == 201, response.text
    response = api.as_("cs").post(
        f"/api/v1/refund-requests/{old[2][0]}/compensations",
        json={"kind": "store_credit", "amount": "8.80"},
    )
    assert response.status_code == 201, response.text
    assert pending_rollups(box.uows) >= 1
    changed = _figures(box)
    assert changed != before
    assert changed[1]["surveys"] == before[1]["surveys"] + 1
    assert changed[1]["complaint_rate"] > before[1]["complaint_rate"]

    rebuild_rollups(box.uows)  # rolled up again: same figures, from the rollups
    assert pending_rollups(box.uows) == 0
    assert _figures(box) == changed
    assert _live(box) == changed


def test_the_worker_rolls_up_the_changed_days(shop: Container) -> None:
    box = shop
    worker = Worker(box)
    worker.run_once()  # a week of days per pass, newest first
    rolled = _sql(box, "SELECT day FROM metric_days ORDER BY day")
    assert 0 < len(rolled) <= 7 and pending_rollups(box.uows) > 0
    for _ in range(40):
        worker._next_rollup = 0.0  # no waiting for the interval between passes
        worker.run_once()
        if not pending_rollups(box.uows):
            break
    assert pending_rollups(box.uows) == 0
    assert len(_sql(box, "SELECT day FROM metric_days")) > 60
    figures = _figures(box)
    assert figures == _live(box)


def test_a_new_time_zone_sets_the_old_rollups_aside(shop: Container, settings: Settings) -> None:
    rebuild_rollups(shop.uows)
    other = bootstrap(
        Settings(
            database_url=settings.database_url, environment="test", timezone="America/New_York"
        )
    )
    try:
        # Shanghai's days are not New York's: none of the rollups is read, all is live.
        expected = _figures(other)
        assert expected != _figures(shop)  # the days really are other hours
        rebuild_rollups(other.uows)
        tzs = {row[0] for row in _sql(other, "SELECT DISTINCT tz FROM metric_days")}
        assert tzs == {"America/New_York"}
        assert _figures(other) == expected
        assert _live(other) == expected
    finally:
        other.close()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE refund_requests SET appealed = NOT appealed WHERE id = {rid}",
        "INSERT INTO surveys (request_id, customer_id, csat, resolved, answered_at) "
        "SELECT id, customer_id, 4, TRUE, created_at FROM refund_requests WHERE id = {rid}",
        "INSERT INTO complaints (request_id, source, severity, text, state, opened_at) "
        "SELECT id, 'phone', 'normal', '', 'open', created_at FROM refund_requests "
        "WHERE id = {rid}",
        "INSERT INTO compensations (request_id, customer_id, kind, currency, amount_minor, "
        "cost_minor, issued_at) SELECT id, customer_id, 'coupon', 'CNY', 100, 100, created_at "
        "FROM refund_requests WHERE id = {rid}",
        "UPDATE work_items SET due_at = closed_at WHERE request_id = {rid}",
        "DELETE FROM timers WHERE work_item_id IN (SELECT id FROM work_items "
        "WHERE request_id = {rid}); DELETE FROM work_items WHERE request_id = {rid}",
        "UPDATE orders SET channel = 'jd' WHERE id = (SELECT MIN(id) FROM orders)",
    ],
    ids=["request", "survey", "complaint", "compensation", "work-item", "delete", "order"],
)
def test_a_change_to_any_table_the_dashboard_reads_marks_its_day(
    shop: Container, statement: str
) -> None:
    """Even written past the services (an integrator's SQL, a restore): the triggers mark
    the day, and the figures follow."""
    box = shop
    rebuild_rollups(box.uows)
    rid = _sql(
        box,
        "SELECT r.id FROM refund_requests r JOIN work_items w ON w.request_id = r.id "
        "WHERE w.state = 'done' AND w.closed_at IS NOT NULL ORDER BY r.created_at LIMIT 1",
    )[0][0]
    for part in statement.format(rid=rid).split("; "):
        _sql(box, part)
    assert pending_rollups(box.uows) >= 1
    changed = _figures(box)
    rebuild_rollups(box.uows)
    assert _figures(box) == changed
    assert _live(box) == changed


@pytest.mark.pg
def test_a_change_committed_while_the_worker_rolls_up_stays_marked(
    pg_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL, where writers commit while the worker's transaction runs: a change made
    between the worker reading the marks and removing them keeps its own mark, so its day
    is read live (and rolled up again later) rather than from a rollup that missed it.
    (Remove only the marks read: deleting every mark makes this test fail.)"""
    box = bootstrap(Settings(database_url=pg_url, environment="test"), clock=clock.now)
    try:
        seed_demo(box.uows, clock, orders_count=60, seed=9, now=NOW)
        clock.set(NOW)
        rebuild_rollups(box.uows)
        target = _sql(
            box,
            "SELECT id FROM refund_requests WHERE id NOT IN (SELECT request_id FROM surveys) "
            f"AND {CLOSED} ORDER BY created_at DESC LIMIT 1",
        )[0][0]
        # Mark the request's day, then let a survey arrive while the worker rolls it up.
        _sql(box, f"UPDATE refund_requests SET appealed = appealed WHERE id = {target}")
        original = SqlMetricsReader._roll_up
        arrived = threading.Event()

        def roll_up(self: SqlMetricsReader, day: date, now: datetime) -> None:
            original(self, day, now)
            if not arrived.is_set():
                arrived.set()
                # Another connection, committed at once (READ COMMITTED: the worker's
                # transaction is still open).
                customer.answer_survey(box.uows, target, csat=2, resolved=False, comment=None)

        monkeypatch.setattr(SqlMetricsReader, "_roll_up", roll_up)
        assert refresh_rollups(box.uows) >= 1
        monkeypatch.undo()
        assert arrived.is_set()
        assert pending_rollups(box.uows) >= 1  # the survey's mark survived
        figures = _figures(box)
        assert figures == _live(box)
        assert figures[1]["surveys"] == _sql(box, "SELECT COUNT(*) FROM surveys")[0][0]
    finally:
        box.close()
