"""Email over SMTP: a text and an HTML part (multipart/alternative), UTF-8 throughout
(Chinese subjects and sender names are RFC 2047 encoded).

``REFUNDFLOW_SMTP_URL``:
- ``smtp://host:25`` — STARTTLS when the server offers it (certificate checked),
  ``?starttls=required`` refuses to send without it, ``?starttls=off`` never tries;
- ``smtps://user:password@host:465`` — TLS from the first byte.
User and password (percent-encoded in the URL) log in with AUTH, and only ever over TLS.
``REFUNDFLOW_SMTP_CA_FILE`` trusts a private CA (a relay with its own certificate).

The Message-ID is derived from the notification id, so a message sent twice after a crash
is recognisably the same message. SMTP 4xx answers and lost connections are retried; 5xx
answers (bad address, refused login) are not.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from refundflow.services.notifications.ports import (
    Message,
    PermanentChannelError,
    RetryableChannelError,
)

TIMEOUT = 10.0


class SmtpEmailChannel:
    def __init__(self, url: str, sender: str, *, ca_file: str | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("the SMTP URL looks like smtp://host:port or smtps://user:pass@host")
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else ""
        starttls = parse_qs(parts.query).get("starttls", ["auto"])[0]
        if starttls not in ("auto", "required", "off"):
            raise ValueError("starttls is auto, required or off")
        self.starttls = starttls
        self.sender = sender
        self.domain = parseaddr(sender)[1].rpartition("@")[2] or "refundflow.local"
        self.tls = ssl.create_default_context(cafile=ca_file)

    def compose(self, message: Message) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.to
        email["Subject"] = message.subject
        email["Date"] = formatdate(localtime=False, usegmt=True)
        email["Message-ID"] = f"<notification-{message.id}@{self.domain}>"
        email["Auto-Submitted"] = "auto-generated"
        email["Content-Language"] = message.language
        email.set_content(message.text)
        if message.html:
            email.add_alternative(message.html, subtype="html")
        return email

    def _connect(self) -> smtplib.SMTP:
        if self.implicit_tls:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=TIMEOUT, context=self.tls)
        return smtplib.SMTP(self.host, self.port, timeout=TIMEOUT)

    def send(self, message: Message) -> str:
        email = self.compose(message)
        try:
            with self._connect() as smtp:
                smtp.ehlo()
                secure = self.implicit_tls
                if not secure and self.starttls != "off" and smtp.has_extn("starttls"):
                    smtp.starttls(context=self.tls)
                    smtp.ehlo()
                    secure = True
                if not secure and (self.starttls == "required" or self.user):
                    raise PermanentChannelError(
                        "the SMTP server offers no TLS; refusing to send "
                        + ("the password in clear" if self.user else "without it")
                    )
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise _by_code(code, text) from None
        except smtplib.SMTPResponseException as exc:
            raise _by_code(exc.smtp_code, exc.smtp_error) from None
        except smtplib.SMTPNotSupportedError as exc:  # e.g. no AUTH: a setup to fix
            raise PermanentChannelError(f"SMTP: {exc}") from None
        except ssl.SSLCertVerificationError as exc:
            raise PermanentChannelError(f"SMTP server certificate: {exc.verify_message}") from None
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise RetryableChannelError(f"SMTP: {type(exc).__name__}: {exc}") from None
        return str(email["Message-ID"])


def _by_code(code: int, text: bytes | str) -> Exception:
    detail = text.decode(errors="replace") if isinstance(text, bytes) else text
    error = f"SMTP {code}: {detail}"
    return PermanentChannelError(error) if 500 <= code < 600 else RetryableChannelError(error)
