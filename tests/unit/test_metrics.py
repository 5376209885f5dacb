"""The dashboard's arithmetic: exact quantiles from the values at a few ranks, and periods."""

from __future__ import annotations

import math
import random
import statistics
from datetime import date

import pytest

from refundflow.domain.errors import InvalidInputError
from refundflow.services.metrics import Period, exact_quantiles, parse_period, quantile_ranks


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 9, 10, 11, 99, 100, 1001])
def test_the_median_and_p90_need_only_the_values_at_their_ranks(count: int) -> None:
    values = sorted(random.Random(count).uniform(0, 500) for _ in range(count))
    at = {rank: values[rank - 1] for rank in quantile_ranks(count)}
    median, p90 = exact_quantiles(count, at)
    assert median == pytest.approx(statistics.median(values))
    assert p90 == values[math.ceil(0.9 * count) - 1]


def test_no_values_have_no_quantiles() -> None:
    assert quantile_ranks(0) == [] and exact_quantiles(0, {}) == (None, None)


def test_the_ranks_match_the_integer_arithmetic_of_the_sql() -> None:
    for n in range(1, 2000):
        sql = {(n + 1) // 2, n // 2, n // 2 + 1, (9 * n + 9) // 10} - {0}
        assert set(quantile_ranks(n)) == sql


def test_a_period_includes_both_days_and_the_previous_one_has_the_same_length() -> None:
    period = parse_period("2026-11-20", "2026-11-26", date(2026, 11, 26))
    assert period.days == 7
    assert period.previous() == Period(date(2026, 11, 13), date(2026, 11, 19))
    assert parse_period(None, None, date(2026, 11, 26)) == Period(
        date(2026, 10, 28), date(2026, 11, 26)
    )


@pytest.mark.parametrize(
    ("start", "end", "words"),
    [
        ("2026-02-30", "2026-03-01", "from must be a date"),
        ("2026-11-20", "2026-11-19", "must not be after"),
        ("2020-01-01", "2026-11-19", "at most 731 days"),
    ],
)
def test_bad_periods_say_what_is_wrong(start: str, end: str, words: str) -> None:
    with pytest.raises(InvalidInputError, match=words):
        parse_period(start, end, date(2026, 11, 26))
