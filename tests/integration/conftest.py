from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from refundflow.entrypoints.bootstrap import Container
from refundflow.entrypoints.settings import Settings
from refundflow.entrypoints.web.app import create_app
from tests.integration.api import Api, order_body


@pytest.fixture
def client(settings: Settings, box: Container) -> Iterator[TestClient]:
    with TestClient(create_app(settings, container=box), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def api(client: TestClient, tokens: dict[str, str]) -> Api:
    return Api(client, tokens)


@pytest.fixture
def an_order(api: Api) -> dict[str, object]:
    response = api.as_("integration").post("/api/v1/orders", json=order_body())
    assert response.status_code == 201, response.text
    return dict(response.json())
