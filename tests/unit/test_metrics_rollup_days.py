"""Which local days an hour of changes touches, and runs of consecutive days."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from refundflow.adapters.db.metrics_repo import SqlMetricsReader, _runs


def _reader(tz: str) -> SqlMetricsReader:
    return SqlMetricsReader(None, ZoneInfo(tz))  # type: ignore[arg-type]  # no SQL needed


def test_an_hour_belongs_to_the_local_day_it_falls_in() -> None:
    shanghai = _reader("Asia/Shanghai")
    # 15:00–16:00 UTC is 23:00–24:00 in Shanghai: 20 November only.
    assert shanghai._slot_days("2026-11-20 15") == {date(2026, 11, 20)}
    # 16:00 UTC is midnight in Shanghai: the next day.
    assert shanghai._slot_days("2026-11-20 16") == {date(2026, 11, 21)}


def test_an_hour_split_by_a_half_hour_time_zone_marks_both_days() -> None:
    kolkata = _reader("Asia/Kolkata")  # UTC+5:30: 18:00–19:00 UTC is 23:30–00:30
    assert kolkata._slot_days("2026-11-20 18") == {date(2026, 11, 20), date(2026, 11, 21)}


def test_consecutive_days_make_one_run() -> None:
    days = [date(2026, 11, d) for d in (5, 1, 2, 3, 7, 8)]
    assert _runs(days) == [
        (date(2026, 11, 1), date(2026, 11, 3)),
        (date(2026, 11, 5), date(2026, 11, 5)),
        (date(2026, 11, 7), date(2026, 11, 8)),
    ]
    assert _runs([]) == []
