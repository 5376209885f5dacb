"""The rows of every suite as one table, and as bench/results.json."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.table import Table

from bench import cpu
from bench.rows import Row

RESULTS = Path(__file__).parent / "results.json"


def _rate(value: float | None) -> str:
    return f"{value:,.0f}" if value is not None else "—"


def _ms(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "—"


def _met(value: bool | None) -> str:
    if value is None:
        return "—"
    return "[green]yes[/green]" if value else "[bold red]no[/bold red]"


def table(rows: list[Row]) -> Table:
    out = Table(title="refundflow bench (medians of rounds)", title_justify="left")
    for name in ("measurement", "req/s", "p50 ms", "p99 ms", "baseline"):
        out.add_column(name, justify="left" if name in ("measurement", "baseline") else "right")
    for name in ("baseline req/s", "baseline p50", "baseline p99", "ratio", "target", "met?"):
        out.add_column(name, justify="right")
    for row in rows:
        base = row.baseline
        out.add_row(
            row.label,
            _rate(row.figures.per_second),
            _ms(row.figures.p50_ms),
            _ms(row.figures.p99_ms),
            row.baseline_label or "—",
            _rate(base.per_second if base else None),
            _ms(base.p50_ms if base else None),
            _ms(base.p99_ms if base else None),
            f"{row.ratio:.2f}" if row.ratio is not None else "—",
            f"≥ {row.target:g}" if row.target is not None else "—",
            _met(row.met),
        )
    return out


def machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "cpu_busy_at_start": cpu.busy_now(),
    }


def write_results(
    rows: list[Row], config: dict[str, Any], *, path: Path = RESULTS, started: dict[str, Any]
) -> None:
    """Merge ``rows`` into ``path``: a run of one suite (``--only``) keeps the other suites'
    last figures, each stamped with when and on what it was measured."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        document = json.loads(path.read_text())
        if not isinstance(document.get("measurements"), dict):
            raise ValueError("no measurements")
    except (OSError, ValueError):
        document = {"measurements": {}}
    for row in rows:
        document["measurements"][row.key] = {
            **row.as_json(),
            "measured_at": now,
            "machine": started,
            "config": config,
        }
    document["timestamp"] = now
    document["machine"] = started
    # Write aside and rename, so an interrupted run never leaves half a file behind.
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    scratch.replace(path)
