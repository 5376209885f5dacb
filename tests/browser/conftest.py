"""Browser tests: a real HTTP server (uvicorn on 127.0.0.1, in this process so the test can
drive the clock and read the database) and Debian's Chromium driven by Playwright.
Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from refundflow.adapters.security import Argon2Hasher
from refundflow.entrypoints.bootstrap import Container
from refundflow.entrypoints.web.app import create_app
from refundflow.services.auth import add_user
from tests.tools.servers import free_port

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct-horse-42"
# As the machine's notes say: without these Chromium keeps calling out to a closed network.
FLAGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """Pages do not depend on the database kind; the API suite runs both."""
    return sqlite_url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make install` (it installs Debian's chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


class LiveServer:
    def __init__(self, box: Container, port: int | None = None) -> None:
        self.box = box
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(box.settings, container=box),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live(box: Container) -> Iterator[LiveServer]:
    with LiveServer(box) as server:
        yield server


STAFF = {
    "cs": "客服 小王",
    "warehouse": "仓库 老李",
    "finance": "财务 陈会计",
    "manager": "经理 张总",
    "admin": "管理员",
}


@pytest.fixture
def staff(box: Container) -> dict[str, str]:
    """One console user per role: role → e-mail."""
    hasher = Argon2Hasher()
    emails = {}
    for role, name in STAFF.items():
        email = f"{role}@shop.example.cn"
        add_user(box.uows, hasher, email=email, role=role, password=PASSWORD, name=name)
        emails[role] = email
    return emails


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Any]:
    """``new_page(width=1280, height=860)`` → a page in a fresh context (own cookies)."""
    contexts = []
    problems: list[str] = []

    def make(width: int = 1366, height: int = 900, **options: Any) -> Page:
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale="zh-CN", **options
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        # Our pages run no inline script and load nothing from elsewhere: the browser must
        # report no Content-Security-Policy violation and no script error.
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on(
            "console",
            lambda message: (
                problems.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        return page

    yield make
    for context in contexts:
        context.close()
    assert problems == []


def sign_in(page: Page, live: LiveServer, email: str) -> None:
    page.goto(f"{live.url}/console/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/console(\?.*)?$"))


def shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
