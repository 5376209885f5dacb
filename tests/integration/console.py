"""Helpers for console tests: console users per role and a client signed in as one of them
(the console's own login form, its session cookie and its CSRF token)."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from fastapi.testclient import TestClient

from refundflow.adapters.security import Argon2Hasher
from refundflow.entrypoints.bootstrap import Container
from refundflow.services.auth import add_user

PASSWORD = "correct-horse-42"
CONSOLE_ROLES = ("admin", "manager", "cs", "warehouse", "finance")


def add_staff(box: Container) -> dict[str, str]:
    """One console user per role: role → e-mail."""
    hasher = Argon2Hasher()
    emails = {}
    for role in CONSOLE_ROLES:
        email = f"{role}@shop.example.cn"
        add_user(box.uows, hasher, email=email, role=role, password=PASSWORD, name=role)
        emails[role] = email
    return emails


class Console:
    """``console.as_("manager")`` signs in (in this client's cookie jar) and returns self;
    ``post`` adds the CSRF token unless told not to."""

    def __init__(self, client: TestClient, emails: dict[str, str]) -> None:
        self.client = client
        self.emails = emails

    def as_(self, role: str) -> Console:
        self.client.cookies.clear()
        page = self.client.get("/console/login")
        assert page.status_code == 200
        signed_in = self.client.post(
            "/console/login",
            data={"csrf_token": self.csrf, "email": self.emails[role], "password": PASSWORD},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303, signed_in.text
        return self

    @property
    def csrf(self) -> str:
        return str(self.client.cookies.get("rf_csrf"))

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def post(
        self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kw: Any
    ) -> Any:
        body = {**(data or {})}
        if csrf:
            body["csrf_token"] = self.csrf
        return self.client.post(path, data=body, follow_redirects=False, **kw)


def text_of(page: str) -> str:
    """The page's text without tags (for asserting on what a person reads)."""
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))
