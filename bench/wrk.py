"""Drive the ``wrk`` load generator: find or install it, run a plan, read its summary."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from bench.errors import BenchError
from bench.rows import Figures

SCRIPT = Path(__file__).with_name("plan.lua")
MARKER = "WRK_JSON "


@dataclass(frozen=True, slots=True)
class PlannedRequest:
    method: str
    path: str
    body: str = ""  # compact JSON: no tab, no newline


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests: int
    seconds: float
    errors: dict[str, int]  # connect, read, write, timeout (socket) and status (HTTP ≥ 400)
    latency_ms: dict[str, float]  # p50, p90, p99, mean, max

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def failed(self) -> int:
        return sum(self.errors.values())

    def figures(self) -> Figures:
        return Figures(self.per_second, self.latency_ms["p50"], self.latency_ms["p99"])

    def as_json(self) -> dict[str, object]:
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "per_second": round(self.per_second, 1),
            "latency_ms": self.latency_ms,
            "errors": self.errors,
        }


def ensure_wrk(console: Console) -> str:
    """The path of ``wrk``; installs Debian's package when missing and we are root."""
    found = shutil.which("wrk")
    if found:
        return found
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        console.print("[yellow]wrk is missing: installing it with apt-get install -y wrk[/yellow]")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "wrk"]
        if subprocess.run(install, env=env, capture_output=True, check=False).returncode:
            # A fresh machine's package lists may be empty or stale: update once, retry.
            subprocess.run(["apt-get", "update"], env=env, capture_output=True, check=False)
            subprocess.run(install, env=env, capture_output=True, check=False)
        found = shutil.which("wrk")
        if found:
            return found
    raise BenchError(
        "the load generator wrk is not installed and could not be installed here; "
        "install it (Debian/Ubuntu: apt-get install wrk) and run the bench again"
    )


def write_plan(path: Path, requests: list[PlannedRequest]) -> Path:
    with path.open("w") as out:
        for planned in requests:
            out.write(f"{planned.method}\t{planned.path}\t{planned.body}\n")
    return path


def run(
    wrk: str,
    url: str,
    plan: Path,
    *,
    token: str,
    offset: int,
    seconds: float,
    connections: int,
    threads: int = 1,
) -> WrkResult:
    """One closed-loop run: ``connections`` keep-alive connections, each sending its next
    request as soon as the last one is answered, for ``seconds``."""
    command = [
        wrk,
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",
        "--timeout=5s",
        "--latency",
        f"--script={SCRIPT}",
        url,
        "--",
        str(plan),
        str(offset),
        token,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith(MARKER)), None)
    if done.returncode != 0 or line is None:
        raise BenchError(
            f"wrk failed (exit {done.returncode}) against {url}:\n{done.stdout}\n{done.stderr}"
        )
    data = json.loads(line.removeprefix(MARKER))
    return WrkResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        errors=data["errors"],
        latency_ms={name: value / 1000 for name, value in data["latency_us"].items()},
    )
