"""Staff sign-in: argon2 hashes, lockout after five failures, TOTP, a new session at every
sign-in, idle and absolute timeouts, the cookie's flags, and a disabled user shut out within
the token cache period (at most 60 s by the settings' bounds)."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import text

from refundflow.adapters.security import Argon2Hasher
from refundflow.domain.actors import Actor, ActorKind
from refundflow.domain.errors import AuthenticationError
from refundflow.domain.permissions import Role
from refundflow.entrypoints.bootstrap import Container
from refundflow.entrypoints.settings import Settings
from refundflow.entrypoints.web.app import create_app
from refundflow.services import staff_auth
from refundflow.services.auth import add_user
from refundflow.services.clock import ManualClock

PASSWORD = "correct-horse-42"
HASHER = Argon2Hasher()
ADMIN = Actor(ActorKind.STAFF, Role.ADMIN, "user:999", "admin")


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    return sqlite_url


def _user(box: Container, email: str = "fin@shop.example.cn", role: str = "finance") -> int:
    return add_user(box.uows, HASHER, email=email, role=role, password=PASSWORD, name="陈会计")


def _audit(box: Container) -> list[str]:
    with box.engine.connect() as conn:
        return list(conn.execute(text("SELECT action FROM audit_events ORDER BY id")).scalars())


def test_passwords_are_argon2_hashes_and_five_failures_lock_the_account(
    box: Container, clock: ManualClock
) -> None:
    _user(box)
    with box.engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users")).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    for _ in range(staff_auth.MAX_FAILURES):
        with pytest.raises(AuthenticationError, match="wrong e-mail or password"):
            staff_auth.sign_in(box.uows, HASHER, "fin@shop.example.cn", "guess-guess-1")
    with pytest.raises(AuthenticationError, match="too many failed sign-ins"):
        staff_auth.sign_in(box.uows, HASHER, "fin@shop.example.cn", PASSWORD)
    clock.advance(staff_auth.LOCKOUT + timedelta(seconds=1))
    assert staff_auth.sign_in(box.uows, HASHER, "FIN@shop.example.cn", PASSWORD).token
    with pytest.raises(AuthenticationError, match="wrong e-mail or password"):
        staff_auth.sign_in(box.uows, HASHER, "nobody@shop.example.cn", PASSWORD)
    assert _audit(box).count("login.failed") == staff_auth.MAX_FAILURES + 1
    assert _audit(box).count("login") == 1


def test_each_sign_in_opens_a_new_session_that_ends_when_idle_or_too_old(
    box: Container, clock: ManualClock
) -> None:
    _user(box)
    check = staff_auth.StaffSessionAuthenticator(box.uows, ttl=0)
    first = staff_auth.sign_in(box.uows, HASHER, "fin@shop.example.cn", PASSWORD).token
    second = staff_auth.sign_in(box.uows, HASHER, "fin@shop.example.cn", PASSWORD).token
    assert first != second, "no session fixation: every sign-in gets its own token"
    assert check.authenticate(second).role is Role.FINANCE
    clock.advance(staff_auth.IDLE - timedelta(minutes=1))
    assert check.authenticate(second).role is Role.FINANCE  # activity keeps it alive
    clock.advance(staff_auth.IDLE + timedelta(seconds=1))
    with pytest.raises(AuthenticationError):
        check.authenticate(second)  # idle too long
    busy = staff_auth.sign_in(box.uows, HASHER, "fin@shop.example.cn", PASSWORD).token
    for _ in range(int(staff_auth.ABSOLUTE / timedelta(minutes=20)) - 1):
        clock.advance(timedelta(minutes=20))
        check.authenticate(busy)
    clock.advance(timedelta(minutes=20))
    with pytest.raises(AuthenticationError):
        check.authenticate(busy)  # never idle, yet past the absolute timeout
    staff_auth.sign_out(box.uows, first)
    with pytest.raises(AuthenticationError):
        check.authenticate(first)


def test_a_required_second_factor_gates_the_session(box: Container) -> None:
    user_id = _user(box)
    staff_auth.change_user(box.uows, ADMIN, user_id, totp_required=True)
    check = staff_auth.StaffSessionAuthenticator(box.uows, ttl=0)
    started = staff_auth.sign_in(box.uows, HASHER, "fin@shop.example.cn", PASSWORD)
    assert started.needs_second_factor and started.enroll_secret
    with pytest.raises(AuthenticationError):
        check.authenticate(started.token)  # the password alone is not enough
    with pytest.raises(AuthenticationError, match="code is wrong"):
        staff_auth.second_factor(box.uows, started.token, "000000")
    now = pyotp.TOTP(started.enroll_secret).now()
    staff_auth.second_factor(box.uows, started.token, now)
    assert check.authenticate(started.token).id == f"user:{user_id}"
    again = staff_auth.sign_in(box.uows, HASHER, "fin@shop.example.cn", PASSWORD)
    assert again.needs_second_factor and again.enroll_secret is None, "enrolled once"


def test_a_disabled_user_is_shut_out_within_the_cache_period(box: Container) -> None:
    user_id = _user(box)
    ttl = 0.5
    check = staff_auth.StaffSessionAuthenticator(box.uows, ttl=ttl)
    token = staff_auth.sign_in(box.uows, HASHER, "fin@shop.example.cn", PASSWORD).token
    assert check.authenticate(token).role is Role.FINANCE
    staff_auth.change_user(box.uows, ADMIN, user_id, active=False)
    with box.engine.connect() as conn:
        revoked = conn.execute(
            text("SELECT COUNT(*) FROM staff_sessions WHERE revoked_at IS NOT NULL")
        ).scalar_one()
    assert revoked == 1, "disabling ends the user's sessions at once"
    time.sleep(ttl + 0.1)
    with pytest.raises(AuthenticationError):
        check.authenticate(token)
    with pytest.raises(AuthenticationError):
        staff_auth.sign_in(box.uows, HASHER, "fin@shop.example.cn", PASSWORD)
    # The cache period is configurable, but never past a minute.
    with pytest.raises(ValidationError):
        Settings(database_url="sqlite://", token_cache_seconds=61)


def test_the_console_cookie_is_http_only_strict_and_secure_over_https(box: Container) -> None:
    _user(box)
    with TestClient(create_app(box.settings, container=box), base_url="https://shop.test") as web:
        page = web.get("/console/login")
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found
        refused = web.post(
            "/console/login", data={"email": "fin@shop.example.cn", "password": PASSWORD}
        )
        assert refused.status_code == 403, "no CSRF token, no sign-in"
        answer = web.post(
            "/console/login",
            data={
                "csrf_token": found.group(1),
                "email": "fin@shop.example.cn",
                "password": PASSWORD,
            },
            follow_redirects=False,
        )
        assert answer.status_code == 303
        cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("rf_staff"))
        flags = {part.strip().lower() for part in cookie.split(";")}
        assert {"httponly", "secure", "samesite=strict", "path=/console"} <= flags


def test_a_person_confirms_the_password_again_to_approve_a_large_refund(
    box: Container, clock: ManualClock, manual_review: int
) -> None:
    from refundflow.domain.errors import PermissionDeniedError, StepUpRequiredError
    from refundflow.domain.lifecycle import Action
    from refundflow.services import intake
    from refundflow.services.actions import ActionInput, perform
    from tests.conftest import snapshot
    from tests.integration.payouts import paid_order

    _user(box, "cs@shop.example.cn", "cs")
    check = staff_auth.StaffSessionAuthenticator(box.uows, ttl=0)
    token = staff_auth.sign_in(box.uows, HASHER, "cs@shop.example.cn", PASSWORD).token
    person = check.authenticate(token)
    assert person.person and person.stepped_up_at is None
    rids = []
    for order_no in ("BIG-1", "BIG-2"):
        paid_order(box, None, order_no, [("alipay", "3000.00")], price="3000.00")
        submitted = intake.submit_refund_request(
            box.uows,
            intake.SubmitRefundRequest(order_no, "refund_only", "quality_issue", [("SKU-1", 1)]),
            person,
        )
        rids.append(str(submitted.view["id"]))
    before = snapshot(box)
    with pytest.raises(StepUpRequiredError, match="finance threshold"):
        perform(box.uows, rids[0], Action.APPROVE, person, ActionInput())
    with pytest.raises(StepUpRequiredError, match="bank details"):
        perform(
            box.uows,
            rids[0],
            Action.APPROVE,
            person,
            ActionInput(account_name="王芳", bank_name="招商银行", account_no="6225880112345678"),
        )
    with pytest.raises(PermissionDeniedError, match="wrong"):
        staff_auth.step_up(box.uows, HASHER, token, "not-my-password")
    assert snapshot(box) == {**before, "users": snapshot(box)["users"]}, "nothing else changed"
    staff_auth.step_up(box.uows, HASHER, token, PASSWORD)
    stepped = check.authenticate(token)
    assert stepped.stepped_up_at == clock.now()
    assert perform(box.uows, rids[0], Action.APPROVE, stepped, ActionInput())["status"] == (
        "refund_pending"
    )
    clock.advance(timedelta(minutes=6))  # the confirmation holds five minutes
    with pytest.raises(StepUpRequiredError):
        perform(box.uows, rids[1], Action.APPROVE, check.authenticate(token), ActionInput())
    # A system's API token is scoped by its role instead: no password to confirm.
    system = Actor(ActorKind.STAFF, Role.CS, "token:7", "erp")
    assert perform(box.uows, rids[1], Action.APPROVE, system, ActionInput())["status"] == (
        "refund_pending"
    )
    assert _audit(box).count("step_up") == 1 and _audit(box).count("step_up.failed") == 1


def test_wrong_step_up_passwords_lock_the_account_and_end_the_session(box: Container) -> None:
    from refundflow.domain.errors import PermissionDeniedError

    _user(box)
    check = staff_auth.StaffSessionAuthenticator(box.uows, ttl=0)
    token = staff_auth.sign_in(box.uows, HASHER, "fin@shop.example.cn", PASSWORD).token
    for _ in range(staff_auth.MAX_FAILURES):
        with pytest.raises(PermissionDeniedError):
            staff_auth.step_up(box.uows, HASHER, token, "guess-guess-1")
    with pytest.raises(AuthenticationError):
        check.authenticate(token)  # the session ended with the lockout
    with pytest.raises(AuthenticationError, match="too many failed sign-ins"):
        staff_auth.sign_in(box.uows, HASHER, "fin@shop.example.cn", PASSWORD)
