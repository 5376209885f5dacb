"""The no-code policy editor: the published version and the draft (its rules are edited in
``rule_pages``), the trust quotas, the draft simulated on stored history and published.
Every change goes through the same use cases as ``/api/v1/policies`` (``services.policies``,
``services.simulation``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from refundflow.domain.errors import InvalidInputError
from refundflow.entrypoints.web.console.access import read_form, settings_editor
from refundflow.entrypoints.web.console.policy_draft import (
    form_int,
    problems_of,
    save_draft,
    seen_of,
    unchanged_since,
)
from refundflow.entrypoints.web.console.render import guarded, page
from refundflow.entrypoints.web.deps import Caller, run
from refundflow.entrypoints.web.i18n import language, translate
from refundflow.policy.document import TIERS
from refundflow.policy.facts import FACTS
from refundflow.services import policies, simulation

router = APIRouter(include_in_schema=False)
HOME = "/console/policy"


def _condition_text(condition: dict[str, Any], lang: str) -> str:
    spec = FACTS.get(condition["fact"])
    label = (spec.label_zh if lang == "zh-CN" else spec.label_en) if spec else condition["fact"]
    value = condition["value"]
    shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return f"{label} {condition['operator']} {shown}"


def _overview(caller: Caller, lang: str) -> dict[str, Any]:
    uows, actor = caller.box.uows, caller.actor
    draft = policies.get_draft(uows, actor)
    versions = policies.list_versions(uows, actor)
    published_row = next((v for v in versions if v["status"] == "published"), None)
    published = (
        policies.get_version(uows, actor, published_row["version"]) if published_row else None
    )
    return {
        "draft": draft,
        "published": published,
        "versions": versions[:10],
        "draft_text": policies.draft_text(uows, actor, lang),
        **_differences(draft, published),
    }


def _differences(draft: dict[str, Any], published: dict[str, Any] | None) -> dict[str, Any]:
    """How the draft differs from the published version: each draft rule new, changed or
    moved (by id), and the published rules the draft no longer has."""
    old_rules = published["rules"] if published else []
    before = {rule["id"]: (i, rule) for i, rule in enumerate(old_rules)}
    marks = []
    for i, rule in enumerate(draft["rules"]):
        old = before.get(rule["id"])
        if old is None:
            marks.append("new")
        elif old[1] != rule:
            marks.append("changed")
        else:
            marks.append("moved" if old[0] != i else "")
    kept = {rule["id"] for rule in draft["rules"]}
    removed = [rule for rule in old_rules if rule["id"] not in kept]
    return {"marks": marks, "removed": removed}


def _period(caller: Caller) -> tuple[str, str]:
    today = caller.box.uows.clock().astimezone(caller.box.settings.tz).date()
    return (today - timedelta(days=30)).isoformat(), (today + timedelta(days=1)).isoformat()


async def policy_page(
    request: Request,
    caller: Caller,
    *,
    problems: list[dict[str, str]] | None = None,
    status: int = 200,
    flash: str | None = None,
) -> Response:
    lang = language(request)
    context = await run(caller.box, _overview, caller, lang)
    start, end = _period(caller)
    return await page(
        request,
        "console/policy.html",
        {
            **context,
            "problems": problems or [],
            "flash": translate(flash, lang) if flash else None,
            "sim_from": start,
            "sim_to": end,
            "sim_minutes": caller.box.settings.minutes_per_review,
            "when": lambda c: _condition_text(c, lang),
            "tiers": TIERS,
        },
        status,
        caller.actor,
    )


@router.get(HOME, response_class=HTMLResponse)
async def policy(request: Request) -> Response:
    async def body() -> Response:
        caller = settings_editor(request)
        params = request.query_params
        flash = None
        if params.get("saved"):
            flash = "c_draft_saved"
        elif params.get("published", "").isdigit():
            flash = "c_published_now"
        return await policy_page(request, caller, flash=flash)

    return await guarded(request, body)


@router.post(HOME + "/trust-quota")
async def trust_quota(request: Request) -> Response:
    """The money each customer tier may have approved by the policy over 30 days (the
    ``trust_quota_left`` fact); a tier left empty has none."""

    async def body() -> Response:
        form = await read_form(request)
        caller = settings_editor(request)
        quota = {}
        for tier in TIERS:
            value = form.get(f"quota_{tier}")
            if isinstance(value, str) and value.strip():
                quota[tier] = value.strip()
        try:
            await run(
                caller.box,
                save_draft,
                caller,
                form_int(form),
                lambda rules: None,
                quota,
                seen=seen_of(form),
            )
        except InvalidInputError as exc:
            return await policy_page(request, caller, problems=problems_of(exc), status=422)
        return RedirectResponse(f"{HOME}?saved=1", status_code=303)

    return await guarded(request, body)


def _day(value: Any, field: str) -> date:
    try:
        return date.fromisoformat(value if isinstance(value, str) else "")
    except ValueError:
        raise InvalidInputError(f"{field}: a date such as 2026-11-01") from None


def _minutes(value: Any, default: int) -> int:
    """Minutes a person spends on one review (for the hours saved), 1–600 like the API."""
    if value is None or value == "":
        return default
    if not isinstance(value, str) or not value.isdigit() or not 1 <= int(value) <= 600:
        raise InvalidInputError("minutes per review: a whole number from 1 to 600")
    return int(value)


@router.post(HOME + "/simulate", response_class=HTMLResponse)
async def simulate(request: Request) -> Response:
    """Re-decide the stored requests of a period under the saved draft (htmx: the result
    alone; a plain post: the whole page with it)."""

    async def body() -> Response:
        form = await read_form(request)
        caller = settings_editor(request)
        partial = request.headers.get("hx-request") == "true"
        context: dict[str, Any] = {"result": None, "error": None}
        status = 200
        try:
            tz = caller.box.settings.tz
            start = datetime.combine(_day(form.get("from"), "from"), time(), tz).astimezone(UTC)
            end = datetime.combine(_day(form.get("to"), "to"), time(), tz).astimezone(UTC)
            minutes = _minutes(form.get("minutes"), caller.box.settings.minutes_per_review)
            draft = await run(caller.box, policies.get_draft, caller.box.uows, caller.actor)
            if draft["updated_at"] is None:
                raise InvalidInputError("save the draft first: only a saved draft is simulated")
            context["result"] = await run(
                caller.box,
                simulation.simulate,
                caller.box.uows,
                caller.actor,
                draft["version"],
                start,
                end,
                minutes_per_review=minutes,
            )
        except InvalidInputError as exc:
            context["error"] = exc.message
            status = 422
        if partial:
            return await page(
                request, "console/partials/simulation.html", context, status, caller.actor
            )
        lang = language(request)
        overview = await run(caller.box, _overview, caller, lang)
        return await page(
            request,
            "console/policy.html",
            {
                **overview,
                "problems": [],
                "simulation": context,
                "sim_from": form.get("from"),
                "sim_to": form.get("to"),
                "sim_minutes": form.get("minutes"),
                "when": lambda c: _condition_text(c, lang),
                "tiers": TIERS,
            },
            status,
            caller.actor,
        )

    return await guarded(request, body)


@router.post(HOME + "/publish")
async def publish(request: Request) -> Response:
    async def body() -> Response:
        form = await read_form(request)
        caller = settings_editor(request)
        draft = await run(caller.box, policies.get_draft, caller.box.uows, caller.actor)
        unchanged_since(draft, seen_of(form))  # publish what was looked at
        published = await run(caller.box, policies.publish_draft, caller.box.uows, caller.actor)
        return RedirectResponse(f"{HOME}?published={published['version']}", status_code=303)

    return await guarded(request, body)
