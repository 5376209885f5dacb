"""The doors people knock on answer 429 with Retry-After once a client knocks too often,
and a refused knock changes nothing."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from refundflow.entrypoints.bootstrap import Container
from refundflow.entrypoints.web.app import create_app
from tests.conftest import snapshot
from tests.integration.api import Api


def test_portal_lookups_from_one_address_are_limited(
    api: Api, box: Container, an_order: Any
) -> None:
    body = {"order_no": "NOPE-1", "contact": "13800000000"}
    answers = [api.client.post("/api/v1/portal/lookup", json=body).status_code for _ in range(20)]
    assert answers == [202] * 20
    before = snapshot(box)
    refused = api.client.post("/api/v1/portal/lookup", json=body)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["error"]["code"] == "rate_limited"
    assert "秒后再试" in refused.json()["error"]["message"]
    assert refused.headers["x-content-type-options"] == "nosniff"
    assert snapshot(box) == before, "a refused lookup stores no code"
    # Other doors, and reading, are not affected.
    assert api.get("/api/v1/orders/TM-1001").status_code == 200


def test_console_sign_in_attempts_are_limited_per_address(box: Container) -> None:
    with TestClient(create_app(box.settings, container=box)) as client:
        page = client.get("/console/login?lang=en")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        form = {"email": "nobody@shop.cn", "password": "wrong-password", "csrf_token": csrf}
        codes = [client.post("/console/login", data=form).status_code for _ in range(21)]
    assert codes[:20] == [401] * 20
    assert codes[20] == 429


def test_limits_can_be_switched_off_for_a_trusted_front_proxy(box: Container) -> None:
    settings = box.settings.model_copy(update={"rate_limits": False})
    with TestClient(create_app(settings, container=box)) as client:
        body = {"order_no": "NOPE-1", "contact": "13800000000"}
        codes = {client.post("/api/v1/portal/lookup", json=body).status_code for _ in range(25)}
    assert codes == {202}
