"""Business time with China's official calendar (chinese-calendar data for 2026)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from refundflow.adapters.holidays import ChinaWorkdays
from refundflow.domain.calendar import BusinessCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


@pytest.fixture
def calendar() -> BusinessCalendar:
    return BusinessCalendar(ChinaWorkdays(), SHANGHAI)


def test_business_hours_skip_the_weekend(calendar: BusinessCalendar) -> None:
    # Friday 27 Nov 2026, 17:00 + 2 working hours: 1 h on Friday, 1 h on Monday.
    assert calendar.add(at(2026, 11, 27, 17), timedelta(hours=2), business=True) == at(
        2026, 11, 30, 10
    )


def test_business_hours_skip_the_spring_festival_holiday(calendar: BusinessCalendar) -> None:
    # 2026 Spring Festival: 15–23 Feb off; Saturday 14 Feb is a make-up working day.
    assert not calendar.is_workday(date(2026, 2, 16))
    assert calendar.add(at(2026, 2, 14, 17), timedelta(hours=2), business=True) == at(
        2026, 2, 24, 10
    )


def test_a_make_up_saturday_counts_as_a_working_day(calendar: BusinessCalendar) -> None:
    assert calendar.is_workday(date(2026, 2, 28))
    # Friday 27 Feb 17:00 + 3 h: 1 h Friday, then the make-up Saturday 28 Feb.
    assert calendar.add(at(2026, 2, 27, 17), timedelta(hours=3), business=True) == at(
        2026, 2, 28, 11
    )


def test_a_start_outside_working_hours_begins_at_the_next_opening(
    calendar: BusinessCalendar,
) -> None:
    assert calendar.add(at(2026, 11, 26, 22), timedelta(hours=1), business=True) == at(
        2026, 11, 27, 10
    )
    assert calendar.add(at(2026, 11, 26, 7), timedelta(minutes=30), business=True) == at(
        2026, 11, 26, 9, 30
    )


def test_plain_time_ignores_the_calendar(calendar: BusinessCalendar) -> None:
    start = at(2026, 2, 14, 17)
    assert calendar.add(start, timedelta(hours=48), business=False) == start + timedelta(hours=48)


def test_a_year_without_official_data_counts_weekends_and_admin_days_and_warns_once() -> None:
    warned: list[int] = []
    calendar = BusinessCalendar(
        ChinaWorkdays(),
        SHANGHAI,
        holidays=frozenset({date(2027, 2, 8)}),
        on_missing_year=warned.append,
    )
    # Friday 5 Feb 2027 17:00 + 2 h: Monday 8 Feb is an admin holiday, so Tuesday 10:00.
    assert calendar.add(at(2027, 2, 5, 17), timedelta(hours=2), business=True) == at(2027, 2, 9, 10)
    assert calendar.is_workday(date(2027, 2, 10))
    assert warned == [2027]


def test_time_between_counts_only_working_time(calendar: BusinessCalendar) -> None:
    assert calendar.between(at(2026, 11, 27, 17), at(2026, 11, 30, 10), business=True) == (
        timedelta(hours=2)
    )


def test_deadlines_keep_the_callers_time_zone(calendar: BusinessCalendar) -> None:
    # 09:00 UTC is 17:00 in Shanghai: 1 h on Friday, 1 h on Monday (10:00 = 02:00 UTC).
    due = calendar.add(datetime(2026, 11, 27, 9, tzinfo=UTC), timedelta(hours=2), business=True)
    assert due.tzinfo is UTC
    assert due == datetime(2026, 11, 30, 2, tzinfo=UTC)
