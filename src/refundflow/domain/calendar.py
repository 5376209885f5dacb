"""Business time: deadlines that count only working hours on working days.

Which days are working days comes from a ``WorkdayData`` source (China's official holidays
and make-up working days, where the State Council has announced them) plus the days an
admin adds. For a year without data, weekends are days off and only admin-added holidays
count, and the ``on_missing_year`` callback is told once per year so it can warn: a request
never fails because a year is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Protocol

MAX_DAYS = 3660  # never look further than ten years for working time


class WorkdayData(Protocol):
    def is_workday(self, day: date) -> bool | None:
        """True or False where official data exists for the day's year, else None."""


@dataclass(frozen=True, slots=True)
class WorkingHours:
    start: time = time(9, 0)
    end: time = time(18, 0)

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("working hours must end after they start")

    @property
    def per_day(self) -> timedelta:
        return datetime.combine(date.min, self.end) - datetime.combine(date.min, self.start)


@dataclass(slots=True)
class BusinessCalendar:
    data: WorkdayData
    tz: tzinfo
    hours: WorkingHours = field(default_factory=WorkingHours)
    holidays: frozenset[date] = frozenset()  # added by an admin: days off
    workdays: frozenset[date] = frozenset()  # added by an admin: make-up working days
    on_missing_year: Callable[[int], None] | None = None
    _warned: set[int] = field(default_factory=set)

    def with_days(self, holidays: Iterable[date], workdays: Iterable[date]) -> BusinessCalendar:
        return BusinessCalendar(
            self.data,
            self.tz,
            self.hours,
            frozenset(holidays),
            frozenset(workdays),
            self.on_missing_year,
        )

    def is_workday(self, day: date) -> bool:
        if day in self.holidays:
            return False
        if day in self.workdays:
            return True
        official = self.data.is_workday(day)
        if official is not None:
            return official
        if day.year not in self._warned:
            self._warned.add(day.year)
            if self.on_missing_year is not None:
                self.on_missing_year(day.year)
        return day.weekday() < 5

    def add(self, start: datetime, duration: timedelta, *, business: bool) -> datetime:
        """``start`` + ``duration``: in plain time, or counting only working hours on
        working days (in the shop's time zone) when ``business`` is set."""
        if not business or duration <= timedelta(0):
            return start + duration
        local = start.astimezone(self.tz)
        left = duration
        day = local.date()
        for _ in range(MAX_DAYS):
            if self.is_workday(day):
                opens = datetime.combine(day, self.hours.start, self.tz)
                closes = datetime.combine(day, self.hours.end, self.tz)
                begin = max(local, opens) if day == local.date() else opens
                if begin < closes:
                    available = closes - begin
                    if left <= available:
                        return (begin + left).astimezone(start.tzinfo)
                    left -= available
            day += timedelta(days=1)
        raise ValueError("no working time found in ten years: check the calendar")

    def between(self, start: datetime, end: datetime, *, business: bool) -> timedelta:
        """How much (working) time passes from ``start`` to ``end``."""
        if not business or end <= start:
            return max(end - start, timedelta(0))
        total = timedelta(0)
        day = start.astimezone(self.tz).date()
        last = end.astimezone(self.tz).date()
        while day <= last:
            if self.is_workday(day):
                opens = datetime.combine(day, self.hours.start, self.tz)
                closes = datetime.combine(day, self.hours.end, self.tz)
                begin, finish = max(opens, start), min(closes, end)
                if finish > begin:
                    total += finish - begin
            day += timedelta(days=1)
        return total
