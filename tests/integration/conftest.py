from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from refundflow.entrypoints.bootstrap import Container
from refundflow.entrypoints.settings import Settings
from refundflow.entrypoints.web.app import create_app
from refundflow.services.clock import ManualClock
from tests.conftest import REVIEW_EVERYTHING, publish
from tests.integration.api import Api, order_body
from tests.integration.payouts import Fakes, payout_box, running_fakes


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


# ---------------------------------------------------------------- payouts
@pytest.fixture
def fakes() -> Iterator[Fakes]:
    """The local Alipay, WeChat Pay and Stripe servers (tests/fakes)."""
    with running_fakes() as running:
        yield running


@pytest.fixture
def pbox(db_url: str, fakes: Fakes, clock: ManualClock) -> Iterator[Container]:
    """A container wired to the local gateways; every request waits for review; three
    unknown outcomes before a record goes to reconciliation."""
    box = payout_box(db_url, fakes, clock, payout_max_unknown_attempts=3)
    publish(box, REVIEW_EVERYTHING)
    yield box
    box.close()
