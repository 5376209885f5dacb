"""The console's policy editor: only the roles that may change the policy open it; rules are
added, edited, reordered, switched off and deleted in the draft through the same use cases
as the API; bad rules are refused naming the rule and field; the draft is simulated and
published; every change is audited and every form needs its CSRF token."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from refundflow.entrypoints.bootstrap import Container
from refundflow.services.clock import ManualClock
from tests.conftest import snapshot
from tests.integration.api import Api, order_body, request_body
from tests.integration.console import Console, add_staff, text_of


@pytest.fixture
def console(client: TestClient, box: Container) -> Console:
    return Console(client, add_staff(box))


SMALL_QUALITY = {
    "id": "small_quality",
    "name": "小额质量问题直接退款",
    "enabled": "1",
    "rows": "3",
    "fact_0": "amount",
    "operator_0": "<",
    "value_0": "100.00",
    "fact_1": "reason",
    "operator_1": "in",
    "value_1": "quality_issue, wrong_item",
    "fact_2": "",
    "outcome": "approve",
    "reason_zh-CN": "小额质量问题，无需寄回",
    "reason_en": "A small quality issue: keep the goods",
    "requires_return": "no",
    "position": "1",
}


def _draft(api: Api) -> dict[str, Any]:
    response = api.as_("manager").get("/api/v1/policies/draft")
    assert response.status_code == 200
    return dict(response.json())


def _audit(box: Container, action: str) -> list[tuple[Any, ...]]:
    from sqlalchemy import text

    with box.engine.connect() as conn:
        return list(
            conn.execute(
                text("SELECT actor, subject FROM audit_events WHERE action = :a"), {"a": action}
            )
        )


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_managers_and_admins_open_the_editor_with_the_draft_and_the_published_version(
    console: Console, role: str, manual_review: int
) -> None:
    page = console.as_(role).get("/console/policy")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "全部人工审核" in text  # the published rule, copied into the draft
    assert f"版本 {manual_review}" in text
    assert 'hx-post="/console/policy/simulate"' in page.text
    assert console.get("/console/policy/rules/new").status_code == 200
    assert console.get("/console/policy/rules/1").status_code == 200


@pytest.mark.parametrize("role", ["cs", "warehouse", "finance"])
def test_other_roles_are_refused_the_editor_and_its_forms(
    console: Console, box: Container, role: str
) -> None:
    console.as_(role)
    before = snapshot(box)
    for path in ("/console/policy", "/console/policy/rules/new", "/console/policy/rules/1"):
        assert console.get(path).status_code == 403
    assert console.post("/console/policy/rules/new", SMALL_QUALITY).status_code == 403
    assert console.post("/console/policy/publish").status_code == 403
    assert console.post("/console/policy/rules/1/delete").status_code == 403
    assert snapshot(box) == before


def test_signed_out_visitors_are_sent_to_the_login_page(client: TestClient) -> None:
    response = client.get("/console/policy", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login"


def test_a_rule_added_in_the_editor_goes_into_the_draft_where_asked_and_is_audited(
    console: Console, api: Api, box: Container, manual_review: int
) -> None:
    saved = console.as_("manager").post("/console/policy/rules/new", SMALL_QUALITY)
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == "/console/policy?saved=1"
    draft = _draft(api)
    assert draft["version"] == manual_review + 1
    first = draft["rules"][0]
    assert first["id"] == "small_quality"
    assert first["conditions"] == [
        {"fact": "amount", "operator": "<", "value": "100.00"},
        {"fact": "reason", "operator": "in", "value": ["quality_issue", "wrong_item"]},
    ]
    assert first["outcome"] == "approve"
    assert first["options"] == {"requires_return": False}
    assert first["customer_reason"] == {
        "zh-CN": "小额质量问题，无需寄回",
        "en": "A small quality issue: keep the goods",
    }
    assert [r["id"] for r in draft["rules"]] == ["small_quality", "all"]
    assert _audit(box, "policy.draft_saved")[-1][1] == f"policy:{manual_review + 1}"
    page = console.get("/console/policy?saved=1")
    assert "草稿已保存" in page.text and "小额质量问题直接退款" in page.text
    # What customers will read once it is published, written from the draft's rules.
    customers_read = text_of(page.text.split('id="draft-text"')[1].split("</details>")[0])
    sentence = "退款金额低于 ¥100.00、以「质量问题」或「发错货」为由，无需寄回商品即可退款"
    assert sentence in customers_read


def test_an_edited_rule_keeps_its_place_and_whole_numbers_stay_numbers(
    console: Console, api: Api, manual_review: int
) -> None:
    console.as_("manager").post("/console/policy/rules/new", SMALL_QUALITY)
    edited = {
        **SMALL_QUALITY,
        "name": "小额质量问题",
        "fact_1": "days_since_delivery",
        "operator_1": "<=",
        "value_1": "15",
        "position": "1",
    }
    assert console.post("/console/policy/rules/1", edited).status_code == 303
    rule = _draft(api)["rules"][0]
    assert rule["name"] == "小额质量问题"
    assert rule["conditions"][1] == {"fact": "days_since_delivery", "operator": "<=", "value": 15}


def test_a_bad_rule_is_refused_naming_the_rule_and_field_and_nothing_changes(
    console: Console, box: Container, manual_review: int
) -> None:
    console.as_("manager")
    before = snapshot(box)
    bad = {**SMALL_QUALITY, "value_0": "a hundred"}
    refused = console.post("/console/policy/rules/new", bad)
    assert refused.status_code == 422
    text = text_of(refused.text)
    assert "rule 1 '小额质量问题直接退款'" in text
    assert "conditions[0].value" in text
    assert 'data-error-for="conditions[0].value"' in refused.text
    assert "a hundred" in refused.text  # what was typed is kept for correcting
    # An operator that does not fit the fact, and a rejection without a reason.
    wrong = {**SMALL_QUALITY, "operator_1": "<", "outcome": "reject", "reason_zh-CN": ""}
    wrong["reason_en"] = ""
    wrong["requires_return"] = ""
    refused = console.post("/console/policy/rules/new", wrong)
    assert refused.status_code == 422
    assert "conditions[1].operator" in refused.text
    assert "customer_reason" in refused.text
    # The API's pydantic model catches what the form cannot express.
    long_name = {**SMALL_QUALITY, "name": "长" * 101}
    refused = console.post("/console/policy/rules/new", long_name)
    assert refused.status_code == 422 and "name" in text_of(refused.text)
    assert snapshot(box) == before


def test_forms_without_the_csrf_token_change_nothing(
    console: Console, box: Container, manual_review: int
) -> None:
    console.as_("manager")
    before = snapshot(box)
    for path in (
        "/console/policy/rules/new",
        "/console/policy/rules/1/delete",
        "/console/policy/publish",
        "/console/policy/simulate",
    ):
        response = console.post(path, SMALL_QUALITY, csrf=False)
        assert response.status_code == 403, path
        assert "the form expired" in response.text
    assert snapshot(box) == before


def test_rules_move_up_and_down_switch_off_and_are_deleted(
    console: Console, api: Api, manual_review: int
) -> None:
    console.as_("manager").post("/console/policy/rules/new", {**SMALL_QUALITY, "position": "2"})
    assert [r["id"] for r in _draft(api)["rules"]] == ["all", "small_quality"]
    assert console.post("/console/policy/rules/2/up").status_code == 303
    assert [r["id"] for r in _draft(api)["rules"]] == ["small_quality", "all"]
    assert console.post("/console/policy/rules/1/down").status_code == 303
    assert [r["id"] for r in _draft(api)["rules"]] == ["all", "small_quality"]
    assert console.post("/console/policy/rules/1/toggle").status_code == 303
    assert _draft(api)["rules"][0]["enabled"] is False
    page = console.get("/console/policy").text
    assert 'data-diff="new"' in page and 'data-diff="changed"' in page  # against published
    assert console.post("/console/policy/rules/1/delete").status_code == 303
    assert [r["id"] for r in _draft(api)["rules"]] == ["small_quality"]
    removed = console.get("/console/policy").text.split('id="removed-rules"')[1]
    assert "全部人工审核" in removed.split("</p>")[0]
    assert console.post("/console/policy/rules/9/delete").status_code == 422


def test_a_stale_form_cannot_overwrite_a_newer_draft(
    console: Console, box: Container, manual_review: int
) -> None:
    console.as_("manager").post("/console/policy/rules/new", SMALL_QUALITY)
    before = snapshot(box)
    stale = console.post("/console/policy/rules/1/delete", {"version": str(manual_review)})
    assert stale.status_code == 409
    assert snapshot(box) == before


def test_the_draft_is_simulated_with_the_outcome_changes_then_published_and_decides(
    console: Console, api: Api, box: Container, manual_review: int
) -> None:
    assert api.as_("integration").post("/api/v1/orders", json=order_body()).status_code == 201
    made = api.as_("cs").post("/api/v1/refund-requests", json=request_body())
    assert made.status_code == 201 and made.json()["status"] == "pending_review"
    console.as_("manager")
    # Only a saved draft is simulated.
    unsaved = console.post(
        "/console/policy/simulate",
        {"from": "2026-11-01", "to": "2026-11-27"},
        headers={"HX-Request": "true"},
    )
    assert unsaved.status_code == 422 and "save the draft first" in unsaved.text
    console.post("/console/policy/rules/new", SMALL_QUALITY)
    before = snapshot(box)
    result = console.post(
        "/console/policy/simulate",
        {"from": "2026-11-01", "to": "2026-11-27"},
        headers={"HX-Request": "true"},
    )
    assert result.status_code == 200, result.text
    assert "<html" not in result.text  # the fragment htmx swaps in
    assert 'data-changed="1"' in result.text
    assert f'data-request="{made.json()["number"]}"' in result.text
    assert snapshot(box) == before  # a simulation is a pure read
    bad_period = console.post("/console/policy/simulate", {"from": "2026-11-27", "to": "soon"})
    assert bad_period.status_code == 422 and "to: a date" in bad_period.text
    slow = {"from": "2026-11-01", "to": "2026-11-27", "minutes": "30"}
    hours = console.post("/console/policy/simulate", slow, headers={"HX-Request": "true"})
    assert "审核工时: 0.5" in text_of(hours.text)  # one review of 30 minutes saved
    never = {**slow, "minutes": "0"}
    refused = console.post("/console/policy/simulate", never, headers={"HX-Request": "true"})
    assert refused.status_code == 422 and "minutes per review" in refused.text

    published = console.post("/console/policy/publish")
    assert published.status_code == 303
    assert published.headers["location"] == f"/console/policy?published={manual_review + 1}"
    assert _audit(box, "policy.published")[-1][1] == f"policy:{manual_review + 1}"
    assert api.as_("integration").post("/api/v1/orders", json=order_body("TM-2")).status_code == 201
    decided = api.as_("cs").post("/api/v1/refund-requests", json=request_body("TM-2")).json()
    assert decided["decision"]["rule"] == "small_quality"
    assert decided["status"] == "refund_pending"


def test_trust_quotas_are_saved_in_the_draft_and_a_bad_amount_is_refused(
    console: Console, api: Api, box: Container, manual_review: int
) -> None:
    console.as_("manager")
    quota = {"quota_standard": "200.00", "quota_vip": "3000", "quota_gold": ""}
    assert console.post("/console/policy/trust-quota", quota).status_code == 303
    assert _draft(api)["trust_quota"] == {"standard": "200.00", "vip": "3000"}
    before = snapshot(box)
    refused = console.post("/console/policy/trust-quota", {**quota, "quota_vip": "lots"})
    assert refused.status_code == 422
    assert "trust_quota.vip" in text_of(refused.text)
    assert snapshot(box) == before


def test_a_rule_the_draft_does_not_have_is_not_found(console: Console) -> None:
    console.as_("manager")
    assert console.get("/console/policy/rules/9").status_code == 404
    assert console.get("/console/policy/rules/first").status_code == 404


def test_a_form_older_than_the_draft_changes_nothing_and_publishes_nothing(
    console: Console, box: Container, clock: ManualClock, manual_review: int
) -> None:
    console.as_("manager").post("/console/policy/rules/new", SMALL_QUALITY)
    opened = console.get("/console/policy/rules/1").text
    seen = re.search(r'name="seen" value="([^"]+)"', opened)
    assert seen is not None
    clock.advance(timedelta(minutes=5))
    # Someone else changes the draft meanwhile.
    assert console.post("/console/policy/rules/2/toggle", {"seen": seen[1]}).status_code == 303
    before = snapshot(box)
    stale = {**SMALL_QUALITY, "seen": seen[1], "name": "旧的修改"}
    refused = console.post("/console/policy/rules/1", stale)
    assert refused.status_code == 409 and "reload" in refused.text
    assert console.post("/console/policy/publish", {"seen": seen[1]}).status_code == 409
    assert console.post("/console/policy/rules/1/delete", {"seen": seen[1]}).status_code == 409
    assert snapshot(box) == before
