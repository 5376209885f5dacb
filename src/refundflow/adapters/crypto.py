"""Encryption of personal data at rest (payees' bank accounts) with Fernet: AES-128-CBC and
HMAC-SHA256, a random IV per value, so equal accounts do not look equal in the database.

Keys come from ``REFUNDFLOW_DATA_KEYS`` (comma-separated Fernet keys): the first encrypts,
every one decrypts, so a key is rotated by putting a new one first, running
``refundflow keys rotate`` (re-encrypts every value with the first key) and then dropping
the old one. Unset (development and test only), a key is generated once into
``{data_dir}/data.key`` (mode 600) — never a key written in the code.

Stored values read ``enc1:<fernet token>``; a value without the prefix is an account written
before encryption and is read as it is (``keys rotate`` encrypts it).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from refundflow.domain.errors import RefundflowError

PREFIX = "enc1:"
KEY_FILE = "data.key"


class DataKeyError(RefundflowError):
    """A stored value cannot be decrypted with any configured key, or a key is malformed."""


class DataCipher:
    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise DataKeyError("no data key: set REFUNDFLOW_DATA_KEYS")
        try:
            self._fernets = [Fernet(key) for key in keys]
        except ValueError:
            raise DataKeyError(
                "a key in REFUNDFLOW_DATA_KEYS is not a Fernet key (32 url-safe base64 bytes; "
                "make one with `refundflow keys generate`)"
            ) from None
        self._all = MultiFernet(self._fernets)

    @property
    def key_count(self) -> int:
        return len(self._fernets)

    def encrypt(self, text: str) -> str:
        return PREFIX + self._fernets[0].encrypt(text.encode()).decode()

    def decrypt(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            return stored  # written before encryption
        try:
            return self._all.decrypt(stored[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            raise DataKeyError(
                "a stored bank account cannot be decrypted with any key in "
                "REFUNDFLOW_DATA_KEYS: was a key dropped before `refundflow keys rotate` ran?"
            ) from None

    def is_current(self, stored: str) -> bool:
        """Encrypted with the first key (nothing to rotate)."""
        if not stored.startswith(PREFIX):
            return False
        try:
            self._fernets[0].decrypt(stored[len(PREFIX) :].encode())
        except InvalidToken:
            return False
        return True

    def rotate(self, stored: str) -> str:
        """The same value encrypted with the first key."""
        if not stored.startswith(PREFIX):
            return self.encrypt(stored)
        try:
            return PREFIX + self._all.rotate(stored[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            raise DataKeyError("a stored value cannot be decrypted with any data key") from None


def generate_key() -> str:
    return Fernet.generate_key().decode()


def load_cipher(data_keys: str | None, data_dir: str) -> DataCipher:
    """The configured keys, or the development key in ``data_dir`` (made on first use)."""
    if data_keys:
        return DataCipher([k.strip().encode() for k in data_keys.split(",") if k.strip()])
    return DataCipher([_development_key(Path(data_dir) / KEY_FILE)])


def _development_key(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:  # O_EXCL: of two processes starting at once, one writes and both read it
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as out:
                out.write(generate_key() + "\n")
    for _ in range(50):  # the writer may not have finished its one line yet
        key = path.read_text().strip()
        if key:
            return key.encode()
        time.sleep(0.02)
    raise DataKeyError(f"the development data key {path} is empty: delete it to make a new one")
