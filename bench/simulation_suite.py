"""Simulating a draft policy over 1,000,000 stored requests, next to the bare reading of the
same rows (the same SQL query, iterated into Python and thrown away).

Target (issue: automated review): the simulation takes at most twice the bare read, i.e. a
rate ratio ≥ 0.5, with peak memory under 300 MB. Each side runs in its own fresh process,
so the peak resident memory printed is the simulation's own.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

from bench.history_fixture import history_database
from bench.options import RunOptions
from bench.rows import Figures, Row

REQUESTS = 1_000_000
MEMORY_LIMIT_MB = 300
ROUNDS = 3

_BARE = """
import json, sqlite3, sys, time
from refundflow.adapters.db.history_repo import REQUESTS_QUERY
conn = sqlite3.connect(sys.argv[1])
started = time.perf_counter()
rows = 0
cursor = conn.execute(REQUESTS_QUERY, {"before": "2100-01-01 00:00:00.000000"})
while batch := cursor.fetchmany(2000):
    rows += len(batch)
import resource
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": time.perf_counter() - started, "rows": rows,
                  "cpu": usage.ru_utime + usage.ru_stime, "peak_kb": usage.ru_maxrss}))
"""

_SIMULATE = """
import json, sys, time
from datetime import UTC, datetime
from refundflow.domain.actors import Actor, ActorKind
from refundflow.domain.permissions import Role
from refundflow.entrypoints.bootstrap import bootstrap
from refundflow.entrypoints.settings import Settings
from refundflow.services.simulation import simulate
box = bootstrap(Settings(database_url=f"sqlite:///{sys.argv[1]}", _env_file=None))
manager = Actor(ActorKind.STAFF, Role.MANAGER, "bench", "bench")
started = time.perf_counter()
result = simulate(box.uows, manager, 2, datetime(2000, 1, 1, tzinfo=UTC),
                  datetime(2100, 1, 1, tzinfo=UTC), minutes_per_review=15)
seconds = time.perf_counter() - started
box.close()
import resource
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": seconds, "count": result["count"],
                  "changed": result["changed"]["total"], "outcomes": result["outcomes"],
                  "cpu": usage.ru_utime + usage.ru_stime, "peak_kb": usage.ru_maxrss}))
"""


def _child(code: str, database: Path) -> tuple[dict[str, object], float]:
    """Run ``code`` in a fresh interpreter; its result and its own peak memory in MB (the
    child reads its ``ru_maxrss``: the parent's view mixes all its children)."""
    done = subprocess.run(
        [sys.executable, "-c", code, str(database)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench child failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result, float(result["peak_kb"]) / 1024


def run(options: RunOptions) -> list[Row]:
    console = options.console
    with console.status(f"simulation: building (or reusing) {REQUESTS:,} stored requests…"):
        database = history_database(REQUESTS)
    bare_seconds: list[float] = []
    simulated_seconds: list[float] = []
    cpu_ratios: list[float] = []
    peaks: list[float] = []
    result: dict[str, object] = {}
    for number in range(1, ROUNDS + 1):
        bare, _ = _child(_BARE, database)
        result, peak = _child(_SIMULATE, database)
        bare_seconds.append(float(bare["seconds"]))  # type: ignore[arg-type]
        simulated_seconds.append(float(result["seconds"]))  # type: ignore[arg-type]
        peaks.append(peak)
        # CPU time (whole child process, start-up included) moves less than wall time when
        # other programs share the machine.
        cpu_ratios.append(float(bare["cpu"]) / float(result["cpu"]))  # type: ignore[arg-type]
        if options.verbose:
            console.print(
                f"  round {number}: simulate {simulated_seconds[-1]:.2f} s, "
                f"bare read {bare_seconds[-1]:.2f} s, peak {peak:.0f} MB"
            )
    simulated = statistics.median(simulated_seconds)
    bare_time = statistics.median(bare_seconds)
    peak = max(peaks)
    if peak > MEMORY_LIMIT_MB:
        console.print(f"[bold red]simulation peak memory {peak:.0f} MB > {MEMORY_LIMIT_MB}[/]")
    return [
        Row(
            key="policy.simulate_1m",
            label=f"simulate 1M requests ({simulated:.1f} s, peak {peak:.0f} MB)",
            figures=Figures(REQUESTS / simulated),
            baseline_label=f"bare read of the rows ({bare_time:.1f} s)",
            baseline=Figures(REQUESTS / bare_time),
            target=0.5,
            rounds=[
                {
                    "round": i + 1,
                    "simulate_s": round(s, 3),
                    "bare_s": round(b, 3),
                    "peak_mb": round(m),
                }
                for i, (s, b, m) in enumerate(
                    zip(simulated_seconds, bare_seconds, peaks, strict=True)
                )
            ],
            notes={
                "peak_mb": round(peak),
                "cpu_time_ratio_median": round(statistics.median(cpu_ratios), 3),
                "memory_limit_mb": MEMORY_LIMIT_MB,
                "count": result.get("count"),
                "changed": result.get("changed"),
                "outcomes": result.get("outcomes"),
            },
        )
    ]
