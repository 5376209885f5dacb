"""Staff sign-in to the console: argon2 passwords, a lockout after five failures, a TOTP
second factor (required per user, or for everyone by an admin), sessions with an idle and
an absolute timeout, a new session token at every sign-in, and a disabled user locked out
within the cache period (30 s)."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp

from refundflow.domain.actors import Actor, ActorKind
from refundflow.domain.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from refundflow.domain.permissions import Role
from refundflow.services import audit
from refundflow.services.auth import PasswordHasher, staff_role
from refundflow.services.unit_of_work import StaffUser, UnitOfWorkFactory

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SignIn:
    token: str
    needs_second_factor: bool
    enroll_secret: str | None = None  # set when TOTP is required but not yet set up


def sign_in(
    uows: UnitOfWorkFactory,
    hasher: PasswordHasher,
    email: str,
    password: str,
    *,
    require_totp: bool = False,
) -> SignIn:
    refused = AuthenticationError("wrong e-mail or password")
    with uows() as uow:
        now = uow.now()
        user = uow.staff.user_by_email(email.strip().lower(), lock=True)
        if user is None:
            hasher.hash(password)  # the same work as for a real user: no timing oracle
            audit.record(uow, "anonymous", "login.failed", f"email:{email[:60]}", {})
            uow.commit()
            raise refused
        if user.locked_until is not None and user.locked_until > now:
            raise AuthenticationError(
                "too many failed sign-ins: try again in 15 minutes or ask an admin",
                details={"locked_until": user.locked_until.isoformat()},
            )
        if not user.active or not hasher.verify(user.password_hash, password):
            failures = user.failed_logins + 1
            uow.staff.record_failure(user.id, now + LOCKOUT if failures >= MAX_FAILURES else None)
            audit.record(
                uow, f"user:{user.id}", "login.failed", f"user:{user.id}", {"failures": failures}
            )
            uow.commit()
            raise refused
        uow.staff.record_success(user.id)
        token = "rfs_" + secrets.token_urlsafe(32)  # always a new token: no fixation
        totp = user.totp_secret is not None or user.totp_required or require_totp
        enroll = None
        if totp and user.totp_secret is None:
            enroll = pyotp.random_base32()
            uow.staff.set_totp(user.id, enroll, True)
        uow.staff.add_session(_hash(token), user.id, not totp, now, now + ABSOLUTE)
        audit.record(uow, f"user:{user.id}", "login", f"user:{user.id}", {"second_factor": totp})
        uow.commit()
    return SignIn(token, totp, enroll)


def second_factor(uows: UnitOfWorkFactory, token: str, code: str) -> None:
    with uows() as uow:
        session = uow.staff.session(_hash(token))
        if session is None or session.user.totp_secret is None:
            raise AuthenticationError("sign in again")
        if not pyotp.TOTP(session.user.totp_secret).verify(code.strip(), valid_window=1):
            audit.record(uow, f"user:{session.user.id}", "totp.failed", f"user:{session.user.id}")
            uow.commit()
            raise AuthenticationError("that code is wrong: use the current one from your app")
        uow.staff.pass_second_factor(_hash(token))
        uow.commit()


def sign_out(uows: UnitOfWorkFactory, token: str) -> None:
    with uows() as uow:
        uow.staff.revoke_session(_hash(token), uow.now())
        uow.commit()


def actor_of(user: StaffUser, stepped_up_at: datetime | None = None) -> Actor:
    return Actor(
        ActorKind.STAFF,
        user.role,
        f"user:{user.id}",
        user.name,
        person=True,
        stepped_up_at=stepped_up_at,
    )


def step_up(
    uows: UnitOfWorkFactory, hasher: PasswordHasher, token: str, password: str, code: str = ""
) -> None:
    """The person behind a session confirms their password (and their TOTP code when they
    have one) again, for the sensitive actions of the next few minutes. Wrong answers count
    towards the lockout like wrong sign-ins."""
    with uows() as uow:
        now = uow.now()
        session = uow.staff.session(_hash(token))
        if session is None:
            raise AuthenticationError("sign in again")
        user = uow.staff.user(session.user.id, lock=True)
        assert user is not None
        if user.locked_until is not None and user.locked_until > now:
            raise AuthenticationError(
                "too many failed attempts: try again in 15 minutes or ask an admin"
            )
        good = hasher.verify(user.password_hash, password)
        if good and user.totp_secret is not None:
            good = pyotp.TOTP(user.totp_secret).verify(code.strip(), valid_window=1)
        if not good:
            failures = user.failed_logins + 1
            locked = failures >= MAX_FAILURES
            uow.staff.record_failure(user.id, now + LOCKOUT if locked else None)
            if locked:  # the session ends with the lockout
                uow.staff.revoke_user_sessions(user.id, now)
            audit.record(uow, f"user:{user.id}", "step_up.failed", f"user:{user.id}", {})
            uow.commit()
            raise PermissionDeniedError("that password or code is wrong")
        uow.staff.record_success(user.id)
        uow.staff.step_up_session(_hash(token), now)
        audit.record(uow, f"user:{user.id}", "step_up", f"user:{user.id}", {})
        uow.commit()


@dataclass(frozen=True, slots=True)
class _Cached:
    actor: Actor | None
    expires: float


class StaffSessionAuthenticator:
    """A console session cookie → the staff actor (cached ``ttl`` seconds)."""

    def __init__(self, uows: UnitOfWorkFactory, *, ttl: float = 30.0) -> None:
        self._uows = uows
        self._ttl = ttl
        self._cache: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    def authenticate(self, token: str | None) -> Actor:
        if not token:
            raise AuthenticationError("sign in to the console")
        now = time.monotonic()
        cached = self._cache.get(token)
        if cached is None or cached.expires < now:
            cached = _Cached(self._check(token), now + self._ttl)
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[token] = cached
        if cached.actor is None:
            raise AuthenticationError("your session has ended: sign in again")
        return cached.actor

    def _check(self, token: str) -> Actor | None:
        with self._uows() as uow:
            now = uow.now()
            session = uow.staff.session(_hash(token))
            if (
                session is None
                or not session.user.active
                or not session.second_factor
                or session.expires_at <= now
                or session.last_seen_at + IDLE <= now
            ):
                return None
            uow.staff.touch_session(_hash(token), now)
            uow.commit()
        return actor_of(session.user, session.stepped_up_at)

    def forget(self, token: str) -> None:
        self._cache.pop(token, None)


# ---------------------------------------------------------------------------- users
def user_view(user: StaffUser) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role.value,
        "active": user.active,
        "totp": user.totp_secret is not None,
        "totp_required": user.totp_required,
    }


def _admin(actor: Actor) -> None:
    if actor.role is not Role.ADMIN:
        raise PermissionDeniedError("only admins manage users")


def list_users(uows: UnitOfWorkFactory, actor: Actor) -> list[dict[str, Any]]:
    if actor.role not in (Role.ADMIN, Role.MANAGER):
        raise PermissionDeniedError("only admins and managers see the users")
    with uows(write=False) as uow:
        return [user_view(u) for u in uow.staff.users()]


def change_user(
    uows: UnitOfWorkFactory,
    actor: Actor,
    user_id: int,
    *,
    role: str | None = None,
    active: bool | None = None,
    totp_required: bool | None = None,
) -> dict[str, Any]:
    """Change a user's role, disable or enable them (a disabled user's sessions end at
    once), or require a second factor."""
    _admin(actor)
    with uows() as uow:
        user = uow.staff.user(user_id, lock=True)
        if user is None:
            raise NotFoundError(f"no user {user_id}")
        if actor.id == f"user:{user_id}" and (active is False or role not in (None, "admin")):
            raise ConflictError("you cannot lock yourself out: ask another admin")
        now = uow.now()
        if role is not None:
            uow.staff.set_role(user_id, staff_role(role))
            uow.staff.revoke_user_sessions(user_id, now)
        if active is not None:
            uow.staff.set_active(user_id, active, now)
            if not active:
                uow.staff.revoke_user_sessions(user_id, now)
        if totp_required is not None:
            uow.staff.set_totp(user_id, user.totp_secret, totp_required)
        audit.record(
            uow,
            actor,
            "user.changed",
            f"user:{user_id}",
            {"role": role, "active": active, "totp_required": totp_required},
        )
        changed = uow.staff.user(user_id)
        assert changed is not None
        uow.commit()
    return user_view(changed)
