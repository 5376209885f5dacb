"""Real ``refundflow serve`` processes on 127.0.0.1 for tests that need real concurrency."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_servers(
    database_url: str, count: int = 1, *, worker: bool = False, env: dict[str, str] | None = None
) -> Iterator[list[str]]:
    """Start ``count`` API processes on one database; yield their base URLs; stop them."""
    processes: list[subprocess.Popen[bytes]] = []
    urls = []
    environment = {
        **os.environ,
        "REFUNDFLOW_DATABASE_URL": database_url,
        "REFUNDFLOW_ENVIRONMENT": "test",
        **(env or {}),
    }
    try:
        for _ in range(count):
            port = free_port()
            args = [
                sys.executable,
                "-m",
                "refundflow.entrypoints.cli",
                "serve",
                "--port",
                str(port),
            ]
            if not worker:
                args.append("--no-worker")
            processes.append(
                subprocess.Popen(
                    args, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        for url, process in zip(urls, processes, strict=True):
            _wait_ready(url, process)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stderr is not None:
                process.stderr.close()


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90  # a loaded 2-core machine starts four servers slowly
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"server for {url} exited: {error[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server {url} did not start in 90 s")
