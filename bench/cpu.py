"""CPU accounting (Linux ``/proc``): what the server spends per request, and how much of the
machine other programs took while we measured.

Requests per second on a shared 2-core machine move with whatever else runs; CPU time per
request moves far less, and the share taken by other programs tells which rounds to doubt.
Elsewhere than Linux every figure here is None and the bench just reports less.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _system_ticks() -> tuple[int, int] | None:
    """(all ticks, idle ticks) summed over every CPU since boot."""
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0]
        fields = [int(x) for x in first.split()[1:]]
    except (OSError, ValueError):
        return None
    return sum(fields), fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait


def process_seconds(pid: int) -> float | None:
    """User + system CPU time of a running process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The fields after the parenthesised command name; utime and stime are the 14th and
    # 15th of the whole line.
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def busy_now(seconds: float = 0.5) -> float | None:
    """The share of all CPUs that are busy over the next ``seconds`` (0.0 to 1.0)."""
    before = _system_ticks()
    time.sleep(seconds)
    after = _system_ticks()
    if before is None or after is None or after[0] == before[0]:
        return None
    total, idle = after[0] - before[0], after[1] - before[1]
    return round(1 - idle / total, 3)


@dataclass(frozen=True, slots=True)
class Snapshot:
    system: tuple[int, int] | None
    server_seconds: float | None
    children_seconds: float  # finished children: the wrk runs

    @classmethod
    def take(cls, server_pid: int) -> Snapshot:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return cls(_system_ticks(), process_seconds(server_pid), usage.ru_utime + usage.ru_stime)


def server_seconds(before: Snapshot, after: Snapshot) -> float | None:
    if before.server_seconds is None or after.server_seconds is None:
        return None
    return after.server_seconds - before.server_seconds


def others_share(before: Snapshot, after: Snapshot) -> float | None:
    """The share of all CPUs that programs other than the server and wrk kept busy."""
    server = server_seconds(before, after)
    if before.system is None or after.system is None or server is None:
        return None
    total = (after.system[0] - before.system[0]) / TICK
    if total <= 0:
        return None
    busy = total - (after.system[1] - before.system[1]) / TICK
    ours = server + after.children_seconds - before.children_seconds
    return round(max(0.0, busy - ours) / total, 3)
