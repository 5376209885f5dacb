"""Signed events out to a real local HTTP receiver, through the real worker, on SQLite and
PostgreSQL: verified with the documented snippet, retried on errors, in order per request,
logged, replayable, and signed with two secrets while one is rotated out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import jsonschema
import pytest

from refundflow.entrypoints.bootstrap import Container
from refundflow.entrypoints.worker import Worker
from refundflow.services.clock import ManualClock
from refundflow.services.outbox import OutboxMessage
from refundflow.services.webhook_delivery import fan_out
from tests.conftest import snapshot
from tests.integration.api import Api, order_body, request_body
from tests.tools.receiver import Receiver, receiving
from tests.webhook_docs import documented_verifier

verify = documented_verifier()


@pytest.fixture(autouse=True)
def _everything_to_review(manual_review: int) -> None:
    """Requests wait for review, so the tests drive each event."""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as r:
        yield r


@pytest.fixture
def worker(box: Container) -> Worker:
    return Worker(box, worker_id="test-worker")


def drain(worker: Worker, rounds: int = 50) -> None:
    """Run the worker until it finds nothing due."""
    for _ in range(rounds):
        if not worker.run_once():
            return
    raise AssertionError("the worker never ran dry")


def subscribe(api: Api, url: str, events: list[str] | None = None) -> dict[str, Any]:
    response = api.as_("manager").post(
        "/api/v1/webhook-subscriptions",
        json={"url": url, "events": events or ["*"], "description": "ERP"},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def new_request(api: Api, order_no: str = "TM-1001") -> dict[str, Any]:
    if api.get(f"/api/v1/orders/{order_no}").status_code == 404:
        assert (
            api.as_("integration").post("/api/v1/orders", json=order_body(order_no)).status_code
            == 201
        )
    response = api.as_("cs").post("/api/v1/refund-requests", json=request_body(order_no))
    assert response.status_code == 201, response.text
    return dict(response.json())


def events(receiver: Receiver, number: str | None = None) -> list[str]:
    found = []
    for request in receiver.requests:
        envelope = json.loads(request.body)
        if number is None or envelope["data"]["number"] == number:
            found.append(envelope["type"] + ":" + envelope["data"]["status"])
    return found


def test_deliveries_are_signed_and_pass_the_documented_check(
    api: Api, worker: Worker, receiver: Receiver, clock: ManualClock
) -> None:
    sub = subscribe(api, receiver.url)
    assert sub["secret"].startswith("whsec_")
    request = new_request(api)
    assert api.as_("cs").act(request["id"], "approve").status_code == 200
    drain(worker)
    assert events(receiver) == [
        "refund_request.created:pending_review",
        "refund_request.decided:pending_review",
        "refund_request.status_changed:awaiting_return",
    ]
    schema = {e["type"]: e["schema"] for e in api.get("/api/v1/events/schema").json()["events"]}
    now = clock.now().timestamp()
    for delivered in receiver.requests:
        header = delivered.headers["X-Refundflow-Signature"]
        assert verify(delivered.body, header, sub["secret"], now=now)
        assert not verify(delivered.body + b" ", header, sub["secret"], now=now), "tampered"
        assert not verify(delivered.body, header, "whsec_someone_else_entirely_0000", now=now)
        assert not verify(delivered.body, header, sub["secret"], now=now + 3600), "too old"
        envelope = json.loads(delivered.body)
        jsonschema.validate(envelope, schema[envelope["type"]])
        assert delivered.headers["X-Refundflow-Event"] == envelope["type"]
        assert delivered.headers["X-Refundflow-Event-Id"] == envelope["id"]
    change = json.loads(receiver.requests[-1].body)["data"]
    assert (change["action"], change["from_status"], change["actor"]["role"]) == (
        "approve",
        "pending_review",
        "cs",
    )


def test_an_error_answer_is_retried_with_backoff_and_every_attempt_is_logged(
    api: Api, worker: Worker, receiver: Receiver, clock: ManualClock
) -> None:
    sub = subscribe(api, receiver.url, ["refund_request.created"])
    receiver.answer(500)
    new_request(api)
    drain(worker)
    assert len(receiver.requests) == 1
    log = api.as_("manager").get(f"/api/v1/webhook-subscriptions/{sub['id']}/deliveries").json()
    (delivery,) = log["items"]
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "pending",
        1,
        500,
    )
    assert "maintenance" in delivery["last_response_excerpt"]
    drain(worker)
    assert len(receiver.requests) == 1, "not before the backoff"
    clock.advance(timedelta(seconds=12))
    drain(worker)
    assert len(receiver.requests) == 2
    detail = api.as_("manager").get(f"/api/v1/webhook-deliveries/{delivery['id']}").json()
    assert detail["status"] == "delivered"
    assert [(a["attempt"], a["status_code"], a["outcome"]) for a in detail["attempt_log"]] == [
        (1, 500, "failed"),
        (2, 200, "delivered"),
    ]
    assert all(a["latency_ms"] >= 0 for a in detail["attempt_log"])
    assert receiver.requests[0].body == receiver.requests[1].body == detail["body"].encode()


def test_a_requests_events_wait_behind_its_failing_one_while_other_requests_flow(
    api: Api, worker: Worker, receiver: Receiver, clock: ManualClock
) -> None:
    subscribe(api, receiver.url)
    first = new_request(api, "TM-1001")
    second = new_request(api, "TM-2002")
    receiver.refuse = first["number"].encode()
    api.as_("cs").act(first["id"], "approve")
    api.as_("cs").act(second["id"], "approve")
    api.as_("cs").act(first["id"], "return-shipment", carrier="顺丰速运", tracking_no="SF1")
    drain(worker)
    assert events(receiver, second["number"]) == [
        "refund_request.created:pending_review",
        "refund_request.decided:pending_review",
        "refund_request.status_changed:awaiting_return",
    ]
    assert events(receiver, first["number"]) == ["refund_request.created:pending_review"]
    receiver.refuse = None
    for _ in range(3):
        clock.advance(timedelta(minutes=3))
        drain(worker)
    accepted = [r for r in receiver.requests if first["number"].encode() in r.body][1:]
    assert [json.loads(r.body)["type"] for r in accepted] == [
        "refund_request.created",
        "refund_request.decided",
        "refund_request.status_changed",
        "refund_request.status_changed",
    ]
    ids = [int(json.loads(r.body)["id"].removeprefix("evt_")) for r in accepted]
    assert ids == sorted(ids)


def test_a_delivery_failing_for_24_hours_is_marked_failed_and_can_be_replayed(
    api: Api, worker: Worker, receiver: Receiver, clock: ManualClock, box: Container
) -> None:
    sub = subscribe(api, receiver.url, ["refund_request.created"])
    receiver.refuse = b"refund_request.created"
    new_request(api)
    for _ in range(30):
        drain(worker)
        clock.advance(timedelta(hours=1, minutes=30))
    log = api.as_("manager").get(f"/api/v1/webhook-subscriptions/{sub['id']}/deliveries")
    (delivery,) = log.json()["items"]
    assert delivery["status"] == "failed"
    assert 10 <= delivery["attempts"] == len(receiver.requests) <= 25
    before = snapshot(box)
    drain(worker)
    assert snapshot(box) == before, "a failed delivery is not retried on its own"
    receiver.refuse = None
    replay = api.as_("manager").post(f"/api/v1/webhook-deliveries/{delivery['id']}/replay")
    assert replay.status_code == 202 and replay.json()["status"] == "pending"
    drain(worker)
    detail = api.as_("manager").get(f"/api/v1/webhook-deliveries/{delivery['id']}").json()
    assert detail["status"] == "delivered"
    assert detail["attempt_log"][-1]["status_code"] == 200
    assert receiver.requests[-1].body == receiver.requests[0].body


def test_a_rotated_secret_keeps_signing_beside_the_new_one_until_the_overlap_ends(
    api: Api, worker: Worker, receiver: Receiver, clock: ManualClock
) -> None:
    sub = subscribe(api, receiver.url, ["refund_request.created"])
    rotated = api.as_("manager").post(
        f"/api/v1/webhook-subscriptions/{sub['id']}/rotate-secret", json={"overlap_hours": 1}
    )
    assert rotated.status_code == 200, rotated.text
    old, new = sub["secret"], rotated.json()["secret"]
    assert old != new
    new_request(api, "TM-1001")
    drain(worker)
    during = receiver.requests[-1]
    header = during.headers["X-Refundflow-Signature"]
    assert header.count("v1=") == 2
    now = clock.now().timestamp()
    assert verify(during.body, header, old, now=now) and verify(during.body, header, new, now=now)
    clock.advance(timedelta(hours=2))
    new_request(api, "TM-2002")
    drain(worker)
    after = receiver.requests[-1]
    header = after.headers["X-Refundflow-Signature"]
    now = clock.now().timestamp()
    assert header.count("v1=") == 1
    assert verify(after.body, header, new, now=now) and not verify(after.body, header, old, now=now)


def test_a_paused_subscription_gets_nothing_and_other_events_are_not_sent(
    api: Api, worker: Worker, receiver: Receiver
) -> None:
    paused = subscribe(api, receiver.url)
    only_created = subscribe(api, receiver.url + "/created", ["refund_request.created"])
    api.as_("manager").client.patch(
        f"/api/v1/webhook-subscriptions/{paused['id']}",
        json={"active": False},
        headers={"Authorization": f"Bearer {api.tokens['manager']}"},
    )
    new_request(api)
    drain(worker)
    assert [(r.path, json.loads(r.body)["type"]) for r in receiver.requests] == [
        ("/hooks/created", "refund_request.created")
    ]
    assert only_created["events"] == ["refund_request.created"]


def test_fanning_out_the_same_event_twice_writes_its_deliveries_once(
    api: Api, box: Container, receiver: Receiver
) -> None:
    subscribe(api, receiver.url)
    message = OutboxMessage(99, "refund_request.created", "refund_request:1", {"id": 1}, 1)
    handle = fan_out(box.uows)
    handle(message)
    once = snapshot(box)
    handle(message)
    assert snapshot(box) == once
    assert len(once["webhook_deliveries"]) == 1


def test_bad_subscriptions_are_refused_and_change_nothing(api: Api, box: Container) -> None:
    before = snapshot(box)
    manager = api.as_("manager")
    cases = [
        ({"url": "ftp://erp.example.cn/in", "events": ["*"]}, 422, "url"),
        ({"url": "https://erp.example.cn/in", "events": ["refund.teleported"]}, 422, "events"),
        ({"url": "https://u:p@erp.example.cn/in", "events": ["*"]}, 422, "url"),
        ({"url": "https://erp.example.cn/in", "events": ["*"], "secret": "short"}, 422, "secret"),
        ({"url": "https://erp.example.cn/in", "events": []}, 422, "events"),
    ]
    for body, status, field in cases:
        response = manager.post("/api/v1/webhook-subscriptions", json=body)
        assert response.status_code == status, response.text
        assert field in response.text
    forbidden = api.as_("cs").post(
        "/api/v1/webhook-subscriptions", json={"url": "https://erp.example.cn/in", "events": ["*"]}
    )
    assert forbidden.status_code == 403
    assert manager.post("/api/v1/webhook-deliveries/999/replay").status_code == 404
    assert snapshot(box) == before


def test_two_workers_side_by_side_send_each_event_once_and_in_order(
    api: Api, box: Container, receiver: Receiver
) -> None:
    import threading

    subscribe(api, receiver.url)
    numbers = []
    for i in range(6):
        request = new_request(api, f"TM-{3000 + i}")
        api.as_("cs").act(request["id"], "approve")
        numbers.append(request["number"])
    workers = [Worker(box, worker_id=f"w{i}") for i in range(2)]
    barrier = threading.Barrier(2)

    def work(worker: Worker) -> None:
        barrier.wait()
        drain(worker, rounds=200)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [json.loads(r.body)["id"] for r in receiver.requests]
    assert len(ids) == len(set(ids)) == 18, "each event exactly once"
    for number in numbers:
        assert events(receiver, number) == [
            "refund_request.created:pending_review",
            "refund_request.decided:pending_review",
            "refund_request.status_changed:awaiting_return",
        ]


def test_an_event_waits_for_the_earlier_events_of_its_request_still_in_the_outbox(
    api: Api, box: Container, worker: Worker, receiver: Receiver
) -> None:
    """Another worker may fan out a later event first; it must not overtake."""
    from sqlalchemy import text

    subscribe(api, receiver.url)
    request = new_request(api)
    api.as_("cs").act(request["id"], "approve")
    with box.engine.connect() as conn:
        last = conn.execute(
            text("SELECT id, topic, key, payload FROM outbox ORDER BY id DESC LIMIT 1")
        ).one()
    fan_out(box.uows)(OutboxMessage(last[0], last[1], last[2], json.loads(last[3]), 1))
    assert worker.webhooks.run_once() == 0, "the earlier two are not fanned out yet"
    assert receiver.requests == []
    drain(worker)
    assert events(receiver) == [
        "refund_request.created:pending_review",
        "refund_request.decided:pending_review",
        "refund_request.status_changed:awaiting_return",
    ]
