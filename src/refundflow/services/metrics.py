"""The manager's dashboard: how many refunds, how fast, how customers feel (issue 7).

Every figure but ``orders`` is about one **cohort**: the customers' refund requests
created in the period (``parent_id IS NULL``: the price-difference refunds the system opens
for exchanges are not requests of their own). A period is a range of whole days in the
shop's time zone, ``from`` and ``to`` both included. The figures, exactly (docs/metrics.md):

- ``requests``: requests of the cohort. ``orders``: orders placed in the period.
- ``refund_rate`` = requests / orders (``None`` without orders).
- ``amount_refunded``: Σ refunded amount of the cohort's refunded requests, per currency
  (an exchange's price-difference refund is a request of its own, outside the cohort).
- ``auto_decision_rate``: requests the policy approved or rejected by itself (not sent to
  review) / requests.
- ``median_hours_to_refund``, ``p90_hours_to_refund``: over refunded requests of the
  cohort, hours from creation to the ``refunded`` timeline event (``refunded_at``).
- ``median_hours_to_first_response``: over the cohort, hours from creation to the first
  timeline event by staff or by the policy other than the submission itself (an agent may
  have typed the request in).
- ``sla_compliance``: the cohort's finished work items that had a deadline, finished
  (``closed_at``) no later than it / all of them.
- ``csat_avg``: mean survey score (1–5) of the cohort; ``csat_positive_share``: share of
  scores ≥ 4.
- ``complaint_rate`` = complaints about the cohort / requests; ``appeal_rate`` = appealed
  requests / requests; ``exchange_share`` = exchange requests / requests.
- ``compensation_cost``: Σ cost of compensation issued on the cohort, per currency.

Rates are fractions in [0, 1] (``None`` when the denominator is 0). Medians and the 90th
percentile are exact: the median of an even count is the mean of the two middle values,
the 90th percentile is the nearest rank ``ceil(0.9 n)``; the reader returns the values at
those ranks, the arithmetic is here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, Protocol

from refundflow.domain.actors import Actor
from refundflow.domain.errors import InvalidInputError, PermissionDeniedError
from refundflow.domain.money import Money
from refundflow.domain.permissions import Operation, may
from refundflow.services.unit_of_work import UnitOfWorkFactory

MAX_DAYS = 731
DIMENSIONS = ("reason", "category", "sku", "channel", "tier", "root_cause")
BREAKDOWN_LIMIT = 50
DURATIONS = ("refund", "first_response")


@dataclass(frozen=True, slots=True)
class Window:
    """[start, end) in UTC: the local midnights around whole days."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Headline:
    """The cohort's counts and sums, as the reader finds them."""

    requests: int = 0
    auto_decided: int = 0
    exchanges: int = 0
    appealed: int = 0
    refunded: int = 0
    complaints: int = 0
    sla_met: int = 0
    sla_finished: int = 0
    surveys: int = 0
    csat_sum: int = 0
    csat_positive: int = 0
    orders: int = 0
    refunded_minor: tuple[tuple[str, int], ...] = ()
    compensation_minor: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class BreakdownRow:
    key: str
    requests: int
    refunded: int
    refunded_minor: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class DayRow:
    day: date
    requests: int
    orders: int
    refunded: int
    auto_decided: int


class MetricsReader(Protocol):
    """Aggregates over the stored requests (adapters/db/metrics_repo.py)."""

    def headline(self, window: Window) -> Headline: ...

    def duration_ranks(self, metric: str, window: Window) -> tuple[int, dict[int, float]]:
        """How many durations (seconds) of ``metric`` (``refund``, ``first_response``) the
        cohort has, and the values at the ranks ``quantile_ranks`` names (1-based, in
        ascending order)."""
        ...

    def breakdowns(self, window: Window, limit: int) -> dict[str, list[BreakdownRow]]:
        """Requests of the cohort per value of each of ``DIMENSIONS``, most requests first
        (then by key), at most ``limit`` rows each."""
        ...

    def daily(self, days: Sequence[tuple[date, Window]]) -> list[DayRow]: ...

    def pending(self) -> int:
        """Local days with changes not yet rolled up."""
        ...

    def mark_all(self) -> None:
        """Mark every day with data to be rolled up again."""
        ...

    def refresh(self, now: datetime, max_days: int) -> int:
        """Roll up at most ``max_days`` days with pending changes; how many were."""
        ...


@dataclass(frozen=True, slots=True)
class Period:
    first: date
    last: date  # included

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def window(self, tz: tzinfo) -> Window:
        return Window(_midnight(self.first, tz), _midnight(self.last + timedelta(days=1), tz))

    def each_day(self, tz: tzinfo) -> list[tuple[date, Window]]:
        out = []
        for i in range(self.days):
            day = self.first + timedelta(days=i)
            out.append((day, Window(_midnight(day, tz), _midnight(day + timedelta(days=1), tz))))
        return out


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(), tz)


def parse_period(start: str | None, end: str | None, today: date) -> Period:
    """``from``/``to`` as ISO dates, both included; the last 30 days up to today by default."""

    def read(value: str | None, name: str, default: date) -> date:
        if value is None or not value.strip():
            return default
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInputError(
                f"{name} must be a date written YYYY-MM-DD, such as 2026-11-01; got {value!r}",
                details={"field": name},
            ) from None

    last = read(end, "to", today)
    first = read(start, "from", last - timedelta(days=29))
    if first > last:
        raise InvalidInputError(
            f"from ({first}) must not be after to ({last})", details={"field": "from"}
        )
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidInputError(
            f"a period covers at most {MAX_DAYS} days", details={"field": "from"}
        )
    return Period(first, last)


def check_access(actor: Actor) -> None:
    if not may(actor.role, Operation.VIEW_DASHBOARD):
        raise PermissionDeniedError(f"the {actor.role.value} role cannot see the dashboard")


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def money_list(minor: Sequence[tuple[str, int]]) -> list[dict[str, str]]:
    """Sums per currency in the API's money form: ``{"amount": "12.00", "currency": "CNY"}``."""
    return [
        {"amount": Money.from_minor(int(value), currency).text(), "currency": currency}
        for currency, value in sorted(minor)
    ]


def exact_quantiles(count: int, at: dict[int, float]) -> tuple[float | None, float | None]:
    """Median and nearest-rank 90th percentile from the values at ``quantile_ranks``."""
    if not count:
        return None, None
    low, high = (count + 1) // 2, count // 2 + 1
    median = at[low] if count % 2 else (at[count // 2] + at[high]) / 2
    return median, at[math.ceil(0.9 * count)]


def quantile_ranks(count: int) -> list[int]:
    """The ranks ``exact_quantiles`` reads (the reader returns the values at them)."""
    if not count:
        return []
    return sorted({(count + 1) // 2, count // 2, count // 2 + 1, math.ceil(0.9 * count)} - {0})


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 4)


def figures(reader: MetricsReader, window: Window) -> dict[str, Any]:
    """The headline figures of one period (also used for the previous period)."""
    h = reader.headline(window)
    out: dict[str, Any] = {
        "requests": h.requests,
        "orders": h.orders,
        "refund_rate": _rate(h.requests, h.orders),
        "amount_refunded": money_list(h.refunded_minor),
        "refunded_requests": h.refunded,
        "auto_decision_rate": _rate(h.auto_decided, h.requests),
    }
    for metric, name in (
        ("refund", "hours_to_refund"),
        ("first_response", "hours_to_first_response"),
    ):
        count, at = reader.duration_ranks(metric, window)
        median, p90 = exact_quantiles(count, at)
        out[f"median_{name}"] = _hours(median)
        out[f"p90_{name}"] = _hours(p90)
    out.update(
        sla_compliance=_rate(h.sla_met, h.sla_finished),
        csat_avg=round(h.csat_sum / h.surveys, 4) if h.surveys else None,
        csat_positive_share=_rate(h.csat_positive, h.surveys),
        surveys=h.surveys,
        complaint_rate=_rate(h.complaints, h.requests),
        appeal_rate=_rate(h.appealed, h.requests),
        exchange_share=_rate(h.exchanges, h.requests),
        compensation_cost=money_list(h.compensation_minor),
    )
    return out


def _rows(rows: list[BreakdownRow], total: int) -> list[dict[str, Any]]:
    return [
        {
            "key": row.key,
            "requests": row.requests,
            "share": _rate(row.requests, total),
            "refunded": row.refunded,
            "amount_refunded": money_list(row.refunded_minor),
        }
        for row in rows
    ]


def summary(uows: UnitOfWorkFactory, actor: Actor, period: Period) -> dict[str, Any]:
    """Every figure of the dashboard for ``period``, the previous period of equal length,
    the breakdowns and the daily trend: one read-only transaction, so they agree."""
    check_access(actor)
    with uows(write=False) as uow:
        tz = uow.tz
        reader = uow.metrics
        window = period.window(tz)
        current = figures(reader, window)
        before = period.previous()
        previous = figures(reader, before.window(tz))
        breakdowns = {
            f"by_{dimension}": _rows(rows, current["requests"])
            for dimension, rows in reader.breakdowns(window, BREAKDOWN_LIMIT).items()
        }
        daily = reader.daily(period.each_day(tz))
    return {
        "from": period.first.isoformat(),
        "to": period.last.isoformat(),
        **current,
        "previous": {"from": before.first.isoformat(), "to": before.last.isoformat(), **previous},
        **breakdowns,
        "daily": [
            {
                "day": row.day.isoformat(),
                "requests": row.requests,
                "orders": row.orders,
                "refunded": row.refunded,
                "auto_decided": row.auto_decided,
            }
            for row in daily
        ],
    }


# ---------------------------------------------------------------------- rollups
ROLLUP_DAYS_PER_PASS = 7


def refresh_rollups(uows: UnitOfWorkFactory, *, max_days: int = ROLLUP_DAYS_PER_PASS) -> int:
    """One pass of the worker: roll up the days whose requests changed (newest first, at
    most ``max_days`` in one short write transaction); the number of days rolled up."""
    if not pending_rollups(uows):
        return 0  # no write transaction (SQLite's one write lock) for nothing
    with uows(write=True) as uow:
        rolled = uow.metrics.refresh(uow.now(), max_days)
        uow.commit()
    return rolled


def pending_rollups(uows: UnitOfWorkFactory) -> int:
    with uows(write=False) as uow:
        return uow.metrics.pending()


def rebuild_rollups(
    uows: UnitOfWorkFactory,
    *,
    everything: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Roll up every pending day now (with ``everything``, every day with data again),
    ``progress(done, total)`` after each pass; the number of days rolled up."""
    if everything:
        with uows(write=True) as uow:
            uow.metrics.mark_all()
            uow.commit()
    total = pending_rollups(uows)
    done = 0
    while rolled := refresh_rollups(uows, max_days=31):
        done += rolled
        total = max(total, done)
        if progress is not None:
            progress(done, total)
    return done
