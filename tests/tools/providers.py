"""Local stand-ins for the notification providers, on 127.0.0.1, speaking their wire protocols.

Each server checks what the real provider checks — the request signature (Alibaba ACS3,
Tencent TC3, our webhook HMAC), the OAuth2 JWT and bearer token (FCM), the VAPID JWT and the
encrypted payload (Web Push) — with its own implementation written from the provider's side,
records what it accepted, and can be told to fail the next calls (``fail_next``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import http_ece
import jwt
from cryptography.hazmat.primitives.asymmetric import ec


@dataclass
class Call:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


Reply = tuple[int, dict[str, str], bytes]


def _json(status: int, value: Any, **headers: str) -> Reply:
    return status, {"Content-Type": "application/json", **headers}, json.dumps(value).encode()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Provider:
    """Base: records accepted messages; ``fail_next(status, times)`` answers with a failure."""

    received: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    failures: deque[Reply] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def fail_next(self, status: int = 500, times: int = 1, body: Any = None) -> None:
        for _ in range(times):
            self.failures.append(_json(status, body or {"error": "injected"}))

    def dispatch(self, call: Call) -> Reply:
        with self.lock:
            problem = self.verify(call)
            if problem:
                self.refused.append(problem)
                return self.refusal(problem)
            if self.failures:
                return self.failures.popleft()
            return self.accept(call)

    def verify(self, call: Call) -> str | None:
        return None

    def refusal(self, problem: str) -> Reply:
        return _json(403, {"error": problem})

    def accept(self, call: Call) -> Reply:
        raise NotImplementedError


@contextmanager
def serving(provider: Provider) -> Iterator[Provider]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            call = Call(
                "POST",
                parts.path,
                parts.query,
                {k.lower(): v for k, v in self.headers.items()},
                self.rfile.read(length),
            )
            status, headers, body = provider.dispatch(call)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    provider.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# ---------------------------------------------------------------------------- Alibaba
@dataclass
class AlibabaSms(Provider):
    key_id: str = "LTAI5tTestKeyId"
    secret: str = "alibaba-test-secret"
    replies: deque[str] = field(default_factory=deque)  # Code values to answer next
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def verify(self, call: Call) -> str | None:
        auth = call.headers.get("authorization", "")
        algorithm, _, rest = auth.partition(" ")
        fields = dict(item.split("=", 1) for item in rest.split(",") if "=" in item)
        if algorithm != "ACS3-HMAC-SHA256" or fields.get("Credential") != self.key_id:
            return "InvalidAccessKeyId.NotFound"
        if hashlib.sha256(call.body).hexdigest() != call.headers.get("x-acs-content-sha256"):
            return "ContentSha256Mismatch"
        names = fields.get("SignedHeaders", "").split(";")
        required = {"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date"}
        if not required <= set(names) or call.headers.get("x-acs-action") != "SendSms":
            return "MissingSignedHeaders"
        params = sorted(parse_qsl(call.query, keep_blank_values=True))
        query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in params)
        headers = "".join(f"{n}:{call.headers.get(n, '').strip()}\n" for n in sorted(names))
        canonical = (
            f"{call.method}\n{call.path}\n{query}\n{headers}\n{';'.join(sorted(names))}\n"
            f"{call.headers['x-acs-content-sha256']}"
        )
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        expected = hmac.new(
            self.secret.encode(), f"ACS3-HMAC-SHA256\n{digest}".encode(), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, fields.get("Signature", "")):
            return "SignatureDoesNotMatch"
        return None

    def refusal(self, problem: str) -> Reply:
        return _json(400, {"Code": problem, "Message": problem, "RequestId": "r"})

    def accept(self, call: Call) -> Reply:
        params = dict(parse_qsl(call.query))
        if self.replies:
            code = self.replies.popleft()
            return _json(200, {"Code": code, "Message": code, "RequestId": "r"})
        biz = f"BIZ{next(self._ids):06d}"
        self.received.append({**params, "TemplateParam": json.loads(params["TemplateParam"])})
        return _json(200, {"Code": "OK", "Message": "OK", "BizId": biz, "RequestId": "r"})


# ---------------------------------------------------------------------------- Tencent
@dataclass
class TencentSms(Provider):
    secret_id: str = "AKIDtestsecretid"
    secret_key: str = "tencent-test-key"
    replies: deque[str] = field(default_factory=deque)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def verify(self, call: Call) -> str | None:
        auth = call.headers.get("authorization", "")
        algorithm, _, rest = auth.partition(" ")
        fields = dict(item.strip().split("=", 1) for item in rest.split(",") if "=" in item)
        secret_id, date, service, terminator = (fields.get("Credential", "") + "///").split("/")[:4]
        if algorithm != "TC3-HMAC-SHA256" or secret_id != self.secret_id:
            return "AuthFailure.SecretIdNotFound"
        timestamp = call.headers.get("x-tc-timestamp", "0")
        if abs(time.time() - int(timestamp)) > 300:
            return "AuthFailure.SignatureExpire"
        names = fields.get("SignedHeaders", "").split(";")
        values = {n: call.headers.get(n, "").strip() for n in names}
        values["x-tc-action"] = values.get("x-tc-action", "").lower()
        headers = "".join(f"{n}:{values[n]}\n" for n in names)
        canonical = (
            f"POST\n/\n\n{headers}\n{';'.join(names)}\n{hashlib.sha256(call.body).hexdigest()}"
        )
        to_sign = (
            f"TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/{terminator}\n"
            f"{hashlib.sha256(canonical.encode()).hexdigest()}"
        )

        def mac(key: bytes, text: str) -> bytes:
            return hmac.new(key, text.encode(), hashlib.sha256).digest()

        key = mac(mac(mac(f"TC3{self.secret_key}".encode(), date), service), terminator)
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if service != "sms" or not hmac.compare_digest(expected, fields.get("Signature", "")):
            return "AuthFailure.SignatureFailure"
        return None

    def refusal(self, problem: str) -> Reply:
        return _json(200, {"Response": {"Error": {"Code": problem, "Message": problem}}})

    def accept(self, call: Call) -> Reply:
        body = json.loads(call.body)
        if self.replies:
            code = self.replies.popleft()
            status = {"Code": code, "Message": code, "PhoneNumber": body["PhoneNumberSet"][0]}
            return _json(200, {"Response": {"SendStatusSet": [status], "RequestId": "r"}})
        serial = f"2433:{next(self._ids)}"
        self.received.append(body)
        status = {"Code": "Ok", "SerialNo": serial, "PhoneNumber": body["PhoneNumberSet"][0]}
        return _json(200, {"Response": {"SendStatusSet": [status], "RequestId": "r"}})


# ---------------------------------------------------------------------------- webhooks
@dataclass
class SignedHook(Provider):
    secret: str = "webhook-test-secret"
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def verify(self, call: Call) -> str | None:
        header = call.headers.get("x-refundflow-signature", "")
        parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
        if not parts.get("t", "").isdigit() or abs(time.time() - int(parts["t"])) > 300:
            return "stale or missing timestamp"
        expected = hmac.new(
            self.secret.encode(), parts["t"].encode() + b"." + call.body, hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, parts.get("v1", "")):
            return "bad signature"
        return None

    def accept(self, call: Call) -> Reply:
        body = json.loads(call.body)
        body["idempotency_key"] = call.headers.get("idempotency-key")
        self.received.append(body)
        return _json(200, {"id": f"hook-{next(self._ids)}"})


# ---------------------------------------------------------------------------- FCM
@dataclass
class Fcm(Provider):
    project: str = "refundflow-test"
    client_email: str = "push@refundflow-test.iam.gserviceaccount.com"
    public_key: Any = None
    tokens: set[str] = field(default_factory=set)
    unknown_devices: set[str] = field(default_factory=set)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def verify(self, call: Call) -> str | None:
        if call.path == "/token":
            form = dict(parse_qsl(call.body.decode()))
            if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
                return "unsupported_grant_type"
            try:
                claims = jwt.decode(
                    form.get("assertion", ""),
                    self.public_key,
                    algorithms=["RS256"],
                    audience=f"{self.url}/token",
                )
            except jwt.PyJWTError as exc:
                return f"invalid_grant: {exc}"
            if claims.get("iss") != self.client_email or "firebase.messaging" not in claims.get(
                "scope", ""
            ):
                return "invalid_scope"
            return None
        if call.path != f"/v1/projects/{self.project}/messages:send":
            return "not found"
        token = call.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return "UNAUTHENTICATED"
        return None

    def refusal(self, problem: str) -> Reply:
        return _json(401, {"error": {"status": problem}})

    def accept(self, call: Call) -> Reply:
        if call.path == "/token":
            token = f"ya29.test-{len(self.tokens) + 1}"
            self.tokens.add(token)
            return _json(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})
        message = json.loads(call.body)["message"]
        if message["token"] in self.unknown_devices:
            return _json(404, {"error": {"status": "NOT_FOUND", "details": ["UNREGISTERED"]}})
        self.received.append(message)
        return _json(200, {"name": f"projects/{self.project}/messages/{next(self._ids)}"})


# ---------------------------------------------------------------------------- Web Push
@dataclass
class WebPush(Provider):
    """A push service: checks the VAPID JWT (ES256, aud = this origin, sub present) against
    the application server key, and decrypts the aes128gcm payload with the browser's key."""

    application_server_key: str = ""
    browsers: dict[str, tuple[Any, bytes]] = field(default_factory=dict)  # path → (key, auth)
    gone: set[str] = field(default_factory=set)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def subscribe(self, name: str) -> tuple[str, dict[str, str]]:
        """A browser's subscription: (endpoint, keys) as PushSubscription.toJSON gives them."""
        key = ec.generate_private_key(ec.SECP256R1())
        auth = hashlib.sha256(name.encode()).digest()[:16]
        self.browsers[f"/push/{name}"] = (key, auth)
        from cryptography.hazmat.primitives import serialization

        public = key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return f"{self.url}/push/{name}", {"p256dh": b64url(public), "auth": b64url(auth)}

    def verify(self, call: Call) -> str | None:
        scheme, _, rest = call.headers.get("authorization", "").partition(" ")
        fields = dict(item.strip().split("=", 1) for item in rest.split(",") if "=" in item)
        if scheme.lower() != "vapid" or fields.get("k") != self.application_server_key:
            return "no or unknown VAPID key"
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(fields["k"]))
        try:
            claims = jwt.decode(
                fields.get("t", ""), public, algorithms=["ES256"], audience=self.url
            )
        except jwt.PyJWTError as exc:
            return f"bad VAPID JWT: {exc}"
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            return "VAPID sub missing"
        if call.headers.get("content-encoding") != "aes128gcm" or "ttl" not in call.headers:
            return "not an aes128gcm push"
        return None

    def accept(self, call: Call) -> Reply:
        if call.path in self.gone:
            return _json(410, {"error": "subscription expired"})
        key, auth = self.browsers[call.path]
        plain = http_ece.decrypt(call.body, private_key=key, auth_secret=auth, version="aes128gcm")
        self.received.append({"endpoint": call.path, **json.loads(plain)})
        return 201, {"Location": f"{self.url}/messages/{next(self._ids)}"}, b""


# ---------------------------------------------------------------------------- apprise json://
@dataclass
class JsonHook(Provider):
    def accept(self, call: Call) -> Reply:
        self.received.append({"path": call.path, **json.loads(call.body)})
        return _json(200, {"ok": True})
