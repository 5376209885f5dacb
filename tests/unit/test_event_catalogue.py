"""The event catalogue: every event the code emits is published with a valid JSON Schema,
what the domain emits matches it, the docs list it, and the signature is the documented one."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import jsonschema

from refundflow.domain.balances import Holds, price_request
from refundflow.domain.catalogue import CATALOGUE
from refundflow.domain.decisions import Decision, Explanation
from refundflow.domain.lifecycle import RequestType
from refundflow.domain.requests import IntakeChannel, RefundRequest, RefundRoute
from refundflow.domain.webhooks import next_attempt, signature_header
from refundflow.services.outbox import OutboxMessage
from refundflow.services.webhook_delivery import envelope
from tests.builders import T0, order, staff
from tests.webhook_docs import DOCS, documented_verifier

SRC = Path(__file__).parents[2] / "src" / "refundflow"


def test_every_topic_the_code_emits_is_in_the_catalogue() -> None:
    emitted = set()
    for path in SRC.rglob("*.py"):
        emitted |= set(re.findall(r'DomainEvent\(\s*"([a-z_.]+)"', path.read_text()))
    assert emitted, "the scan found no events: the pattern is stale"
    assert emitted <= set(CATALOGUE), f"not catalogued: {sorted(emitted - set(CATALOGUE))}"


def test_every_schema_is_a_valid_json_schema_and_is_documented() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for name, event_type in CATALOGUE.items():
        jsonschema.Draft202012Validator.check_schema(event_type.envelope_schema())
        assert f"`{name}`" in docs, f"docs/webhooks.md does not list {name}"


def test_what_the_domain_emits_fits_the_published_schemas() -> None:
    source = order()
    pricing = price_request(
        source, Holds("CNY"), [("SKU-1", 1)], include_shipping=False, moves_money=True
    )
    built = RefundRequest.submit(
        request_id=7,
        number="RF20261120-000007",
        order=source,
        pricing=pricing,
        include_shipping=False,
        type=RequestType.RETURN_AND_REFUND,
        reason="quality_issue",
        description="",
        refund_route=RefundRoute.ORIGINAL,
        intake_channel=IntakeChannel.API,
        actor=staff(),
        at=T0,
    )
    decision = Decision(
        "approve", 3, "quality_15d", "质量问题", 2, {"zh-CN": Explanation("a", "b")}, True
    )
    built.apply_decision(decision, T0)
    built.record_return_shipment(staff(), T0, carrier="顺丰", tracking_no="SF1")
    assert [e.topic for e in built.events] == [
        "refund_request.created",
        "refund_request.decided",
        "refund_request.status_changed",
        "refund_request.status_changed",
    ]
    for seq, event in enumerate(built.events, start=1):
        body = envelope(OutboxMessage(seq, event.topic, event.key, event.payload, 1), T0)
        jsonschema.validate(json.loads(body), CATALOGUE[event.topic].envelope_schema())


def test_both_secrets_of_a_rotation_verify_with_the_documented_snippet() -> None:
    verify = documented_verifier()
    body = b'{"id":"evt_1"}'
    header = signature_header(
        ["whsec_new_secret_000000000000", "whsec_old_secret_000000000000"], 1_795_000_000, body
    )
    for secret in ("whsec_new_secret_000000000000", "whsec_old_secret_000000000000"):
        assert verify(body, header, secret, now=1_795_000_100)
    assert not verify(body, header, "whsec_other_secret_0000000000", now=1_795_000_100)
    assert not verify(body, header, "whsec_new_secret_000000000000", now=1_795_000_400)


def test_retries_grow_and_stop_at_the_end_of_the_24_hours() -> None:
    expires = T0 + timedelta(hours=24)
    first = next_attempt(1, T0, expires)
    assert first is not None and timedelta(seconds=9) <= first - T0 <= timedelta(seconds=11)
    late = next_attempt(12, T0 + timedelta(hours=23), expires)
    assert late == expires, "one last attempt at the 24-hour mark"
    assert next_attempt(13, expires, expires) is None
