"""The API keeps its own promises under generated input: schemathesis reads the app's OpenAPI
document and sends every operation cases generated from it, as each role (and as a signed-in
customer), in process over ASGI. No answer is a 5xx, every answer's status code and content
type are documented for the operation, and every JSON body matches its documented schema.

The default suite runs 5 cases per operation as admin, finance and a customer (about 40 s
per database); ``make test-long`` runs 100 per operation for every caller (about an hour).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as run_with
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from refundflow.entrypoints.bootstrap import Container
from refundflow.entrypoints.settings import Settings
from refundflow.entrypoints.web.app import create_app
from refundflow.services.clock import ManualClock
from refundflow.services.demo import seed_demo
from tests.integration.api import order_body, request_body

ALL_CALLERS = ("admin", "manager", "cs", "warehouse", "finance", "integration", "customer")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
pytestmark = pytest.mark.slow
STREAMS = re.compile(r"/events$")  # Server-Sent Events never end; their opening is tested


@pytest.fixture
def settings(db_url: str, tmp_path: Any) -> Settings:
    """Everything that can be configured without a third party is, so that an answer is
    about the input, not about a missing setting (which answers 503 on purpose)."""
    return Settings(
        database_url=db_url,
        environment="test",
        token_cache_seconds=0,
        rate_limits=False,
        shopify_webhook_secret="s" * 32,
        woocommerce_webhook_secret="w" * 32,
        sms_provider="webhook",
        sms_url="http://127.0.0.1:9/sms",
        sms_webhook_secret="m" * 32,
        media_dir=str(tmp_path / "media"),
    )


def _customer_token(client: TestClient, box: Container, integration: str) -> str:
    """A portal session for the customer of order FZ-1 (which has a request)."""
    headers = {"Authorization": f"Bearer {integration}"}
    assert client.post("/api/v1/orders", json=order_body("FZ-1"), headers=headers).is_success
    assert client.post(
        "/api/v1/refund-requests", json=request_body("FZ-1"), headers=headers
    ).is_success
    lookup = {"order_no": "FZ-1", "contact": "13912345678"}
    assert client.post("/api/v1/portal/lookup", json=lookup).status_code == 202
    with box.engine.connect() as conn:
        content = conn.exec_driver_sql(
            "SELECT content FROM notifications WHERE notice = 'login_code' ORDER BY id DESC"
        ).first()
    assert content is not None
    code = re.search(r"\b(\d{6})\b", content[0]).group(1)  # type: ignore[union-attr]
    verified = client.post("/api/v1/portal/verify", json={**lookup, "code": code})
    assert verified.status_code == 200, verified.text
    return str(verified.json()["token"])


def fuzz(
    client: TestClient, token: str, examples: int, *, explore: bool = False
) -> tuple[Counter[str], dict[str, str], int]:
    """Run ``examples`` generated cases per operation with ``token``: (cases per operation,
    the first failure per operation, operations). Without ``explore`` the cases are the same
    every run (a default-suite failure is a regression, never luck); with it, new ones."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    cases: Counter[str] = Counter()
    failures: dict[str, str] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if STREAMS.search(operation.path):
            continue
        operations += 1
        name = f"{operation.method.upper()} {operation.path}"

        @given(case=operation.as_strategy())
        @run_with(
            max_examples=examples,
            derandomize=not explore,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            cases[f"{case.operation.method.upper()} {case.operation.path}"] += 1
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            failures[name] = str(exc)[:1500]
    return cases, failures, operations


def _run(
    client: TestClient,
    box: Container,
    tokens: dict[str, str],
    roles: tuple[str, ...],
    examples: int,
    *,
    explore: bool = False,
) -> None:
    customer = _customer_token(client, box, tokens["integration"])
    total, found = 0, {}
    per_operation: Counter[str] = Counter()
    for role in roles:
        token = customer if role == "customer" else tokens[role]
        cases, failures, operations = fuzz(client, token, examples, explore=explore)
        total += sum(cases.values())
        per_operation.update(cases)
        print(
            f"schemathesis as {role}: {operations} operations, {sum(cases.values())} cases, "
            f"{len(failures)} failing operations"
        )
        found.update({f"{role} {name}": text for name, text in failures.items()})
    print(f"schemathesis: {total} cases in all, {len(found)} failing (role, operation)")
    under = sorted(name for name, n in per_operation.items() if n < 100)
    print(f"schemathesis: operations under 100 cases over all callers: {under}")
    assert found == {}, "\n\n".join(f"{k}:\n{v}" for k, v in found.items())


@pytest.fixture
def client(settings: Settings, box: Container, clock: ManualClock) -> Any:
    seed_demo(box.uows, clock, orders_count=20, seed=3)  # ids 1, 2, 3 … exist
    with TestClient(create_app(settings, container=box), raise_server_exceptions=False) as c:
        yield c


@pytest.mark.timeout(1500)
def test_every_operation_keeps_its_documented_contract_for_a_few_cases_per_role(
    client: TestClient, box: Container, tokens: dict[str, str], db_url: str
) -> None:
    """In every CI run, the same cases every run: on SQLite every caller (the six staff roles
    and a portal customer) with 15 cases per operation each, ≥ 100 per operation where the
    inputs allow that many; on PostgreSQL admin, finance and a customer with 5 each."""
    if db_url.startswith("sqlite"):
        _run(client, box, tokens, ALL_CALLERS, examples=15)
    else:
        _run(client, box, tokens, ("admin", "finance", "customer"), examples=5)


@pytest.mark.long
@pytest.mark.timeout(5400)
def test_every_operation_keeps_its_documented_contract_for_100_cases_per_role(
    client: TestClient, box: Container, tokens: dict[str, str], db_url: str
) -> None:
    """About 7,500 cases per caller, 6–9 minutes each on two busy cores: every caller on
    SQLite, admin on PostgreSQL (the same code answers; the database adds little here)."""
    chosen = ALL_CALLERS if db_url.startswith("sqlite") else ALL_CALLERS[:1]
    _run(client, box, tokens, chosen, examples=100, explore=True)
