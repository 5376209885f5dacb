"""A real SMTP server in the test process (aiosmtpd): plain, STARTTLS or implicit TLS, with
optional AUTH; it keeps every message it accepted, parsed."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.tools.servers import free_port


@dataclass
class Inbox:
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    refuse: list[tuple[str, str]] = field(default_factory=list)  # (recipient, "550 …"), once
    host: str = "127.0.0.1"
    port: int = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        for i, (who, answer) in enumerate(self.refuse):
            if who == address:  # each refusal answers once
                del self.refuse[i]
                return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 2.0.0 Ok: queued"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (PEM files); the certificate is its own CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp.crt", directory / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@contextmanager
def smtp_server(
    *,
    tls: str = "none",  # none, starttls, implicit
    cert: tuple[Path, Path] | None = None,
    users: dict[str, str] | None = None,
) -> Iterator[Inbox]:
    inbox = Inbox(port=free_port())
    context = None
    if tls != "none":
        assert cert is not None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(cert[0]), str(cert[1]))

    def authenticate(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword) and users:
            login, password = data.login.decode(), data.password.decode()
            if users.get(login) == password:
                inbox.logins.append(login)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    kwargs: dict[str, Any] = {"hostname": inbox.host, "port": inbox.port}
    if tls == "implicit":
        kwargs["ssl_context"] = context
        kwargs["auth_require_tls"] = False  # aiosmtpd cannot tell implicit TLS is on…
    elif tls == "starttls":
        kwargs["tls_context"] = context
        kwargs["require_starttls"] = True
    if users:
        kwargs["authenticator"] = authenticate
        kwargs["auth_required"] = tls != "implicit"  # …and warns if AUTH is then required
    controller = Controller(inbox, **kwargs)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
