"""The audit chain's arithmetic: each row's hash covers the previous row's hash, so a
changed or removed row breaks every link after it.

hash = SHA-256(prev_hash | at | actor | action | subject | detail); the first row's
prev_hash is 64 zeros.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

GENESIS = "0" * 64


def chain_hash(prev: str, at: datetime, actor: str, action: str, subject: str, detail: str) -> str:
    text = "|".join((prev, at.isoformat(), actor, action, subject, detail))
    return hashlib.sha256(text.encode()).hexdigest()
