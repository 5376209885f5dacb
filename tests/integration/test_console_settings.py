"""The console's settings: service levels, reason codes, root-cause tags, notification
templates (with a preview on sample data) and users. Managers and admins open them, other
roles are refused; bad input is refused with its reason and changes nothing; changes go
through the API's use cases and are audited; users are managed by admins only."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from refundflow.entrypoints.bootstrap import Container
from tests.conftest import snapshot
from tests.integration.api import Api
from tests.integration.console import Console, add_staff, text_of

SECTIONS = ("sla", "calendar", "reasons", "root-causes", "templates", "users")


@pytest.fixture
def console(client: TestClient, box: Container) -> Console:
    return Console(client, add_staff(box))


def _audit(box: Container, action: str) -> list[tuple[Any, ...]]:
    with box.engine.connect() as conn:
        return list(
            conn.execute(
                text("SELECT actor, subject, detail FROM audit_events WHERE action = :a"),
                {"a": action},
            )
        )


def _sla_form(api: Api) -> dict[str, str]:
    """The SLA form as the page fills it from the stored rules."""
    rules = api.as_("manager").get("/api/v1/sla-rules").json()
    form: dict[str, str] = {"rows": str(len(rules) + 1)}
    tri = {True: "yes", False: "no", None: ""}
    for i, rule in enumerate(rules):
        form.update(
            {
                f"step_{i}": rule["step"],
                f"minutes_{i}": str(rule["minutes"]),
                f"channel_{i}": rule["channel"] or "",
                f"type_{i}": rule["type"] or "",
                f"tier_{i}": rule["tier"] or "",
                f"fast_track_{i}": tri[rule["fast_track"]],
                f"order_shipped_{i}": tri[rule["order_shipped"]],
                f"remind_at_{i}": rule["remind_at"] or "",
                f"on_breach_{i}": rule["on_breach"] or "",
                f"preset_{i}": rule["preset"] or "",
            }
        )
        if rule["business_hours"]:
            form[f"business_hours_{i}"] = "1"
    return form


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_managers_and_admins_open_every_settings_section(console: Console, role: str) -> None:
    console.as_(role)
    assert console.get("/console/settings").status_code == 200
    for section in SECTIONS:
        page = console.get(f"/console/settings/{section}")
        assert page.status_code == 200, section
        assert f'data-section="{section}" aria-current="page"' in page.text
    assert console.get("/console/settings/nothing").status_code == 404


@pytest.mark.parametrize("role", ["cs", "warehouse", "finance"])
def test_other_roles_are_refused_every_section_and_form(
    console: Console, box: Container, role: str
) -> None:
    console.as_(role)
    before = snapshot(box)
    assert console.get("/console/settings").status_code == 403
    for section in SECTIONS:
        assert console.get(f"/console/settings/{section}").status_code == 403
    form = {"code": "late_delivery", "label_zh": "迟发货", "label_en": "Late", "active": "1"}
    assert console.post("/console/settings/reasons", form).status_code == 403
    assert console.post("/console/settings/sla", {"rows": "0"}).status_code == 403
    assert snapshot(box) == before


def test_the_sla_table_is_saved_as_edited_and_audited(
    console: Console, api: Api, box: Container
) -> None:
    form = _sla_form(api)
    count = int(form["rows"]) - 1
    new = count
    form.update({f"step_{new}": "review", f"minutes_{new}": "90", f"channel_{new}": "douyin"})
    form["delete_0"] = "1"
    saved = console.as_("manager").post("/console/settings/sla", form)
    assert saved.status_code == 303, saved.text
    rules = api.as_("manager").get("/api/v1/sla-rules").json()
    assert len(rules) == count  # one removed, one added
    assert any(r["channel"] == "douyin" and r["minutes"] == 90 for r in rules)
    assert _audit(box, "sla.rules_replaced")[-1][0] == "staff:user:2"


def test_a_bad_sla_row_is_refused_with_its_row_and_field_and_nothing_changes(
    console: Console, api: Api, box: Container
) -> None:
    form = _sla_form(api)
    form["minutes_1"] = "soon"
    console.as_("manager")
    before = snapshot(box)
    refused = console.post("/console/settings/sla", form)
    assert refused.status_code == 422
    assert "rule 2 · minutes" in text_of(refused.text)
    form["minutes_1"] = "60"
    form["remind_at_1"] = "2"
    refused = console.post("/console/settings/sla", form)
    assert refused.status_code == 422 and "remind_at" in text_of(refused.text)
    assert snapshot(box) == before


def test_reason_codes_and_root_cause_tags_are_added_changed_and_audited(
    console: Console, api: Api, box: Container
) -> None:
    console.as_("manager")
    form = {"code": "late_delivery", "label_zh": "发货太慢", "label_en": "Late", "active": "1"}
    assert console.post("/console/settings/reasons", form).status_code == 303
    codes = {r["code"]: r for r in api.as_("manager").get("/api/v1/reason-codes").json()}
    assert codes["late_delivery"]["label_zh"] == "发货太慢" and codes["late_delivery"]["active"]
    off = {**form, "label_en": "Shipped late"}
    del off["active"]
    assert console.post("/console/settings/reasons", off).status_code == 303
    codes = {r["code"]: r for r in api.as_("manager").get("/api/v1/reason-codes").json()}
    assert codes["late_delivery"]["active"] is False
    assert [row[1] for row in _audit(box, "reason_code.put")] == ["reason:late_delivery"] * 2

    tag = {"code": "packaging", "label_zh": "包装破损", "label_en": "Packaging", "active": "1"}
    assert console.post("/console/settings/root-causes", tag).status_code == 303
    assert "包装破损" in console.get("/console/settings/root-causes").text
    assert _audit(box, "root_cause.put")[-1][1] == "root_cause:packaging"


@pytest.mark.parametrize(
    ("section", "form", "message"),
    [
        ("reasons", {"code": "Bad Code", "label_zh": "x", "label_en": "x"}, "code"),
        ("reasons", {"code": "late", "label_zh": "", "label_en": "x"}, "label_zh"),
        ("root-causes", {"code": "packaging", "label_zh": "x", "label_en": "y" * 101}, "label_en"),
    ],
)
def test_bad_codes_and_labels_are_refused_and_nothing_changes(
    console: Console, box: Container, section: str, form: dict[str, str], message: str
) -> None:
    console.as_("manager")
    before = snapshot(box)
    refused = console.post(f"/console/settings/{section}", form)
    assert refused.status_code == 422
    assert message in text_of(refused.text)
    assert snapshot(box) == before


def test_a_template_is_previewed_on_sample_data_saved_audited_and_reset(
    console: Console, box: Container
) -> None:
    console.as_("manager")
    page = console.get("/console/settings/templates?notice=refunded&language=zh-CN")
    assert page.status_code == 200 and 'id="template-form"' in page.text
    form = {
        "notice": "refunded",
        "language": "zh-CN",
        "subject": "退款 {{ request.number }} 已到账",
        "text": "您好 {{ customer.name }}，退款已完成。",
        "html": "<p>退款已完成</p>",
        "short": "退款已完成",
        "sms_params": "",
    }
    before = snapshot(box)
    preview = console.post(
        "/console/settings/templates/preview", form, headers={"HX-Request": "true"}
    )
    assert preview.status_code == 200, preview.text
    assert 'data-channel="email"' in preview.text and "已到账" in preview.text
    assert "{{" not in preview.text  # rendered, with the sample request's number
    assert snapshot(box) == before  # a preview saves nothing

    assert console.post("/console/settings/templates", form).status_code == 303
    saved = console.get("/console/settings/templates?notice=refunded&language=zh-CN")
    assert "已到账" in saved.text and "已修改" in saved.text
    assert _audit(box, "template.changed")[-1][1] == "template:refunded/zh-CN"
    reset = console.post("/console/settings/templates", {**form, "reset": "1"})
    assert reset.status_code == 303
    assert _audit(box, "template.reset")[-1][1] == "template:refunded/zh-CN"


def test_a_template_that_does_not_render_is_refused_and_nothing_changes(
    console: Console, box: Container
) -> None:
    console.as_("manager")
    before = snapshot(box)
    form = {
        "notice": "refunded",
        "language": "en",
        "subject": "Refund {{ request.nope.deeper }}",
        "text": "{% if %}",
        "html": "",
        "short": "",
    }
    refused = console.post("/console/settings/templates", form)
    assert refused.status_code == 422
    assert "subject" in text_of(refused.text)
    assert "request.nope.deeper" in refused.text  # what was typed is kept
    preview = console.post(
        "/console/settings/templates/preview", form, headers={"HX-Request": "true"}
    )
    assert preview.status_code == 422 and 'id="preview-error"' in preview.text
    unknown = console.post("/console/settings/templates", {**form, "notice": "nothing"})
    assert unknown.status_code == 404
    assert snapshot(box) == before


def test_admins_add_users_change_their_role_and_disable_them(
    console: Console, box: Container
) -> None:
    console.as_("admin")
    form = {"email": "new.cs@shop.example.cn", "name": "小刘", "role": "cs"}
    added = console.post("/console/settings/users", {**form, "password": "long-enough-1"})
    assert added.status_code == 303, added.text
    page = console.get("/console/settings/users")
    assert 'data-user="new.cs@shop.example.cn"' in page.text
    user_id = _audit(box, "user.added")[-1][1].split(":")[1]
    assert _audit(box, "user.added")[-1][0] == "staff:user:1"
    path = f"/console/settings/users/{user_id}"
    assert console.post(path, {"role": "finance"}).status_code == 303
    assert console.post(path, {"do": "disable"}).status_code == 303
    with box.engine.connect() as conn:
        role, active = conn.execute(
            text("SELECT role, active FROM users WHERE id = :id"), {"id": int(user_id)}
        ).one()
    assert (role, bool(active)) == ("finance", False)
    assert len(_audit(box, "user.changed")) == 2


def test_bad_users_are_refused_and_managers_only_see_the_list(
    console: Console, box: Container
) -> None:
    console.as_("admin")
    before = snapshot(box)
    short = {"email": "x@shop.example.cn", "role": "cs", "password": "short"}
    refused = console.post("/console/settings/users", short)
    assert refused.status_code == 422 and "10 characters" in refused.text
    bad_role = {"email": "x@shop.example.cn", "role": "king", "password": "long-enough-1"}
    assert console.post("/console/settings/users", bad_role).status_code == 422
    assert snapshot(box) == before

    console.as_("manager")
    page = console.get("/console/settings/users")
    assert page.status_code == 200
    assert 'data-user="cs@shop.example.cn"' in page.text and 'id="add-user"' not in page.text
    before = snapshot(box)
    good = {"email": "y@shop.example.cn", "role": "cs", "password": "long-enough-1"}
    assert console.post("/console/settings/users", good).status_code == 403
    assert console.post("/console/settings/users/3", {"role": "admin"}).status_code == 403
    assert snapshot(box) == before


def test_the_shops_own_days_are_saved_and_a_year_without_official_holidays_is_warned(
    console: Console, api: Api, box: Container
) -> None:
    console.as_("manager")
    page = console.get("/console/settings/calendar")
    assert 'data-missing-year="2027"' in page.text  # announced years are not warned about
    assert 'data-missing-year="2026"' not in page.text
    form = {
        "rows": "3",
        "day_0": "2027-02-06",
        "kind_0": "holiday",
        "name_0": "春节",
        "day_1": "2027-02-14",
        "kind_1": "workday",
        "name_1": "调休",
        "day_2": "",
    }
    assert console.post("/console/settings/calendar", form).status_code == 303
    days = api.as_("manager").get("/api/v1/calendar/days").json()
    assert [(d["day"], d["kind"]) for d in days] == [
        ("2027-02-06", "holiday"),
        ("2027-02-14", "workday"),
    ]
    assert _audit(box, "calendar.replaced")[-1][0] == "staff:user:2"

    before = snapshot(box)
    twice = {**form, "day_1": "2027-02-06"}
    refused = console.post("/console/settings/calendar", twice)
    assert refused.status_code == 422 and "listed twice" in refused.text
    not_a_day = {**form, "day_1": "Feb 14"}
    refused = console.post("/console/settings/calendar", not_a_day)
    assert refused.status_code == 422 and "day 2 · day" in text_of(refused.text)
    assert snapshot(box) == before
    removed = {**form, "delete_1": "1"}
    assert console.post("/console/settings/calendar", removed).status_code == 303
    assert len(api.as_("manager").get("/api/v1/calendar/days").json()) == 1
