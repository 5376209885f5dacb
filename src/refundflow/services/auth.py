"""Staff credentials: API tokens and users.

Tokens are random, shown once, and stored as SHA-256 hashes (they carry 256 bits of entropy,
so a slow hash adds nothing); passwords are hashed with the slow hasher the caller passes in.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

from refundflow.domain.actors import Actor, ActorKind
from refundflow.domain.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from refundflow.domain.permissions import STAFF_ROLES, Operation, Role, may
from refundflow.services import audit
from refundflow.services.parsing import parse_text
from refundflow.services.unit_of_work import UnitOfWorkFactory

TOKEN_PREFIX = "rf_"  # noqa: S105 - a prefix, not a secret
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def staff_role(value: str) -> Role:
    if value not in {role.value for role in STAFF_ROLES}:
        choices = ", ".join(sorted(r.value for r in STAFF_ROLES))
        raise InvalidInputError(
            f"role must be one of {choices}, not {value!r}", details={"field": "role"}
        )
    return Role(value)


def issue_token(uows: UnitOfWorkFactory, role: str, name: str) -> str:
    """Create an API token for ``role``; the plain token is returned once and never stored."""
    checked_role = staff_role(role)
    name = parse_text(name, "name", limit=100)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with uows() as uow:
        uow.credentials.add_token(name, checked_role, token_hash(token), uow.now())
        uow.commit()
    return token


def list_tokens(uows: UnitOfWorkFactory) -> list[dict[str, Any]]:
    """Every API token with its role, creation, last use and revocation (never the token)."""
    with uows(write=False) as uow:
        return uow.credentials.tokens()


def revoke_token(uows: UnitOfWorkFactory, token_id: int, *, by: str = "cli") -> None:
    """Revoke a token: it stops working within the token cache period (≤ 60 s)."""
    with uows() as uow:
        if not uow.credentials.revoke_token(token_id, uow.now()):
            raise NotFoundError(
                f"no live API token {token_id}: see `refundflow tokens list`",
                details={"token_id": token_id},
            )
        audit.record(uow, by, "token.revoked", f"token:{token_id}", {})
        uow.commit()


def add_user(
    uows: UnitOfWorkFactory,
    hasher: PasswordHasher,
    *,
    email: str,
    role: str,
    password: str,
    name: str | None = None,
    by: Actor | None = None,
) -> int:
    """Add a console user. From the console ``by`` is the signed-in user, who must be an
    admin (the permission table gives managing credentials to admins only); the command
    line passes nobody, being run by whoever holds the machine."""
    if by is not None and not may(by.role, Operation.MANAGE_TOKENS):
        raise PermissionDeniedError("only admins add users")
    checked_role = staff_role(role)
    email = parse_text(email, "email", limit=254).lower()
    if not EMAIL_PATTERN.match(email):
        raise InvalidInputError(f"{email!r} is not an email address", details={"field": "email"})
    if len(password) < 10:
        raise InvalidInputError(
            "the password needs at least 10 characters", details={"field": "password"}
        )
    with uows() as uow:
        if uow.credentials.user_by_email(email) is not None:
            raise ConflictError(f"a user {email} already exists", details={"field": "email"})
        user_id = uow.credentials.add_user(
            email, name or email.split("@")[0], checked_role, hasher.hash(password), uow.now()
        )
        audit.record(
            uow, by or "cli", "user.added", f"user:{user_id}", {"role": checked_role.value}
        )
        uow.commit()
    return user_id


@dataclass(frozen=True, slots=True)
class _Cached:
    actor: Actor | None
    token_id: int
    expires: float


class TokenAuthenticator:
    """Turns a bearer token into the staff actor it belongs to.

    Answers are cached for ``ttl`` seconds (a revoked token stops working within that time)
    so that a busy API does not hash-and-query on every call; the token's last use is written
    at most once per cache period.
    """

    def __init__(self, uows: UnitOfWorkFactory, *, ttl: float = 30.0) -> None:
        self._uows = uows
        self._ttl = ttl
        self._cache: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    def authenticate(self, token: str | None) -> Actor:
        if not token:
            raise AuthenticationError("send your API token as 'Authorization: Bearer <token>'")
        now = time.monotonic()
        cached = self._cache.get(token)
        if cached is None or cached.expires < now:
            cached = self._lookup(token, now)
        if cached.actor is None:
            raise AuthenticationError("this API token is unknown or revoked")
        return cached.actor

    def _lookup(self, token: str, now: float) -> _Cached:
        with self._uows() as uow:
            record = uow.credentials.token_by_hash(token_hash(token))
            if record is not None and not record.revoked:
                uow.credentials.touch_token(record.id, uow.now())
                uow.commit()
        actor = None
        if record is not None and not record.revoked:
            kind = ActorKind.INTEGRATION if record.role is Role.INTEGRATION else ActorKind.STAFF
            actor = Actor(kind, record.role, f"token:{record.id}", record.name)
        cached = _Cached(actor, record.id if record else 0, now + self._ttl)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[token] = cached
        return cached
