"""Start and stop the one uvicorn process that serves ``bench.app`` on a free local port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.app import DATABASE_ENV
from bench.errors import BenchError

PROJECT = Path(__file__).resolve().parents[1]  # the child's cwd, so ``bench.app`` imports
HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class Server:
    url: str
    log: Path
    pid: int

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def free_port() -> int:
    # The port could be taken between here and uvicorn's bind; the readiness check below
    # then fails loudly rather than measuring someone else's server.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.app:create_bench_app",
        "--factory",
        f"--host={HOST}",
        f"--port={port}",
        "--workers=1",  # one process: the figures are per process, the deployment unit
        "--loop=uvloop",
        "--http=httptools",
        "--no-access-log",
        "--log-level=warning",
    ]


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    # trust_env=False: a proxy configured for the outside world must not see local calls.
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise BenchError(
                    f"the server exited with {process.returncode} before it was ready:\n"
                    + log.read_text(errors="replace")
                )
            try:
                if client.get(url + "/bench/hello").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise BenchError(f"the server was not ready within {timeout:.0f} s:\n" + log.read_text())


@contextmanager
def serving(database: Path, log: Path, *, timeout: float = 30.0) -> Iterator[Server]:
    """Serve ``database`` until the block ends; the server's output goes to ``log``."""
    port = free_port()
    env = {**os.environ, DATABASE_ENV: str(database)}
    with log.open("wb") as out:
        process = subprocess.Popen(
            _command(port), cwd=PROJECT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = Server(f"http://{HOST}:{port}", log, process.pid)
    try:
        _wait_ready(process, server.url, log, timeout)
        yield server
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown runs the lifespan's end
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
