"""Staff users (console logins) and their sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from refundflow.adapters.db.sql import Sql
from refundflow.domain.permissions import Role
from refundflow.services.unit_of_work import StaffSession, StaffUser

_USER = (
    "id, email, name, role, password_hash, active, failed_logins, locked_until, totp_secret, "
    "totp_required"
)


class SqlStaffRepository:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    def _user(self, r: tuple[Any, ...]) -> StaffUser:
        return StaffUser(
            r[0],
            r[1],
            r[2],
            Role(r[3]),
            r[4],
            bool(r[5]),
            int(r[6]),
            self.sql.dt(r[7]),
            r[8],
            bool(r[9]),
        )

    def user_by_email(self, email: str, *, lock: bool = False) -> StaffUser | None:
        suffix = self.sql.lock_suffix if lock else ""
        row = self.sql.one(f"SELECT {_USER} FROM users WHERE email = :e{suffix}", {"e": email})
        return self._user(row) if row else None

    def user(self, user_id: int, *, lock: bool = False) -> StaffUser | None:
        suffix = self.sql.lock_suffix if lock else ""
        row = self.sql.one(f"SELECT {_USER} FROM users WHERE id = :id{suffix}", {"id": user_id})
        return self._user(row) if row else None

    def users(self) -> list[StaffUser]:
        return [self._user(r) for r in self.sql.all(f"SELECT {_USER} FROM users ORDER BY id")]

    def record_failure(self, user_id: int, locked_until: datetime | None) -> None:
        self.sql.run(
            "UPDATE users SET failed_logins = failed_logins + 1, locked_until = :until "
            "WHERE id = :id",
            {"id": user_id, "until": self.sql.ts(locked_until)},
        )

    def record_success(self, user_id: int) -> None:
        self.sql.run(
            "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = :id",
            {"id": user_id},
        )

    def set_role(self, user_id: int, role: Role) -> None:
        self.sql.run(
            "UPDATE users SET role = :role WHERE id = :id", {"id": user_id, "role": role.value}
        )

    def set_active(self, user_id: int, active: bool, at: datetime) -> None:
        self.sql.run(
            "UPDATE users SET active = :active, disabled_at = :at WHERE id = :id",
            {"id": user_id, "active": active, "at": None if active else self.sql.ts(at)},
        )

    def set_totp(self, user_id: int, secret: str | None, required: bool) -> None:
        self.sql.run(
            "UPDATE users SET totp_secret = :s, totp_required = :r WHERE id = :id",
            {"id": user_id, "s": secret, "r": required},
        )

    def add_session(
        self, token_hash: str, user_id: int, second_factor: bool, at: datetime, expires_at: datetime
    ) -> None:
        self.sql.run(
            "INSERT INTO staff_sessions (token_hash, user_id, second_factor, created_at, "
            "last_seen_at, expires_at) VALUES (:h, :u, :f, :at, :at, :exp)",
            {
                "h": token_hash,
                "u": user_id,
                "f": second_factor,
                "at": self.sql.ts(at),
                "exp": self.sql.ts(expires_at),
            },
        )

    def session(self, token_hash: str) -> StaffSession | None:
        row = self.sql.one(
            f"SELECT {', '.join('u.' + c for c in _USER.split(', '))}, s.second_factor, "
            "s.created_at, s.last_seen_at, s.expires_at, s.stepped_up_at FROM staff_sessions s "
            "JOIN users u ON u.id = s.user_id WHERE s.token_hash = :h AND s.revoked_at IS NULL",
            {"h": token_hash},
        )
        if row is None:
            return None
        dt = self.sql.dt
        created, seen, expires = dt(row[11]), dt(row[12]), dt(row[13])
        assert created is not None and seen is not None and expires is not None
        return StaffSession(
            self._user(row[:10]), bool(row[10]), created, seen, expires, dt(row[14])
        )

    def step_up_session(self, token_hash: str, at: datetime) -> None:
        self.sql.run(
            "UPDATE staff_sessions SET stepped_up_at = :at WHERE token_hash = :h",
            {"h": token_hash, "at": self.sql.ts(at)},
        )

    def touch_session(self, token_hash: str, at: datetime) -> None:
        self.sql.run(
            "UPDATE staff_sessions SET last_seen_at = :at WHERE token_hash = :h",
            {"h": token_hash, "at": self.sql.ts(at)},
        )

    def pass_second_factor(self, token_hash: str) -> None:
        self.sql.run(
            "UPDATE staff_sessions SET second_factor = :t WHERE token_hash = :h",
            {"h": token_hash, "t": True},
        )

    def revoke_session(self, token_hash: str, at: datetime) -> None:
        self.sql.run(
            "UPDATE staff_sessions SET revoked_at = :at WHERE token_hash = :h",
            {"h": token_hash, "at": self.sql.ts(at)},
        )

    def revoke_user_sessions(self, user_id: int, at: datetime) -> None:
        self.sql.run(
            "UPDATE staff_sessions SET revoked_at = :at WHERE user_id = :u AND revoked_at IS NULL",
            {"u": user_id, "at": self.sql.ts(at)},
        )
