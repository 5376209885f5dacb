"""China's official holidays and make-up working days, from the `chinese-calendar` package
(the State Council's announcements; a year appears once announced)."""

from __future__ import annotations

import logging
from datetime import date

import chinese_calendar

log = logging.getLogger("refundflow.calendar")


class ChinaWorkdays:
    def is_workday(self, day: date) -> bool | None:
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            return None


def warn_missing_year(year: int) -> None:
    log.warning(
        "no official holiday data for %s yet (update the chinese-calendar package when the "
        "State Council announces it): counting weekends and admin-added holidays",
        year,
    )
