"""What a suite hands back: one ``Row`` per measurement, compared with its baseline.

A row's ``target`` is a floor on its ratio to the baseline when it has one (refundflow's
rate ÷ the baseline's rate), and a floor on its own rate per second when it has none, so
that rows such as "import rate" can carry an absolute goal later.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Figures:
    """One rate and its latency percentiles (None where a measurement has no latency)."""

    per_second: float
    p50_ms: float | None = None
    p99_ms: float | None = None

    @classmethod
    def median_of(cls, rounds: list[Figures]) -> Figures:
        """The median of each figure over the rounds: one slow round on a noisy machine
        moves it less than it moves a mean."""

        def median(values: list[float | None]) -> float | None:
            known = [v for v in values if v is not None]
            return statistics.median(known) if known else None

        return cls(
            per_second=statistics.median(r.per_second for r in rounds),
            p50_ms=median([r.p50_ms for r in rounds]),
            p99_ms=median([r.p99_ms for r in rounds]),
        )


@dataclass(frozen=True, slots=True)
class Row:
    key: str  # the name in results.json, stable across runs: "http.create_refund_request"
    label: str  # what the table shows
    figures: Figures
    baseline_label: str | None = None
    baseline: Figures | None = None
    target: float | None = None
    rounds: list[dict[str, Any]] = field(default_factory=list)  # raw, for results.json
    notes: dict[str, Any] = field(default_factory=dict)
    # The median share of all CPUs that other programs took while this row was measured:
    # above ~0.15 its figures are suspect (``python -m bench`` says so).
    others_cpu_share: float | None = None

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline.per_second <= 0:
            return None
        return self.figures.per_second / self.baseline.per_second

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        measured = self.ratio if self.baseline is not None else self.figures.per_second
        return measured is not None and measured >= self.target

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            **_rounded(asdict(self.figures)),
            "baseline": self.baseline_label,
            "baseline_figures": _rounded(asdict(self.baseline)) if self.baseline else None,
            "ratio": round(self.ratio, 4) if self.ratio is not None else None,
            "target": self.target,
            "met": self.met,
            "others_cpu_share": self.others_cpu_share,
            "rounds": self.rounds,
            "notes": self.notes,
        }


def _rounded(figures: dict[str, float | None]) -> dict[str, float | None]:
    return {k: round(v, 3) if v is not None else None for k, v in figures.items()}
