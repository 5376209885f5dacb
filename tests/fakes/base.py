"""What every fake gateway shares: a threaded HTTP server, keys, counters and faults.

Faults are queued per operation (``fake.inject("timeout", op="refund")``) and consumed one per
call, so a test says exactly which call misbehaves. The kinds:

- ``timeout``: the refund is processed, the answer comes after the client gave up;
- ``reset``: the refund is processed, then the connection is reset (no answer);
- ``5xx`` / ``429``: refused before processing (a load balancer's 502, a rate limit);
- ``malformed``: processed, answered with a body that is not the protocol's;
- ``bad_signature``: processed, answered signed with a key that is not the gateway's;
- ``fail``: a definite business refusal, nothing processed.
"""

from __future__ import annotations

import base64
import socket
import struct
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

FAULTS = ("timeout", "reset", "5xx", "429", "malformed", "bad_signature", "fail")


@lru_cache(maxsize=16)
def rsa_key(name: str) -> rsa.RSAPrivateKey:
    """A 2048-bit key generated once per test process and name."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def rsa_sign(key: rsa.RSAPrivateKey, message: str) -> str:
    signature = key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def rsa_verify(public_key: Any, message: str, signature: str) -> bool:
    try:
        public_key.verify(
            base64.b64decode(signature), message.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except Exception:
        return False
    return True


class ConnectionResetFault(Exception):
    """Raised by a handler to reset the connection after processing."""


@dataclass
class Refund:
    key: str
    trade: str
    amount_minor: int
    status: str
    refund_id: str
    created_at: float = field(default_factory=time.time)
    extra: dict[str, Any] = field(default_factory=dict)


class FakeGateway:
    """Subclasses implement ``handle(handler, method, path, body) -> (status, headers, body)``."""

    name = "fake"

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.faults: dict[str, deque[str]] = {"refund": deque(), "query": deque()}
        self.refunds: dict[str, Refund] = {}  # by idempotency key
        self.refunds_made: Counter[str] = Counter()  # processed refunds per key (must be ≤ 1)
        self.calls: Counter[str] = Counter()  # calls per key (any number)
        self.trades: dict[str, int] = {}  # captured minor units per trade/payment reference
        self.bad_requests: list[str] = []  # our requests it refused (bad signature, …)
        self.injected: Counter[str] = Counter()
        self.sleep_seconds = 1.5
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # ------------------------------------------------------------------ control
    def add_trade(self, reference: str, captured_minor: int) -> None:
        with self.lock:
            self.trades[reference] = captured_minor

    def inject(self, kind: str, *, op: str = "refund", times: int = 1) -> None:
        assert kind in FAULTS, kind
        with self.lock:
            self.faults[op].extend([kind] * times)

    def next_fault(self, op: str) -> str | None:
        with self.lock:
            if self.faults[op]:
                kind = self.faults[op].popleft()
                self.injected[kind] += 1
                return kind
        return None

    def refunded_minor(self, trade: str) -> int:
        with self.lock:
            return sum(
                r.amount_minor
                for r in self.refunds.values()
                if r.trade == trade and r.status not in ("FAILED", "failed", "CLOSED")
            )

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    # ------------------------------------------------------------------ serving
    def handle(
        self, handler: BaseHTTPRequestHandler, method: str, path: str, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError

    @contextmanager
    def running(self) -> Iterator[FakeGateway]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                try:
                    status, headers, payload = fake.handle(self, method, self.path, body)
                except ConnectionResetFault:
                    # SO_LINGER 0: close sends RST, the client sees a reset with no answer.
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.close_connection = True
                    self.connection.close()
                    return
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up (a timeout fault): nobody to answer
                    self.close_connection = True

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()

    # ------------------------------------------------------------------ helpers
    def process(self, key: str, trade: str, amount_minor: int, make: Any) -> tuple[Refund, bool]:
        """Find the refund under ``key`` or make it (once); returns (refund, created)."""
        with self.lock:
            self.calls[key] += 1
            existing = self.refunds.get(key)
            if existing is not None:
                return existing, False
            refund = make()
            self.refunds[key] = refund
            if refund.status not in ("FAILED", "failed", "CLOSED"):
                self.refunds_made[key] += 1
            return refund, True

    def after_processing(self, fault: str | None) -> None:
        """Faults that strike after the refund was made."""
        if fault == "timeout":
            time.sleep(self.sleep_seconds)
        if fault == "reset":
            raise ConnectionResetFault
